import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  createWorker,
  Producers,
  QUEUES,
  DEFAULT_JOB_OPTIONS,
  createRedis,
  checkEvictionPolicy,
  jobIdFor,
  upsertScheduler,
  type Worker,
} from '@nudge/queue';

describe('packages/queue', () => {
  describe('a real worker', () => {
    let worker: Worker | undefined;
    const producers = new Producers();
    after(async () => {
      await worker?.close();
      await producers.close();
    });

    it('runs a job to completion with the default options, on a connection that never gives up', async () => {
      const seen: string[] = [];
      worker = createWorker(QUEUES.stripeSweep, (job) => {
        seen.push(job.id ?? '');
        return Promise.resolve({ ok: true });
      });
      const conn = await worker.getBackend().client;
      expect(conn.options.maxRetriesPerRequest).to.equal(null);
      const id = randomUUID();
      const done = new Promise<string>((resolve) => worker?.on('completed', (job) => job.id === id && resolve(job.id)));
      await producers.add(QUEUES.stripeSweep, {}, { jobId: id });
      expect(await done).to.equal(id);
      const job = await producers.queue(QUEUES.stripeSweep).getJob(id);
      expect(job?.opts.attempts).to.equal(DEFAULT_JOB_OPTIONS.attempts);
      expect(job?.opts.backoff).to.deep.equal({ type: 'exponential', delay: 1000, jitter: 0.5 });
      expect(await job?.getState()).to.equal('completed');
      expect(seen).to.deep.equal([id]);
    });

    it('gives producers a fail-fast connection', () => {
      expect(producers.connection.options.maxRetriesPerRequest).to.equal(1);
      expect(producers.connection.options.enableOfflineQueue).to.equal(false);
    });
  });

  describe('default job options', () => {
    it('retry with exponential backoff and jitter, and keep a bounded history', () => {
      expect(DEFAULT_JOB_OPTIONS.attempts).to.be.greaterThan(1);
      expect(DEFAULT_JOB_OPTIONS.removeOnComplete).to.deep.include({ count: 1000 });
      expect(DEFAULT_JOB_OPTIONS.removeOnFail).to.deep.include({ count: 5000 });
    });

    it('never puts a colon in a job id', () => {
      expect(jobIdFor('a:b', 2)).to.equal('a-b-2');
    });
  });

  describe('checkEvictionPolicy', () => {
    it("reads Redis's maxmemory-policy", async () => {
      const redis = createRedis('client');
      const [, actual] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
      expect(await checkEvictionPolicy(redis)).to.equal(actual);
      redis.disconnect();
    });
  });

  describe('upsertScheduler', () => {
    const producers = new Producers();
    const queue = producers.queue(QUEUES.billingReconcile);
    const ids: string[] = [];
    after(async () => {
      for (const id of ids) await queue.removeJobScheduler(id);
      await producers.close();
    });

    it('registers a cron pattern read in a time zone, and its next run falls on that local time', async () => {
      const id = `nightly-${randomUUID()}`;
      ids.push(id);
      await upsertScheduler(QUEUES.billingReconcile, id, { pattern: '0 3 * * *', tz: 'Europe/Paris' }, {});
      const scheduler = await queue.getJobScheduler(id);
      expect(scheduler).to.include({ pattern: '0 3 * * *', tz: 'Europe/Paris' });
      const next = new Date(Number(scheduler?.next));
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(next);
      expect(local).to.equal('03:00');
    });

    it('defaults a pattern to UTC, and still takes an interval in milliseconds', async () => {
      const cron = `cron-${randomUUID()}`;
      const every = `every-${randomUUID()}`;
      ids.push(cron, every);
      await upsertScheduler(QUEUES.billingReconcile, cron, { pattern: '30 2 * * *' }, {});
      await upsertScheduler(QUEUES.billingReconcile, every, 60_000, {});
      expect(await queue.getJobScheduler(cron)).to.include({ pattern: '30 2 * * *', tz: 'UTC' });
      expect(await queue.getJobScheduler(every)).to.include({ every: 60_000 });
    });
  });
});
