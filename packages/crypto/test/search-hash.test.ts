import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { getConfig } from '@nudge/config';
import { searchHash } from '@nudge/crypto';

describe('searchHash', () => {
  it('is the HMAC-SHA256 of the value under SEARCH_HASH_KEY, the same for the same value', () => {
    const want = createHmac('sha256', getConfig().searchHashKey).update('+447911123789').digest('hex');
    expect(searchHash('+447911123789')).to.equal(want);
    expect(searchHash('+447911123789')).to.equal(searchHash('+447911123789'));
  });

  it('depends on the key, so a bare hash of a guessed number does not match', () => {
    expect(searchHash('+447911123789', 'k'.repeat(32))).to.not.equal(searchHash('+447911123789'));
    expect(searchHash('+447911123789')).to.not.equal(createHmac('sha256', '').update('+447911123789').digest('hex'));
  });
});
