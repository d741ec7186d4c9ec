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
