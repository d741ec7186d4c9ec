// Queue metrics that hold across processes. Each worker process counts its jobs' outcomes into a Redis hash (and
// notes each queue's last completion), so whichever process serves /metrics (the API, or a worker's own port)
// reports every replica's work, and a restart loses nothing. Waiting jobs, the oldest one's age and whether a queue
// is stuck are read from BullMQ's own keys at scrape time.
//
// A queue is stuck when it has waiting jobs and nothing has completed for longer than QUEUE_STUCK_SECONDS since the
// later of its last completion and the moment its oldest waiting job became due: a queue idle for an hour that
// receives a job now is not stuck, one whose worker died with jobs waiting becomes stuck after that long.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { getConfig, type Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import type { QueueName } from './names';

export const JOB_OUTCOMES = ['completed', 'failed', 'retried'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

function metricsKeys(prefix: string): { outcomes: string; lastCompleted: string; bull: string } {
  return {
    outcomes: `${prefix}:metrics:job-outcomes`,
    lastCompleted: `${prefix}:metrics:last-completed`,
    bull: `${prefix}:bull`,
  };
}

/**
 * What a 'failed' event of a BullMQ worker means: BullMQ emits it for every failed try, and sets finishedOn only
 * when the job has moved to failed for good (no tries left, an UnrecoverableError, or a backoff that gives up).
 */
export function failureOutcome(job: { finishedOn?: number | null } | undefined): JobOutcome {
  return job?.finishedOn ? 'failed' : 'retried';
}

/** Counts one outcome of a job of a queue (and notes a completion's time). */
export async function recordJobOutcome(
  redis: Redis,
  queue: QueueName,
  outcome: JobOutcome,
  opts: { nowMs?: number; prefix?: string } = {},
): Promise<void> {
  const keys = metricsKeys(opts.prefix ?? getConfig().redisPrefix);
  const tx = redis.multi().hincrby(keys.outcomes, `${queue}:${outcome}`, 1);
  if (outcome === 'completed') tx.hset(keys.lastCompleted, queue, String(opts.nowMs ?? Date.now()));
  await tx.exec();
}

export interface QueueStats {
  queue: QueueName;
  outcomes: Record<JobOutcome, number>;
  waiting: number;
  oldestWaitingSeconds: number;
  stuck: boolean;
}

export interface QueueMonitorOptions {
  redis: Redis;
  queues: readonly QueueName[];
  stuckSeconds: number;
  logger: Logger;
  /** The Redis key prefix (REDIS_PREFIX); BullMQ's keys are under `<prefix>:bull`. */
  prefix?: string;
}

export class QueueMonitor {
  private readonly keys: ReturnType<typeof metricsKeys>;
  private readonly stuckNow = new Set<QueueName>();
  private latest: { at: number; stats: Promise<QueueStats[]> } | undefined;

  constructor(private readonly opts: QueueMonitorOptions) {
    this.keys = metricsKeys(opts.prefix ?? getConfig().redisPrefix);
  }

  get queues(): readonly QueueName[] {
    return this.opts.queues;
  }

  /** Every queue's figures now, logging a warning when a queue becomes stuck and a line when it recovers. */
  async snapshot(nowMs = Date.now()): Promise<QueueStats[]> {
    const { redis, queues, stuckSeconds, logger } = this.opts;
    const heads = redis.pipeline();
    for (const q of queues) {
      heads.llen(`${this.keys.bull}:${q}:wait`);
      // BullMQ pushes new jobs on the left and takes from the right: the oldest waiting job is the last.
      heads.lindex(`${this.keys.bull}:${q}:wait`, -1);
    }
    heads.hgetall(this.keys.outcomes);
    heads.hgetall(this.keys.lastCompleted);
    const replies = ((await heads.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    const outcomes = replies[queues.length * 2] as Record<string, string>;
    const lastCompleted = replies[queues.length * 2 + 1] as Record<string, string>;

    const oldest = redis.pipeline();
    queues.forEach((q, i) => {
      const id = replies[i * 2 + 1] as string | null;
      oldest.hmget(`${this.keys.bull}:${q}:${id ?? ''}`, 'timestamp', 'delay');
    });
    const dueTimes = ((await oldest.exec()) ?? []).map(([, value]) => {
      const [timestamp, delay] = (value as (string | null)[] | null) ?? [];
      return timestamp ? Number(timestamp) + Number(delay ?? 0) : undefined;
    });

    return queues.map((queue, i) => {
      const waiting = Number(replies[i * 2]);
      const due = waiting > 0 ? (dueTimes[i] ?? nowMs) : undefined;
      const quietSince = Math.max(Number(lastCompleted[queue] ?? 0), due ?? nowMs);
      const stuck = waiting > 0 && nowMs - quietSince > stuckSeconds * 1000;
      if (stuck && !this.stuckNow.has(queue)) {
        this.stuckNow.add(queue);
        logger.warn(
          `queue ${queue} is stuck: ${waiting} waiting and no job completed for ${Math.round((nowMs - quietSince) / 1000)} s (QUEUE_STUCK_SECONDS ${stuckSeconds}); is its worker running?`,
        );
      } else if (!stuck && this.stuckNow.delete(queue)) {
        logger.info(`queue ${queue} is moving again`);
      }
      return {
        queue,
        outcomes: Object.fromEntries(JOB_OUTCOMES.map((o) => [o, Number(outcomes[`${queue}:${o}`] ?? 0)])) as Record<
          JobOutcome,
          number
        >,
        waiting,
        oldestWaitingSeconds: due === undefined ? 0 : Math.max(0, (nowMs - due) / 1000),
        stuck,
      };
    });
  }

  /** One snapshot per scrape: the metrics below share it rather than each reading Redis. */
  current(maxAgeMs = 1000): Promise<QueueStats[]> {
    const now = Date.now();
    if (!this.latest || now - this.latest.at > maxAgeMs) {
      const stats = this.snapshot(now);
      // A failed read is not kept: the next scrape tries again.
      stats.catch(() => (this.latest = undefined));
      this.latest = { at: now, stats };
    }
    return this.latest.stats;
  }
}

/**
 * The queue series on a registry, every queue and outcome present from the start (zeros included):
 * queue_jobs_total{queue,outcome}, queue_waiting_jobs{queue}, queue_oldest_waiting_seconds{queue}, queue_stuck{queue}.
 * When Redis does not answer, the series are left out of that scrape rather than failing it.
 */
export function registerQueueMetrics(registry: Registry, monitor: QueueMonitor, logger: Logger): void {
  const read = async (): Promise<QueueStats[]> => {
    try {
      return await monitor.current();
    } catch (err) {
      logger.warn('queue metrics unavailable: Redis did not answer', { err: (err as Error).message });
      return [];
    }
  };
  new Counter({
    name: 'queue_jobs_total',
    help: 'Jobs finished by every worker process, by queue and outcome (completed, failed for good, retried)',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
    async collect() {
      const stats = await read();
      this.reset();
      for (const s of stats) for (const o of JOB_OUTCOMES) this.inc({ queue: s.queue, outcome: o }, s.outcomes[o]);
    },
  });
  const gauge = (name: string, help: string, value: (s: QueueStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        const stats = await read();
        this.reset();
        for (const s of stats) this.set({ queue: s.queue }, value(s));
      },
    });
  gauge('queue_waiting_jobs', 'Jobs waiting for a worker, by queue', (s) => s.waiting);
  gauge(
    'queue_oldest_waiting_seconds',
    'How long the oldest waiting job of each queue has been due, at scrape time',
    (s) => s.oldestWaitingSeconds,
  );
  gauge('queue_stuck', '1 when a queue has waiting jobs and nothing completed for QUEUE_STUCK_SECONDS', (s) =>
    s.stuck ? 1 : 0,
  );
}

/** Whether a request may read /metrics: anyone outside production, only the METRICS_TOKEN bearer in it. */
export function metricsAccessAllowed(
  config: Pick<Config, 'isProduction' | 'metricsToken'>,
  authorization?: string,
): boolean {
  if (!config.isProduction) return true;
  if (!config.metricsToken || !authorization) return false;
  const given = crypto.createHash('sha256').update(authorization).digest();
  const expected = crypto.createHash('sha256').update(`Bearer ${config.metricsToken}`).digest();
  return crypto.timingSafeEqual(given, expected);
}
