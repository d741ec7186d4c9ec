// Keyset paging for the newer collections ({items, next_cursor}): newest first by (created_at, id), with an opaque
// cursor naming the last row served. The cursor carries PostgreSQL's own text of the timestamp, so no microseconds
// are lost in a round trip through a JavaScript Date (rows created within one millisecond are neither skipped nor
// served twice).
import type { Knex } from 'knex';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

interface CursorKey {
  at: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.at, key.id]), 'utf8').toString('base64url');
}

/** The key a cursor names, or undefined when it is not one this API wrote. */
export function decodeCursor(cursor: string): CursorKey | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
    const [at, id] = parsed as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string' || !PG_TIMESTAMP.test(at) || !UUID.test(id)) return undefined;
    return { at, id };
  } catch {
    return undefined;
  }
}

/**
 * One page of `query` (already filtered and scoped), newest first. `table` qualifies the key columns when the query
 * joins. A cursor that does not decode is treated by the caller's validation, never here.
 */
export async function pageNewestFirst<T extends { id: string }>(
  query: Knex.QueryBuilder,
  page: PageRequest,
  table: string,
): Promise<Page<T>> {
  const key = page.cursor ? decodeCursor(page.cursor) : undefined;
  const q = query
    .select(query.client.raw(`??::text AS "__cursor_at"`, [`${table}.created_at`]))
    .orderBy([
      { column: `${table}.created_at`, order: 'desc' },
      { column: `${table}.id`, order: 'desc' },
    ])
    .limit(page.limit + 1);
  if (key) q.whereRaw(`(??, ??) < (?::timestamptz, ?::uuid)`, [`${table}.created_at`, `${table}.id`, key.at, key.id]);
  const rows = (await q) as (T & { __cursor_at: string })[];
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map(({ __cursor_at: _at, ...row }) => row as unknown as T),
    next_cursor: more && last ? encodeCursor({ at: last.__cursor_at, id: last.id }) : null,
  };
}
