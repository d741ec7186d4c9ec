import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { closePasswordPool, createPasswordPool, getPasswordPool, hashPassword, HashPoolBusyError, verifyPassword, type PasswordPool } from '@nudge/crypto';

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
  });

  it('keeps the event loop turning while 20 hashes at cost 10 are in flight', async function () {
    this.timeout(60_000);
    const cost = 10;
    // What one hash costs on this machine, measured on the main thread: inline, each hash would stall the loop this
    // long. The fastest of three, so that a slow first run cannot loosen the check below.
    let oneHashMs = Infinity;
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      bcrypt.hashSync('calibration', cost);
      oneHashMs = Math.min(oneHashMs, performance.now() - started);
    }
    await hashPassword('warm up the pool', 4);

    const gaps: number[] = [];
    let running = true;
    let last = performance.now();
    const loop = (): void => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      if (running) setImmediate(loop);
    };
    setImmediate(loop);
    const hashes = await Promise.all(Array.from({ length: 20 }, (_, i) => hashPassword(`flood ${i}`, cost)));
    running = false;

    expect(hashes).to.have.length(20);
    expect(gaps.length).to.be.greaterThan(20);
    // Inline, each of the 20 hashes would leave a gap of about oneHashMs. Off the loop there are none; a couple are
    // tolerated so that the OS descheduling this process once or twice on a busy machine does not fail the test.
    const stalls = gaps.filter((g) => g >= oneHashMs / 2);
    const detail = `stalls ${stalls.map((g) => g.toFixed(0)).join(', ') || 'none'} (ms) against one hash of ${oneHashMs.toFixed(0)} ms`;
    expect(stalls.length, detail).to.be.at.most(2);
  });
});
