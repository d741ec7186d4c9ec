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
});
