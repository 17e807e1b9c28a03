// The portal's reply shapes: the JSON envelope of SPEC §6 and server-rendered pages. Refusals are not written here
// by handlers: they throw a PortalError (errors.ts), which the portal app's error handler renders through `ko`.
import type { Response } from 'express';

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
