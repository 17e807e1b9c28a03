// How V8's heap is tuned for a Gatehouse replica (issue 10: under 150 MB resident under load).
//
// SHIPPED_NODE_FLAGS are given on node's command line wherever Gatehouse ships a way to start a replica: `npm start`,
// the Docker image's ENTRYPOINT and the systemd unit (test/unit/deploy/node-flags.test.ts checks each against this
// list; the bench starts Gatehouse with it). Not the `gatehouse` command's #! line: `env -S` is missing from older
// and BusyBox systems, and a command that does not start is worse than a larger heap (NODE_OPTIONS sets them there).
// They cannot be set from inside the process: V8 sizes the young generation before any JavaScript runs.
// --max-semi-space-size=4: V8 grows the young generation to 2 x 16 MB under load; the authz path's garbage is
// short-lived, so 2 x 4 MB scavenges it just as well.
//
// RUNTIME_HEAP_FLAGS are set by `serve` itself, so they hold however node was started. V8 reads them at every full
// collection. --heap-growing-percent=50: after a full collection V8 lets the old generation grow up to 4 times what
// survived before collecting again; what reaches it under load is mostly connections and in-flight reads that died
// soon after (about 25 MB live, 105 MB before a collection with the session cache off), so 1.5 times keeps a replica
// about 40 MB smaller for a few more full collections, which are incremental and concurrent.
import { setFlagsFromString } from 'node:v8';

export const SHIPPED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

export const RUNTIME_HEAP_FLAGS: readonly string[] = ['--heap-growing-percent=50'];

/** Sets RUNTIME_HEAP_FLAGS (a V8 that no longer knows one ignores it: memory is then as without it). */
export function tuneHeap(): void {
  for (const flag of RUNTIME_HEAP_FLAGS) setFlagsFromString(flag);
}
