// PostgreSQL's constraint errors as typed classes, translated once here (by the Knex client in pg-client.ts) so that
// services ask "which unique constraint?" instead of comparing SQLSTATE strings, and no app knows PostgreSQL's codes.
import pg from 'pg';

/** A query PostgreSQL refused for a reason a caller's input can cause. `cause` is the driver's original error. */
export abstract class DbConstraintError extends Error {
  /** The SQLSTATE, kept so logs (and code that predates these classes) still see what PostgreSQL said. */
  readonly code: string;
  readonly table: string | undefined;
  readonly constraint: string | undefined;

  constructor(err: pg.DatabaseError) {
    super(err.message, { cause: err });
    this.name = new.target.name;
    this.code = err.code ?? '';
    this.table = err.table;
    this.constraint = err.constraint;
  }
}

/** 23505: a row with the same key exists. `constraint` names the unique index or constraint that decided. */
export class UniqueViolation extends DbConstraintError {}

/** 23503: the row references one that does not exist, or is referenced by one that still does. */
export class ForeignKeyViolation extends DbConstraintError {}

/** 22xxx: a value PostgreSQL cannot store in the column (a malformed uuid, an impossible date, too long a string). */
export class InvalidValue extends DbConstraintError {}

const INVALID_VALUE_CODES = new Set([
  '22P02', // invalid_text_representation
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '22003', // numeric_value_out_of_range
  '22001', // string_data_right_truncation
]);

/** The typed error for a driver error this package translates; any other value is returned unchanged. */
export function translateDbError(err: unknown): unknown {
  if (!(err instanceof pg.DatabaseError)) return err;
  if (err.code === '23505') return new UniqueViolation(err);
  if (err.code === '23503') return new ForeignKeyViolation(err);
  if (err.code && INVALID_VALUE_CODES.has(err.code)) return new InvalidValue(err);
  return err;
}

// SQLSTATEs that mean the server cannot serve this query now, not that the query was wrong: a statement cancelled by
// statement_timeout, a server shutting down or starting, too many connections, a broken connection.
const UNAVAILABLE_CODES = new Set([
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
// Socket errors of a connection attempt or a connection lost mid-query.
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

/**
 * Whether an error means PostgreSQL is unreachable or overloaded rather than that the query was wrong: Knex's
 * acquire timeout (no connection within DB_ACQUIRE_TIMEOUT_MS), a refused or lost connection, a statement cancelled
 * by statement_timeout. Callers answer 503 and let the client retry.
 */
export function isDbUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'KnexTimeoutError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code))) return true;
  // pg reports a connection that ended or timed out while connecting with these messages and no code; Knex puts the
  // query before pg's message ("select … - Connection terminated unexpectedly"), as when PostgreSQL restarts.
  return /(?:^| - )(?:Connection terminated|timeout expired)/.test(err.message);
}
