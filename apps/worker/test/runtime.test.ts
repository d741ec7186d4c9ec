import { expect } from 'chai';
import winston from 'winston';
import Transport from 'winston-transport';
import { createRedis } from '@nudge/queue';
import { spawnTs, waitFor } from '@nudge/testing';
import { warnUnlessNoEviction } from '../src/runtime';

class Memory extends Transport {
  lines: { level: string; message: string }[] = [];
  override log(info: { level: string; message: string }, next: () => void) {
    this.lines.push(info);
    next();
  }
}

describe('worker runtime', () => {
  describe('warnUnlessNoEviction', () => {
    it('warns clearly when Redis may evict keys, and stays quiet with noeviction', async () => {
      const redis = createRedis('client');
      const [, before] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
      const mem = new Memory();
      const logger = winston.createLogger({ transports: [mem] });
      try {
        await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
        expect(await warnUnlessNoEviction(logger)).to.equal('allkeys-lru');
        expect(mem.lines.some((l) => l.level === 'warn' && /noeviction/.test(l.message))).to.equal(true);
        mem.lines = [];
        await redis.config('SET', 'maxmemory-policy', 'noeviction');
        expect(await warnUnlessNoEviction(logger)).to.equal('noeviction');
        expect(mem.lines.filter((l) => l.level === 'warn')).to.deep.equal([]);
      } finally {
        await redis.config('SET', 'maxmemory-policy', before);
        redis.disconnect();
      }
    });
  });

  for (const name of ['birthdays', 'reminders', 'billing']) {
    describe(`the ${name} process`, () => {
      it('starts, logs its queues and exits 0 on SIGTERM', async function () {
        this.timeout(30_000);
        const p = spawnTs(`apps/worker/src/processes/${name}.ts`, { ...process.env, LOG_LEVEL: 'info' });
        try {
          await waitFor(() => p.output().includes(`${name} worker consuming`), {
            timeoutMs: 20_000,
            what: `${name} to start`,
          });
          p.child.kill('SIGTERM');
          expect(await p.exited).to.equal(0);
          expect(p.output()).to.contain('letting active jobs finish');
        } finally {
          if (p.child.exitCode === null) p.child.kill('SIGKILL');
        }
      });
    });
  }
});
