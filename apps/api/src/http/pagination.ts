// Cursor pagination of the collections newer than Birthday Buddy: `{items, next_cursor}`, `limit` 1–200 (50), and a
// cursor that is opaque to clients (base64url JSON of where the next page starts), so its contents can change.
import Joi from 'joi';
import { ValidationFailed } from '../errors/domain-errors';

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;

/** The query keys of a page: spread into a route's query schema. */
export const pageQuery = {
  limit: Joi.number().integer().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
  cursor: Joi.string().max(1024),
};

/** `{items, next_cursor}` around an item schema. */
export const pageOf = (item: Joi.Schema) =>
  Joi.object({ items: Joi.array().items(item).required(), next_cursor: Joi.string().allow(null).required() });

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(position: object): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * The position a cursor holds, when it has the given string keys; anything else (edited, truncated, from another
 * collection) is a 422 on `cursor`.
 */
export function decodeCursor<K extends string>(
  cursor: string | undefined,
  keys: readonly K[],
): Record<K, string> | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const ok =
    !!value &&
    typeof value === 'object' &&
    keys.every((k) => typeof (value as Record<string, unknown>)[k] === 'string') &&
    Object.keys(value).length === keys.length &&
    (!('id' in value) || UUID.test((value as { id: string }).id));
  if (!ok) throw ValidationFailed.field('query', 'cursor', '"cursor" is not a cursor this listing gave');
  return value as Record<K, string>;
}
