// The front worker's way to the main thread (docs/design/authz-isolate.md, step 2): a request the front does not
// answer itself is sent on, as it came, to the main thread's server on a private Unix socket, with the client's
// socket address in FORWARDED_PEER_HEADER (any copy the client sent is dropped); the answer comes back as it went,
// several Set-Cookie headers included. Bodies stream both ways. When the main thread cannot be reached, the client
// gets a short 502, never a pass and never a stack trace.
import { Agent, type IncomingMessage, type OutgoingHttpHeaders, request, type ServerResponse } from 'node:http';
import { FORWARDED_PEER_HEADER } from '../authz/peer.js';

/**
 * Headers about one connection (RFC 9110 §7.6.1), not the request: each hop sets its own. Headers a client names in
 * `Connection` are passed on all the same, on purpose: honouring that list would let a client strip headers such as
 * X-Forwarded-For or Cookie from what the main thread sees.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const UNREACHABLE = 'Gatehouse cannot answer this request right now.\n';
/**
 * A forwarded request unanswered for this long (the main thread blocked or wedged) is answered 504 and dropped:
 * longer than the main server's own 30 s request timeout, so a request it is still reading gets its answer first.
 */
const FORWARD_TIMEOUT_MS = 35_000;
const MALFORMED = 'Bad Request\n';

function answerText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export interface Forwarder {
  forward(req: IncomingMessage, res: ServerResponse): void;
  /** Closes the kept connections to the main thread. */
  close(): void;
}

/** Forwards to the HTTP server listening on `socketPath`; `onError` hears of each failed forward (for the log). */
export function createForwarder(socketPath: string, onError: (error: Error) => void = () => {}): Forwarder {
  const agent = new Agent({ keepAlive: true });
  return {
    forward(req, res) {
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(req.headers)) {
        // The connection's own headers stay here; the client's word for its address is never passed on.
        if (value === undefined || HOP_BY_HOP.has(name) || name === FORWARDED_PEER_HEADER) continue;
        headers[name] = value;
      }
      const peer = req.socket.remoteAddress;
      if (peer === undefined) {
        // The client's socket is already gone: nobody to answer, and nothing the main thread should see.
        req.resume();
        res.destroy();
        return;
      }
      headers[FORWARDED_PEER_HEADER] = peer;
      // node:http has already decoded a chunked body (it accepts chunked only as the last coding). Sent on, the body
      // must be framed again: node's client chunks by default only for methods that usually carry a body, and an
      // unframed body on a kept-alive connection would be read by the main thread as a request of its own, with a
      // peer header of the client's choosing.
      if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
      let clientGone = false;
      let upstream: ReturnType<typeof request>;
      try {
        upstream = request({ socketPath, agent, method: req.method, path: req.url, headers }, (answer) => {
          const raw: string[] = [];
          for (let i = 0; i < answer.rawHeaders.length; i += 2) {
            const name = answer.rawHeaders[i]!;
            if (!HOP_BY_HOP.has(name.toLowerCase())) raw.push(name, answer.rawHeaders[i + 1]!);
          }
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, raw);
          answer.pipe(res);
          answer.on('error', () => res.destroy());
        });
      } catch {
        // A request line node's client refuses to send (a path it finds unescaped): not the main thread's fault.
        req.resume();
        answerText(res, 400, MALFORMED);
        return;
      }
      upstream.setTimeout(FORWARD_TIMEOUT_MS, () => {
        if (!res.headersSent) answerText(res, 504, UNREACHABLE);
        else res.destroy();
        clientGone = true; // answered here: the error the destroy raises is not news
        upstream.destroy();
      });
      upstream.on('error', (error) => {
        // The client's going away ended it (below): nothing to report, nobody to answer.
        if (clientGone) return;
        onError(error);
        if (!res.headersSent) answerText(res, 502, UNREACHABLE);
        else res.destroy();
      });
      // A client that goes away takes its forwarded request with it.
      res.on('close', () => {
        if (res.writableFinished) return;
        clientGone = true;
        upstream.destroy();
      });
      req.pipe(upstream);
    },
    close() {
      agent.destroy();
    },
  };
}
