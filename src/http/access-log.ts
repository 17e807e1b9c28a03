// One line per portal request at debug: request ID, method, path, status, duration. The query string is left out
// (redirect targets and one-time tokens travel there), and so are all headers.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

export function accessLog(logger: Logger) {
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    if (!logger.isLevelEnabled('debug')) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.debug(
        {
          requestId: res.getHeader('X-Request-Id'),
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'portal request',
      );
    });
    next();
  };
}
