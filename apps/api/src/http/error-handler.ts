// The one place errors become HTTP answers. Nothing a client sends may produce a 500, and a 500 never shows
// internal text.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@nudge/logger';
import { HttpError, NotFound, PayloadTooLarge, ServiceUnavailable, ValidationFailed } from './errors';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/** Maps PostgreSQL errors that a client's input can cause to 4xx answers. */
function fromPostgres(err: Error & { code?: string; constraint?: string; column?: string }): HttpError | undefined {
  switch (err.code) {
    case '22P02': // invalid_text_representation (a malformed uuid, say)
    case '22007': // invalid_datetime_format
    case '22008': // datetime_field_overflow
    case '22003': // numeric_value_out_of_range
    case '22001': // string_data_right_truncation
      return new ValidationFailed([{ loc: ['body'], msg: 'Invalid value', type: 'any.invalid' }]);
    case '23505':
      return new HttpError(409, 'CONFLICT', 'Conflict');
    case '23503':
      return new HttpError(409, 'CONFLICT', 'A referenced row does not exist or is still in use');
    default:
      return undefined;
  }
}

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (!(err instanceof Error)) return undefined;
  // The bcrypt pool is full: shed load rather than queue logins without bound.
  if (err.name === 'HashPoolBusyError') return new ServiceUnavailable('Too many password operations in progress, retry shortly');
  const bp = err as BodyParserError;
  switch (bp.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'MALFORMED_JSON', 'Malformed JSON body');
    case 'entity.too.large':
      return new PayloadTooLarge();
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported content encoding');
    case 'request.aborted':
      return new HttpError(400, 'REQUEST_ABORTED', 'Request aborted');
    default:
      break;
  }
  return fromPostgres(err);
}

export function notFoundHandler(): RequestHandler {
  return () => {
    throw new NotFound();
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const http = toHttpError(err);
    const requestId = req.id;
    if (http) {
      if (http.status >= 500) logger.error(`${req.method} ${req.path} failed`, { requestId, err });
      else logger.info(`${req.method} ${req.path} answered ${http.status} ${http.code}`, { requestId, reason: err instanceof Error ? err.message : undefined });
      if (!res.headersSent) res.status(http.status).set(http.headers).json({ detail: http.detail, code: http.code });
      return;
    }
    logger.error(`${req.method} ${req.path} failed`, { requestId, err });
    if (!res.headersSent) res.status(500).json({ detail: 'Internal Server Error', code: 'INTERNAL_ERROR' });
  };
}
