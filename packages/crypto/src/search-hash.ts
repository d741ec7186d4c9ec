// Keyed hashes of values stored encrypted, so that an exact-match lookup (an inbound SMS's sender number) can use an
// index without decrypting every row. Keyed (HMAC-SHA256 under SEARCH_HASH_KEY), not a bare SHA-256: phone numbers
// are few enough to enumerate, so an unkeyed hash of one would be as good as its plaintext to whoever reads the table.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { getConfig } from '@nudge/config';

// The key as a KeyObject, made once per key: given as a string, createHmac imports it again at every hash (an import
// hashes two numbers a row).
let keyObject: { key: string; object: KeyObject } | undefined;

/** The hex HMAC-SHA256 of a value under the search-hash key (SEARCH_HASH_KEY unless given). */
export function searchHash(value: string, key: string = getConfig().searchHashKey): string {
  if (!key) throw new Error('SEARCH_HASH_KEY is not set');
  if (keyObject?.key !== key) keyObject = { key, object: createSecretKey(key, 'utf8') };
  return createHmac('sha256', keyObject.object).update(value, 'utf8').digest('hex');
}
