// The opaque cursor of the `{items, next_cursor}` collections: a keyset position (created_at, id), so a page never
// repeats or skips a row when rows are added meanwhile. Opaque to clients: its encoding may change. The position
// carries created_at to the microsecond as PostgreSQL wrote it, so rows created within one millisecond are neither
// skipped nor served twice.
import type { Knex } from 'knex';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}
export interface KeysetPosition {
  /** The row's created_at to the microsecond, as PostgreSQL wrote it (a JS Date would drop the microseconds). */
  at: string;
  id: string;
}

/** The select expression of a KeysetPosition's `at` for a table's created_at. */
export const CURSOR_AT_SQL = (table: string) =>
  `to_char(${table}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(p: KeysetPosition): string {
  return Buffer.from(JSON.stringify([p.at, p.id])).toString('base64url');
}

/** The position a cursor names, or undefined for anything this API did not hand out. */
export function decodeCursor(cursor: string): KeysetPosition | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') return undefined;
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(v[0]) || Number.isNaN(Date.parse(v[0]))) return undefined;
    if (!UUID.test(v[1])) return undefined;
    return { at: v[0], id: v[1] };
  } catch {
    return undefined;
  }
}

/** The cursor of the page after `rows`, or null when this page was the last (shorter than the limit). */
export function nextCursorOf(rows: readonly KeysetPosition[], limit: number): string | null {
  const last = rows[rows.length - 1];
  return rows.length === limit && last ? encodeCursor(last) : null;
}

/**
 * One page of `query` (already filtered and scoped), newest first by (created_at, id). `table` qualifies the key
 * columns when the query joins. A cursor that does not decode is the caller's validation's to refuse, never here.
 */
export async function pageNewestFirst<T extends { id: string }>(
  query: Knex.QueryBuilder,
  page: PageRequest,
  table: string,
): Promise<Page<T>> {
  const key = page.cursor ? decodeCursor(page.cursor) : undefined;
  const q = query
    .select(query.client.raw(CURSOR_AT_SQL(table)))
    .orderBy([
      { column: `${table}.created_at`, order: 'desc' },
      { column: `${table}.id`, order: 'desc' },
    ])
    .limit(page.limit + 1);
  if (key) q.whereRaw(`(??, ??) < (?::timestamptz, ?::uuid)`, [`${table}.created_at`, `${table}.id`, key.at, key.id]);
  const rows = (await q) as (T & { cursor_at: string })[];
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map(({ cursor_at: _at, ...row }) => row as unknown as T),
    next_cursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}
