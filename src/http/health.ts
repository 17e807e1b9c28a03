// `GET /api/health`: whether Redis and storage both answer. Monitors call it every few seconds, whatever Host they
// send, so it is answered before the portal context.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { backendOf, reasonOf, type Outages } from '../observability/outages.js';
import { PortalError } from '../web/errors.js';
import { ok } from '../web/replies.js';

export interface HealthDependencies {
  /** Resolves when Redis and storage both answer; rejects otherwise (with the failing backend's error). */
  healthCheck: () => Promise<void>;
  /** Told of each 503 owed to Redis or storage: it logs the outage once and counts (absent: logged per request). */
  outages?: Pick<Outages, 'answered503'>;
  logger: Logger;
}

export function healthHandler(deps: HealthDependencies) {
  return async function health(_req: Request, res: Response): Promise<void> {
    try {
      await deps.healthCheck();
      ok(res);
    } catch (error) {
      // An outage is told once by `outages`, not once per call.
      const backend = deps.outages ? backendOf(error) : undefined;
      if (backend !== undefined) deps.outages!.answered503(backend, error);
      else deps.logger.warn({ reason: reasonOf(error) }, 'health check failed');
      throw new PortalError(503, 'Redis or storage cannot be reached.');
    }
  };
}
