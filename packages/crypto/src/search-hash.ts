// Keyed hashes of values stored encrypted, so that an exact-match lookup (an inbound SMS's sender number) can use an
// index without decrypting every row. Keyed (HMAC-SHA256 under SEARCH_HASH_KEY), not a bare SHA-256: phone numbers
// are few enough to enumerate, so an unkeyed hash of one would be as good as its plaintext to whoever reads the table.
import { createHmac } from 'node:crypto';
import { getConfig } from '@nudge/config';

/** The hex HMAC-SHA256 of a value under the search-hash key (SEARCH_HASH_KEY unless given). */
export function searchHash(value: string, key: string = getConfig().searchHashKey): string {
  if (!key) throw new Error('SEARCH_HASH_KEY is not set');
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}
