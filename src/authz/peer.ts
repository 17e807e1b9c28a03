// The address a request came from, before X-Forwarded-For is weighed (target.ts `clientAddress`). Normally the
// socket's peer. On the private listener that the front worker forwards to (docs/design/authz-isolate.md), every
// connection is the front's own, so the front names its peer in FORWARDED_PEER_HEADER and that listener accepts the
// header (`acceptForwarded`); anywhere else the header is never read.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Set by the front on every request it forwards, replacing any copy the client sent. */
export const FORWARDED_PEER_HEADER = 'x-gatehouse-peer';

const forwardedPeers = new WeakMap<IncomingMessage, string>();

/**
 * On the private listener only: takes the front's word for the peer of `req` and removes the header from
 * `req.headers` (what every reader uses; `req.rawHeaders` keeps it, and nothing reads those). false when the header
 * is missing or not one IP address (the caller refuses the request: it did not come from the front).
 */
export function acceptForwarded(req: IncomingMessage): boolean {
  const given = req.headers[FORWARDED_PEER_HEADER];
  delete req.headers[FORWARDED_PEER_HEADER];
  if (typeof given !== 'string' || isIP(given) === 0) return false;
  forwardedPeers.set(req, given);
  return true;
}

/** The peer `req` came from: the front's word when the private listener accepted it, else the socket's. */
export function peerAddressOf(req: IncomingMessage): string | undefined {
  return forwardedPeers.get(req) ?? req.socket.remoteAddress;
}
