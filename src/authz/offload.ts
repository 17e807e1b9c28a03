// The front worker's handler answers what needs no I/O and hands the rest on (docs/design/authz-isolate.md): this is
// the shape of that hand-over, kept apart so the handler names it without loading the forwarding hop.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers `req` elsewhere (the main thread's server); nothing has been written to `res` when it is called. */
export type Offload = (req: IncomingMessage, res: ServerResponse) => void;
