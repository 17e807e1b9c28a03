// The flags node is started with wherever Gatehouse ships a way to start it: `npm start`, the `gatehouse` command
// (its #! line), the Docker image's ENTRYPOINT and the systemd unit (test/unit/deploy/node-flags.test.ts checks each
// of them against this list, and the bench starts Gatehouse with it). They cannot be set from inside the process:
// V8 sizes its heap before any JavaScript runs.
//
// --max-semi-space-size=4: V8 grows the young generation to 2 x 16 MB under load; the authz path's garbage is
// short-lived, so 2 x 4 MB scavenges just as well, and a replica stays under issue 10's 150 MB resident.
export const SHIPPED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
