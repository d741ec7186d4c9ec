import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Queue, Worker } from 'bullmq';
import { Registry } from 'prom-client';
import { getConfig } from '@nudge/config';
import { memoryLogger, waitFor } from '@nudge/testing';
import {
  QUEUES,
  QueueMonitor,
  createRedis,
  failureOutcome,
  metricsAccessAllowed,
  recordJobOutcome,
  registerQueueMetrics,
  type JobOutcome,
} from '@nudge/queue';

/** A Redis namespace of its own under the run's prefix (removed by the run's clean-up). */
const ownPrefix = () => `${getConfig().redisPrefix}:m${randomBytes(4).toString('hex')}`;
const STUCK_SECONDS = 300;

describe('queue metrics', () => {
  const redis = createRedis('client');
  after(() => redis.quit());

  function monitor(prefix: string) {
    const { logger, lines } = memoryLogger();
    const m = new QueueMonitor({
      redis,
      queues: [QUEUES.dispatchEmail, QUEUES.dispatchSms],
      stuckSeconds: STUCK_SECONDS,
      logger,
      prefix,
    });
    return { m, lines };
  }

  async function addWaitingJob(prefix: string): Promise<{ queue: Queue; addedAt: number }> {
    const queue = new Queue(QUEUES.dispatchEmail, { connection: redis.duplicate(), prefix: `${prefix}:bull` });
    const job = await queue.add('probe', { notificationId: 'n' });
    return { queue, addedAt: job.timestamp };
  }

  it('reports zeros for every queue and outcome before anything ran', async () => {
    const stats = await monitor(ownPrefix()).m.snapshot();
    expect(stats).to.deep.equal([
      {
        queue: 'dispatch-email',
        outcomes: { completed: 0, failed: 0, retried: 0 },
        waiting: 0,
        oldestWaitingSeconds: 0,
        stuck: false,
      },
      {
        queue: 'dispatch-sms',
        outcomes: { completed: 0, failed: 0, retried: 0 },
        waiting: 0,
        oldestWaitingSeconds: 0,
        stuck: false,
      },
    ]);
  });

  it('counts the outcomes recorded by any process, per queue', async () => {
    const prefix = ownPrefix();
    const record = (q: typeof QUEUES.dispatchEmail | typeof QUEUES.dispatchSms, o: JobOutcome) =>
      recordJobOutcome(redis, q, o, { prefix });
    await Promise.all([
      record(QUEUES.dispatchEmail, 'completed'),
      record(QUEUES.dispatchEmail, 'completed'),
      record(QUEUES.dispatchEmail, 'retried'),
      record(QUEUES.dispatchSms, 'failed'),
    ]);
    const [email, sms] = await monitor(prefix).m.snapshot();
    expect(email?.outcomes).to.deep.equal({ completed: 2, failed: 0, retried: 1 });
    expect(sms?.outcomes).to.deep.equal({ completed: 0, failed: 1, retried: 0 });
  });

  it('measures the oldest waiting job at scrape time, and calls a queue stuck (once, with a warning) past QUEUE_STUCK_SECONDS', async () => {
    const prefix = ownPrefix();
    const { queue, addedAt } = await addWaitingJob(prefix);
    try {
      const { m, lines } = monitor(prefix);
      const [fresh] = await m.snapshot(addedAt + 10_000);
      expect(fresh).to.include({ waiting: 1, oldestWaitingSeconds: 10, stuck: false });

      const late = addedAt + (STUCK_SECONDS + 1) * 1000;
      const [stuck] = await m.snapshot(late);
      expect(stuck).to.include({ waiting: 1, stuck: true });
      await m.snapshot(late + 1000);
      const warnings = lines.filter((l) => l.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0]?.message).to.match(/queue dispatch-email is stuck: 1 waiting/);

      // A completion (by any replica) means the queue moves: no longer stuck.
      await recordJobOutcome(redis, QUEUES.dispatchEmail, 'completed', { prefix, nowMs: late });
      const [moving] = await m.snapshot(late + 1000);
      expect(moving?.stuck).to.equal(false);
      expect(lines.some((l) => l.level === 'info' && /dispatch-email is moving again/.test(l.message))).to.equal(true);
    } finally {
      await queue.close();
    }
  });

  it('does not call a queue stuck for a job that has just arrived after a long quiet spell', async () => {
    const prefix = ownPrefix();
    await recordJobOutcome(redis, QUEUES.dispatchEmail, 'completed', { prefix, nowMs: 1 });
    const { queue, addedAt } = await addWaitingJob(prefix);
    try {
      const [email] = await monitor(prefix).m.snapshot(addedAt + 1000);
      expect(email).to.include({ waiting: 1, stuck: false });
    } finally {
      await queue.close();
    }
  });

  it('exposes every series on a registry, zeros included', async () => {
    const registry = new Registry();
    registerQueueMetrics(registry, monitor(ownPrefix()).m, memoryLogger().logger);
    const text = await registry.metrics();
    for (const q of ['dispatch-email', 'dispatch-sms']) {
      for (const o of ['completed', 'failed', 'retried'])
        expect(text).to.contain(`queue_jobs_total{queue="${q}",outcome="${o}"} 0`);
      expect(text).to.contain(`queue_waiting_jobs{queue="${q}"} 0`);
      expect(text).to.contain(`queue_oldest_waiting_seconds{queue="${q}"} 0`);
      expect(text).to.contain(`queue_stuck{queue="${q}"} 0`);
    }
  });

  it("tells a retried try from a final failure by BullMQ's finishedOn", async () => {
    const prefix = ownPrefix();
    const connection = redis.duplicate({ maxRetriesPerRequest: null });
    const queue = new Queue(QUEUES.dispatchEmail, { connection, prefix: `${prefix}:bull` });
    const seen: JobOutcome[] = [];
    const worker = new Worker(QUEUES.dispatchEmail, () => Promise.reject(new Error('provider down')), {
      connection: connection.duplicate(),
      prefix: `${prefix}:bull`,
    });
    worker.on('failed', (job) => seen.push(failureOutcome(job)));
    try {
      await queue.add('twice', {}, { attempts: 2 });
      await waitFor(() => seen.length === 2, { what: 'both tries to fail' });
      expect(seen).to.deep.equal(['retried', 'failed']);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  describe('metricsAccessAllowed', () => {
    it('lets anyone read outside production, and only the METRICS_TOKEN bearer in production', () => {
      expect(metricsAccessAllowed({ isProduction: false, metricsToken: undefined })).to.equal(true);
      const prod = { isProduction: true, metricsToken: 'made-up-metrics-token' };
      expect(metricsAccessAllowed(prod)).to.equal(false);
      expect(metricsAccessAllowed(prod, 'Bearer wrong')).to.equal(false);
      expect(metricsAccessAllowed(prod, 'Bearer made-up-metrics-token')).to.equal(true);
      expect(metricsAccessAllowed({ isProduction: true, metricsToken: undefined }, 'Bearer ')).to.equal(false);
    });
  });
});
