import { expect } from 'chai';
import winston from 'winston';
import Transport from 'winston-transport';
import net from 'node:net';
import { Queue } from 'bullmq';
import { getConfig } from '@nudge/config';
import { Producers, QUEUES, QueueMonitor, createRedis, createWorker } from '@nudge/queue';
import { freePort, memoryLogger, spawnTs, waitFor } from '@nudge/testing';
import {
  EvictingRedisError,
  instrumentWorker,
  schedulerWatchMs,
  warnUnlessNoEviction,
  watchSchedulers,
} from '../src/runtime';
import { startMetricsServer } from '../src/metrics-server';

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

  describe('warnUnlessNoEviction in production', () => {
    it('refuses a Redis that may evict keys, and passes noeviction', async () => {
      const redis = createRedis('client');
      const [, before] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
      const { logger } = memoryLogger();
      try {
        await redis.config('SET', 'maxmemory-policy', 'volatile-lru');
        const err = await warnUnlessNoEviction(logger, { refuse: true }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(EvictingRedisError);
        expect((err as Error).message).to.match(/"volatile-lru".*Refusing to start in production/);
        await redis.config('SET', 'maxmemory-policy', 'noeviction');
        expect(await warnUnlessNoEviction(logger, { refuse: true })).to.equal('noeviction');
      } finally {
        await redis.config('SET', 'maxmemory-policy', before);
        redis.disconnect();
      }
    });
  });

  describe('instrumentWorker', () => {
    it("counts each job's outcome in Redis: completed, retried, failed for good", async () => {
      const redis = createRedis('client');
      const { logger } = memoryLogger();
      const monitor = new QueueMonitor({ redis, queues: [QUEUES.stripeSweep], stuckSeconds: 300, logger });
      const outcomes = async () => (await monitor.snapshot())[0]?.outcomes;
      const before = await outcomes();
      const worker = instrumentWorker(
        createWorker(QUEUES.stripeSweep, (job) =>
          // The first try of every job fails; a job with two tries then completes.
          job.attemptsMade === 0 ? Promise.reject(new Error('made-up failure')) : Promise.resolve(),
        ),
        QUEUES.stripeSweep,
        { logger, redis },
      );
      const q = new Queue(QUEUES.stripeSweep, {
        connection: redis.duplicate(),
        prefix: `${getConfig().redisPrefix}:bull`,
      });
      try {
        await q.add('twice', {}, { attempts: 2 });
        await q.add('once', {}, { attempts: 1 });
        await waitFor(
          async () => {
            const now = await outcomes();
            return now && before && now.completed > before.completed && now.failed > before.failed;
          },
          { what: 'both jobs to end' },
        );
        const after = await outcomes();
        expect(after?.retried).to.equal((before?.retried ?? 0) + 1);
        expect(after?.failed).to.equal((before?.failed ?? 0) + 1);
      } finally {
        await q.close();
        await worker.close();
        redis.disconnect();
      }
    });
  });

  describe('watchSchedulers', () => {
    it('looks as often as the most frequent interval scheduler ticks, within 1 s to 1 min', () => {
      const every = (everyMs: number) => ({ queue: QUEUES.housekeeping, id: 'h', data: {}, everyMs });
      expect(schedulerWatchMs([every(2000), every(86_400_000)])).to.equal(2000);
      expect(schedulerWatchMs([every(10)])).to.equal(1000);
      expect(schedulerWatchMs([{ queue: QUEUES.housekeeping, id: 'h', data: {}, pattern: '0 3 * * *' }])).to.equal(
        60_000,
      );
    });

    it('registers again a scheduler Redis lost (FLUSHALL), and logs it', async function () {
      this.timeout(20_000);
      const producers = new Producers();
      const mem = new Memory();
      const logger = winston.createLogger({ transports: [mem] });
      const id = `watch-test-${Date.now()}`;
      const queue = producers.queue(QUEUES.housekeeping);
      const timer = watchSchedulers([{ queue: QUEUES.housekeeping, id, data: {}, everyMs: 1000 }], {
        producers,
        logger,
      });
      try {
        await waitFor(() => queue.getJobScheduler(id), { timeoutMs: 10_000, what: 'the scheduler registered again' });
        expect(mem.lines.some((l) => l.level === 'warn' && l.message.includes(`scheduler ${id} is missing`))).to.equal(
          true,
        );
      } finally {
        clearInterval(timer);
        await queue.removeJobScheduler(id);
        await producers.close();
      }
    });
  });

  describe('the metrics server', () => {
    it('serves /health and the queues of its process on /metrics', async () => {
      const redis = createRedis('client');
      const port = await freePort();
      const server = await startMetricsServer({
        port,
        variable: 'METRICS_PORT_BIRTHDAYS',
        queues: [QUEUES.birthdayScan, QUEUES.dispatchSlack],
        redis,
        config: getConfig(),
        logger: memoryLogger().logger,
      });
      try {
        expect(server).to.not.equal(undefined);
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        expect(health.status).to.equal(200);
        expect(await health.json()).to.deep.equal({ status: 'ok' });
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(text).to.match(/^queue_waiting_jobs\{queue="dispatch-slack"\} \d+$/m);
        expect(text).to.match(/^queue_jobs_total\{queue="birthday-scan",outcome="retried"\} \d+$/m);
        expect(text).to.not.contain('queue="dispatch-email"');
        expect(text).to.contain('process_cpu_seconds_total');
      } finally {
        server?.close();
        redis.disconnect();
      }
    });

    it('needs the METRICS_TOKEN bearer in production', async () => {
      const redis = createRedis('client');
      const port = await freePort();
      const config = { ...getConfig(), isProduction: true, metricsToken: 'made-up-metrics-token' };
      const server = await startMetricsServer({
        port,
        variable: 'METRICS_PORT_REMINDERS',
        queues: [QUEUES.dispatchEmail],
        redis,
        config,
        logger: memoryLogger().logger,
      });
      try {
        expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).to.equal(401);
        const ok = await fetch(`http://127.0.0.1:${port}/metrics`, {
          headers: { Authorization: 'Bearer made-up-metrics-token' },
        });
        expect(ok.status).to.equal(200);
        expect((await fetch(`http://127.0.0.1:${port}/health`)).status).to.equal(200);
      } finally {
        server?.close();
        redis.disconnect();
      }
    });

    it('logs a taken port and goes on without metrics', async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, resolve));
      const port = (taken.address() as net.AddressInfo).port;
      const redis = createRedis('client');
      const { logger, lines } = memoryLogger();
      try {
        const server = await startMetricsServer({
          port,
          variable: 'METRICS_PORT_BILLING',
          queues: [QUEUES.stripeEvents],
          redis,
          config: getConfig(),
          logger,
        });
        expect(server).to.equal(undefined);
        expect(
          lines.some((l) => l.level === 'error' && /METRICS_PORT_BILLING \d+ is already in use/.test(l.message)),
        ).to.equal(true);
      } finally {
        taken.close();
        redis.disconnect();
      }
    });
  });

  for (const name of ['birthdays', 'reminders', 'billing'] as const) {
    describe(`the ${name} process`, () => {
      it('starts, logs its queues, serves metrics on its port when set, and exits 0 on SIGTERM', async function () {
        // Generous: tsx compiles the whole process on a cold start, and CI machines are slow.
        this.timeout(60_000);
        // billing runs without a port: it must then serve none.
        const port = name === 'billing' ? undefined : await freePort();
        const p = spawnTs(`apps/worker/src/processes/${name}.ts`, {
          ...process.env,
          LOG_LEVEL: 'info',
          ...(port ? { [`METRICS_PORT_${name.toUpperCase()}`]: String(port) } : {}),
        });
        try {
          await waitFor(() => p.output().includes(`${name} worker consuming`), {
            timeoutMs: 45_000,
            what: `${name} to start`,
          });
          if (port) {
            expect((await fetch(`http://127.0.0.1:${port}/health`)).status).to.equal(200);
            expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).to.contain('queue_stuck{queue=');
          } else expect(p.output()).to.not.contain('metrics and health on port');
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
