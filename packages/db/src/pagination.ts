// The opaque cursor of the `{items, next_cursor}` collections: a keyset position (created_at, id), so a page never
// repeats or skips a row when rows are added meanwhile. Opaque to clients: its encoding may change.
export interface KeysetPosition {
  created_at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(p: KeysetPosition): string {
  return Buffer.from(JSON.stringify([p.created_at.toISOString(), p.id])).toString('base64url');
}

/** The position a cursor names, or undefined for anything this API did not hand out. */
export function decodeCursor(cursor: string): KeysetPosition | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') return undefined;
    const at = new Date(v[0]);
    if (Number.isNaN(at.getTime()) || !UUID.test(v[1])) return undefined;
    return { created_at: at, id: v[1] };
  } catch {
    return undefined;
  }
}

/** The cursor of the page after `rows`, or null when this page was the last (shorter than the limit). */
export function nextCursorOf(rows: readonly KeysetPosition[], limit: number): string | null {
  const last = rows[rows.length - 1];
  return rows.length === limit && last ? encodeCursor(last) : null;
}
