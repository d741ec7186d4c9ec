import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import {
  closePasswordPool,
  createPasswordPool,
  getPasswordPool,
  hashPassword,
  HashPoolBusyError,
  verifyPassword,
  type PasswordPool,
} from '@nudge/crypto';

describe('the password hashing pool', () => {
  after(closePasswordPool);

  it('hashes a password that verifies, and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery', 4);
    expect(hash).to.match(/^\$2b\$04\$/);
    expect(await verifyPassword('correct horse battery', hash)).to.be.true;
    expect(await verifyPassword('wrong horse battery', hash)).to.be.false;
    // Compatible with hashes made elsewhere by bcryptjs.
    expect(await verifyPassword('seeded', bcrypt.hashSync('seeded', 4))).to.be.true;
  });

  it('hashes and verifies on worker threads, never on the main thread', async () => {
    const pool = getPasswordPool();
    const hashed = await pool.hashTraced('off the main thread', 4);
    const verified = await pool.verifyTraced('off the main thread', hashed.result);
    expect(verified.result).to.be.true;
    for (const { threadId } of [hashed, verified]) expect(threadId).to.be.a('number').and.not.equal(0);
    // hashPassword goes through the same pool.
    const before = pool.stats().completed;
    await hashPassword('through the public function', 4);
    expect(pool.stats().completed).to.equal(before + 1);
    expect([...pool.stats().threadIds]).to.not.include(0);
  });

  describe('with a bounded queue', () => {
    let pool: PasswordPool;
    before(() => {
      pool = createPasswordPool({ maxThreads: 1, maxQueue: 2 });
    });
    after(() => pool.close());

    it('refuses a burst beyond the queue with HashPoolBusyError and still serves what it accepted', async () => {
      // One running, two waiting: of ten submitted at once, at least seven are refused straight away.
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => pool.hash(`burst ${i}`, 6)));
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      const served = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled');
      expect(refused.length).to.be.at.least(7);
      for (const r of refused) expect(r.reason).to.be.instanceOf(HashPoolBusyError);
      expect(served.length).to.be.at.least(1);
      for (const r of served) expect(r.value).to.match(/^\$2b\$06\$/);
      // Once drained it accepts work again.
      expect(await pool.hash('after the burst', 4)).to.match(/^\$2b\$04\$/);
    });

    it('keeps room for logins: a flood of other hashing is refused while a login still queues and runs first', async () => {
      const hash = await pool.hash('login password', 4);
      // One running and two waiting fill the `other` lane; the rest of the flood is refused.
      const flood = Array.from({ length: 10 }, (_, i) => pool.hash(`reset ${i}`, 8));
      const order: string[] = [];
      flood.forEach(
        (p, i) =>
          void p.then(
            () => order.push(`other ${i}`),
            () => undefined,
          ),
      );
      const login = pool.verify('login password', hash).then((ok) => {
        order.push('login');
        return ok;
      });
      expect(pool.stats().queued).to.deep.equal({ login: 1, other: 2 });
      expect(await login).to.equal(true);
      const settled = await Promise.allSettled(flood);
      expect(settled.filter((r) => r.status === 'rejected')).to.have.length(7);
      // The login waited only for the hash already running, not behind the two queued ones.
      expect(order.slice(0, 2)).to.deep.equal(['other 0', 'login']);
    });
  });
});
