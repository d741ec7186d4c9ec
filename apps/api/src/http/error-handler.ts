// The one place errors become HTTP answers: each class of the error catalogue gets its status and headers here, and
// nowhere else. Nothing a client sends may produce a 500, and a 500 never shows internal text.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@nudge/logger';
import { ForeignKeyViolation, InvalidValue, UniqueViolation, isDbUnavailable } from '@nudge/db';
import {
  BadRequest,
  Conflict,
  DomainError,
  Forbidden,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  Unauthorized,
  Unavailable,
  UnsupportedMediaType,
  ValidationFailed,
} from '../errors/domain-errors';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: { detail: DomainError['detail']; code: string };
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/** Each class's status; a subclass (NoWorkspace is a Forbidden) answers as its parent. */
const STATUS: [abstract new (...args: never[]) => DomainError, number][] = [
  [BadRequest, 400],
  [Unauthorized, 401],
  [Forbidden, 403],
  [NotFound, 404],
  [MethodNotAllowed, 405],
  [Conflict, 409],
  [PayloadTooLarge, 413],
  [UnsupportedMediaType, 415],
  [ValidationFailed, 422],
  [RateLimited, 429],
  [Unavailable, 503],
];

function headersOf(err: DomainError): Record<string, string> {
  if (err instanceof Unauthorized) return { 'WWW-Authenticate': 'Bearer' };
  if (err instanceof MethodNotAllowed) return { Allow: err.allow.join(', ') };
  if (err instanceof RateLimited) return { 'Retry-After': String(err.retryAfterSeconds) };
  return {};
}

/** The answer for a catalogue error; undefined for a class the table lacks (a bug, answered as a 500). */
export function httpAnswer(err: DomainError): HttpAnswer | undefined {
  const status = STATUS.find(([cls]) => err instanceof cls)?.[1];
  if (status === undefined) return undefined;
  return { status, headers: headersOf(err), body: { detail: err.detail, code: err.code } };
}

/** Errors thrown outside the services (body parsing, the bcrypt pool, the database) as catalogue errors. */
function toDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  if (!(err instanceof Error)) return undefined;
  // The bcrypt pool is full: shed load rather than queue logins without bound.
  if (err.name === 'HashPoolBusyError')
    return new Unavailable('Too many password operations in progress, retry shortly');
  switch ((err as BodyParserError).type) {
    case 'entity.parse.failed':
      return new BadRequest('MALFORMED_JSON', 'Malformed JSON body');
    case 'entity.too.large':
      return new PayloadTooLarge();
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaType('Unsupported content encoding');
    case 'request.aborted':
      return new BadRequest('REQUEST_ABORTED', 'Request aborted');
    default:
      break;
  }
  // PostgreSQL unreachable or overloaded (no connection within the acquire timeout, a statement cancelled by
  // statement_timeout): fail fast with 503, never hang the request or answer 500.
  if (isDbUnavailable(err)) return new Unavailable('The database is unavailable, retry shortly');
  // Last resort, for a query a service did not expect to fail this way: a value PostgreSQL cannot store (a path id
  // that is no uuid) is the client's input, and a constraint lost to a concurrent write is a conflict with the
  // current state. Either way the client, not the server, can act on it, so never a 500. Services that know what a
  // constraint means (a taken email, a vanished invite) catch it first and throw their own code.
  if (err instanceof InvalidValue)
    return new ValidationFailed([{ loc: ['body'], msg: 'Invalid value', type: 'any.invalid' }]);
  if (err instanceof UniqueViolation) return new Conflict('Conflict');
  if (err instanceof ForeignKeyViolation) return new Conflict('A referenced row does not exist or is still in use');
  return undefined;
}

export function notFoundHandler(): RequestHandler {
  return () => {
    throw new NotFound();
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const domain = toDomainError(err);
    const answer = domain && httpAnswer(domain);
    const requestId = req.id;
    if (answer) {
      if (answer.status >= 500) logger.error(`${req.method} ${req.path} failed`, { requestId, err });
      else
        logger.info(`${req.method} ${req.path} answered ${answer.status} ${answer.body.code}`, {
          requestId,
          reason: err instanceof Error ? err.message : undefined,
        });
      if (!res.headersSent) res.status(answer.status).set(answer.headers).json(answer.body);
      return;
    }
    logger.error(`${req.method} ${req.path} failed`, { requestId, err });
    if (!res.headersSent) res.status(500).json({ detail: 'Internal Server Error', code: 'INTERNAL_ERROR' });
  };
}
