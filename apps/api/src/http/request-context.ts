// Gives every request an id (echoed as X-Request-Id) and runs the rest of the chain inside a log context, so every
// line logged while serving it carries that id.
import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { withLogContext, type Logger } from '@nudge/logger';

const SAFE_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    req.id = incoming && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
    res.set('X-Request-Id', req.id);
    withLogContext({ requestId: req.id }, next);
  };
}

/**
 * Re-enters the request's log context: body parsers resume in the socket's async context, which loses the one the
 * first middleware entered.
 */
export function rebindContext(): RequestHandler {
  return (req, _res, next) => withLogContext({ requestId: req.id }, next);
}

export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    // Below level http (debug is below it too) nothing is logged: no timer and no listener either.
    if (!logger.isLevelEnabled('http')) return next();
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.http(`${req.method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)}ms`, { requestId: req.id });
      // At debug level the whole request is logged; redaction in the logger keeps secrets out.
      if (!logger.isLevelEnabled('debug')) return;
      logger.debug('request detail', {
        requestId: req.id,
        headers: req.headers,
        body: req.body as unknown,
        query: req.query,
      });
    });
    next();
  };
}
