// Small pieces every portal route uses: the JSON reply envelope, HTML pages and the portal's client address.
import type { Request, Response } from 'express';
import { clientAddress } from '../authz/target.js';

/** `{"status":"OK","data":...}` (SPEC §6). */
export function ok(res: Response, data?: unknown, status = 200): void {
  res.status(status).json(data === undefined ? { status: 'OK' } : { status: 'OK', data });
}

/** `{"status":"KO","message":"..."}` with a fitting 4xx/5xx code: short, never a stack trace. */
export function ko(res: Response, status: number, message: string): void {
  res.status(status).json({ status: 'KO', message });
}

export function html(res: Response, status: number, page: string): void {
  res.status(status).type('html').send(page);
}

/** The visitor's address as the proxy reported it; the peer when the header is absent or garbled. */
export function requestIp(req: Request): string {
  const address = clientAddress(req.headers, req.socket.remoteAddress);
  return typeof address === 'string' ? address : (req.socket.remoteAddress ?? '');
}
