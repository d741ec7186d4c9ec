import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { DecryptionError, FieldCipher, getFieldCipher, type FieldContext } from '@nudge/crypto';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const at = (rowId: string, column = 'slack_webhook'): FieldContext => ({ table: 'workspaces', column, rowId });

function expectDecryptionError(fn: () => unknown, reason: DecryptionError['reason']): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).to.be.instanceOf(DecryptionError);
  expect((caught as DecryptionError).reason).to.equal(reason);
}

describe('FieldCipher', () => {
  const cipher = new FieldCipher(new Map([['v1', k1]]), 'v1');
  const url = 'https://hooks.slack.com/services/T000/B000/XXXXXXXX';

  it('decrypts what it encrypted', () => {
    const ctx = at(randomUUID());
    expect(cipher.decrypt(cipher.encrypt(url, ctx), ctx)).to.equal(url);
    expect(cipher.decrypt(cipher.encrypt('', ctx), ctx)).to.equal('');
    expect(cipher.decrypt(cipher.encrypt('☃ ünïcode', ctx), ctx)).to.equal('☃ ünïcode');
  });

  it('writes v<N>: and base64 of a 12-byte nonce, the ciphertext and a 16-byte tag, with a fresh nonce each time', () => {
    const ctx = at(randomUUID());
    const a = cipher.encrypt(url, ctx);
    expect(a).to.match(/^v1:[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(a.slice(3), 'base64')).to.have.length(12 + Buffer.byteLength(url) + 16);
    expect(a).to.not.include('hooks.slack.com');
    expect(cipher.encrypt(url, ctx)).to.not.equal(a);
    expect(cipher.keyVersion(a)).to.equal('v1');
    expect(cipher.isCurrent(a)).to.be.true;
    expect(cipher.keyVersion(url)).to.equal(null);
  });

  it('refuses a ciphertext swapped into another row', () => {
    const rowA = at(randomUUID());
    const rowB = at(randomUUID());
    const a = cipher.encrypt('https://hooks.slack.com/services/A', rowA);
    cipher.encrypt('https://hooks.slack.com/services/B', rowB);
    expectDecryptionError(() => cipher.decrypt(a, rowB), 'authentication');
  });

  it('refuses a ciphertext moved to another column of the same row', () => {
    const id = randomUUID();
    const value = cipher.encrypt(url, at(id));
    expectDecryptionError(() => cipher.decrypt(value, at(id, 'phone')), 'authentication');
  });

  it('refuses a tampered ciphertext, whichever byte is flipped', () => {
    const ctx = at(randomUUID());
    const raw = Buffer.from(cipher.encrypt(url, ctx).slice(3), 'base64');
    for (const index of [0, 12, raw.length - 1]) {
      const copy = Buffer.from(raw);
      copy[index] = (copy[index] ?? 0) ^ 0x01;
      expectDecryptionError(() => cipher.decrypt(`v1:${copy.toString('base64')}`, ctx), 'authentication');
    }
  });

  it('refuses a value under an unknown key version', () => {
    const ctx = at(randomUUID());
    const value = new FieldCipher(new Map([['v7', k2]]), 'v7').encrypt(url, ctx);
    expectDecryptionError(() => cipher.decrypt(value, ctx), 'unknown_key');
  });

  it('refuses plaintext and truncated values as malformed instead of returning null', () => {
    const ctx = at(randomUUID());
    expectDecryptionError(() => cipher.decrypt(url, ctx), 'malformed');
    expectDecryptionError(() => cipher.decrypt('v1:AAAA', ctx), 'malformed');
    expectDecryptionError(() => cipher.decrypt('v1:not base64!', ctx), 'malformed');
  });

  it('keeps decrypting v1 values after v2 becomes the active key, and encrypts new ones with v2', () => {
    const ctx = at(randomUUID());
    const old = cipher.encrypt(url, ctx);
    const rotated = new FieldCipher(
      new Map([
        ['v1', k1],
        ['v2', k2],
      ]),
      'v2',
    );
    expect(rotated.decrypt(old, ctx)).to.equal(url);
    expect(rotated.isCurrent(old)).to.be.false;
    const fresh = rotated.encrypt(url, ctx);
    expect(fresh.startsWith('v2:')).to.be.true;
    expect(rotated.isCurrent(fresh)).to.be.true;
    expectDecryptionError(() => cipher.decrypt(fresh, ctx), 'unknown_key');
  });

  it('refuses a key ring whose active key is missing or whose keys are not 32 bytes', () => {
    expect(() => new FieldCipher(new Map([['v1', k1]]), 'v2')).to.throw(/not in the key ring/);
    expect(() => new FieldCipher(new Map([['v1', randomBytes(16)]]), 'v1')).to.throw(/32 bytes/);
  });

  it('builds the shared cipher from ENCRYPTION_KEYS and ENCRYPTION_ACTIVE_KEY', () => {
    const shared = getFieldCipher();
    const ctx = at(randomUUID());
    const value = shared.encrypt(url, ctx);
    expect(shared.keyVersion(value)).to.equal(process.env.ENCRYPTION_ACTIVE_KEY ?? shared.activeKey);
    expect(shared.decrypt(value, ctx)).to.equal(url);
  });
});
