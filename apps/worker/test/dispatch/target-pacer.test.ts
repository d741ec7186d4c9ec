// Per-target pacing is shared by every dispatch queue: it must hold back the second send to a busy target without
// holding back the others, on a real BullMQ worker and the real Redis.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { appKey, bullPrefix, createRedis, DelayedError } from '@nudge/queue';
import { waitFor } from '@nudge/testing';
import { paceJob, redisTargetPacer } from '../../src/dispatch/target-pacer';

interface PaceJob {
  target: string;
}

describe('per-target pacing', function () {
  this.timeout(20_000);
  const INTERVAL_MS = 800;
  const namespace = `pace-test-${randomBytes(3).toString('hex')}`;
  const redis = createRedis('client');
  const queueConnection = createRedis('producer');
  const workerConnection = createRedis('worker');
  const queue = new Queue<PaceJob>(namespace, { connection: queueConnection, prefix: bullPrefix() });
  const pacer = redisTargetPacer(redis, { namespace, intervalMs: INTERVAL_MS });
  const ran: { id: string; target: string; at: number }[] = [];
  const delayed: string[] = [];
  let worker: Worker<PaceJob>;

  before(() => {
    worker = new Worker<PaceJob>(
      namespace,
      async (job: Job<PaceJob>) => {
        try {
          await paceJob(job, pacer, job.data.target);
        } catch (err) {
          if (err instanceof DelayedError) delayed.push(job.id!);
          throw err;
        }
        ran.push({ id: job.id!, target: job.data.target, at: Date.now() });
      },
      { connection: workerConnection, prefix: bullPrefix(), concurrency: 5 },
    );
    worker.on('error', () => undefined);
  });
  after(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    for (const c of [redis, queueConnection, workerConnection]) c.disconnect();
  });

  it('delays the second job for a busy target with moveToDelayed, without an attempt, and leaves another target alone', async () => {
    const started = Date.now();
    await queue.addBulk([
      { name: 'a', data: { target: 'https://hooks.example/A' }, opts: { jobId: 'a1' } },
      { name: 'a', data: { target: 'https://hooks.example/A' }, opts: { jobId: 'a2' } },
      { name: 'b', data: { target: 'https://hooks.example/B' }, opts: { jobId: 'b1' } },
    ]);
    await waitFor(() => ran.length === 3, { what: 'the three jobs to run' });

    const at = (id: string) => ran.find((r) => r.id === id)!.at;
    const [firstA, secondA] = [at('a1'), at('a2')].sort((x, y) => x - y) as [number, number];
    // Exactly one of the two A jobs met a busy target; B never did.
    expect(delayed).to.have.length(1);
    expect(delayed[0]).to.be.oneOf(['a1', 'a2']);
    expect(secondA - firstA).to.be.at.least(INTERVAL_MS - 20);
    expect(at('b1') - started).to.be.below(INTERVAL_MS);

    const paced = (await queue.getJob(delayed[0]!))!;
    expect(await paced.getState()).to.equal('completed');
    // DelayedError is not a failure: the paced job keeps all its attempts.
    expect(paced.attemptsMade).to.equal(1);
  });

  it("answers how long the target's account is still held, without taking the target's slot", async () => {
    const account = 'sms:AC-limited:+15550000001';
    await pacer.hold(account, 5000);
    expect(await pacer.acquire('+447700900001', account)).to.be.within(4000, 5000);
    // The slot was not taken: another account's job for the same target gets it at once.
    expect(await pacer.acquire('+447700900001', 'sms:AC-other:+15550000001')).to.equal(0);
    // A busy slot answers its time left, the account being free.
    expect(await pacer.acquire('+447700900001', 'sms:AC-other:+15550000001')).to.be.within(1, INTERVAL_MS);
  });

  it('keys each target by a hash, so a webhook URL never appears in Redis', async () => {
    await pacer.acquire('https://hooks.example/services/SECRET');
    const keys = await redis.keys(appKey(namespace, '*'));
    expect(keys.length).to.be.greaterThan(0);
    for (const k of keys) expect(k).to.match(new RegExp(`:${namespace}:[0-9a-f]{32}$`));
  });

  it('sends the asks and restarts of jobs running together as one pipeline each, in the order asked', async () => {
    const own = createRedis('client');
    let pipelines = 0;
    const pipeline = own.pipeline.bind(own);
    own.pipeline = (...args: Parameters<typeof pipeline>) => {
      pipelines += 1;
      return pipeline(...args);
    };
    try {
      const batched = redisTargetPacer(own, { namespace: `${namespace}-batch`, intervalMs: INTERVAL_MS });
      const targets = ['a', 'b', 'c', 'a', 'd', 'a'];
      const waits = await Promise.all(targets.map((t) => batched.acquire(t)));
      expect(pipelines).to.equal(1);
      // Within the pipeline the first ask for a target takes it; the later ones wait for it.
      expect(waits.map((w) => w === 0)).to.deep.equal([true, true, true, false, true, false]);
      await Promise.all(['a', 'b', 'c'].map((t) => batched.restartInterval(t)));
      expect(pipelines).to.equal(2);
    } finally {
      own.disconnect();
    }
  });
});
