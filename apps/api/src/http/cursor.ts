// Opaque cursors for {items, next_cursor} collections: a page's last position, as base64url JSON. A cursor that does
// not decode to the shape the collection expects is the client's error (422 naming `cursor`), never a 500.
import { ValidationFailed } from '../errors/domain-errors';

export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** Decodes a cursor whose keys are all strings, as `keys` names them. */
export function decodeCursor<K extends string>(cursor: string, keys: readonly K[]): Record<K, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok =
    !!parsed &&
    typeof parsed === 'object' &&
    keys.every((k) => typeof (parsed as Record<string, unknown>)[k] === 'string');
  if (!ok) throw ValidationFailed.field('query', 'cursor', '"cursor" is not a cursor this collection gave out');
  return parsed as Record<K, string>;
}
