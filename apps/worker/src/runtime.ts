// What every worker process shares: configuration, logging, its BullMQ workers and schedulers, the Redis
// eviction-policy check (refused in production), its jobs' outcomes counted in Redis for /metrics, its own metrics
// port when set, and a shutdown that lets active jobs finish.
import type http from 'node:http';
import { loadConfigOrExit, type Config } from '@nudge/config';
import { getLogger, setLogRole, withLogContext, type Logger } from '@nudge/logger';
import { closeDb } from '@nudge/db';
import type { WorkerOptions } from 'bullmq';
import {
  createRedis,
  createWorker,
  checkEvictionPolicy,
  failureOutcome,
  recordJobOutcome,
  PROCESS_QUEUES,
  type JobOutcome,
  type Redis,
  upsertScheduler,
  Producers,
  type QueueName,
  type JobPayloads,
  type Job,
  type Worker,
  type ProcessName,
  type SchedulerRepeat,
} from '@nudge/queue';
import { startMetricsServer } from './metrics-server';

export interface WorkerContext {
  config: Config;
  logger: Logger;
  producers: Producers;
}

export interface QueueBinding<N extends QueueName = QueueName> {
  queue: N;
  concurrency?: number;
  limiter?: { max: number; duration: number };
  /** BullMQ worker settings, e.g. the backoffStrategy that jobs with a custom backoff type are retried by. */
  settings?: WorkerOptions['settings'];
  process: (job: Job<JobPayloads[N]>, ctx: WorkerContext) => Promise<unknown>;
}

/** Erases a binding's payload type so bindings of different queues fit in one list, checked where written. */
export function consume<N extends QueueName>(binding: QueueBinding<N>): QueueBinding {
  return binding as unknown as QueueBinding;
}

export type SchedulerBinding<N extends QueueName = QueueName> = {
  queue: N;
  id: string;
  data: JobPayloads[N];
} & SchedulerRepeat;

export interface ProcessDefinition {
  name: ProcessName;
  queues: QueueBinding[];
  schedulers?: SchedulerBinding[];
  /** Runs after the workers have closed and before the database pool closes: adapters, batches, pools. */
  onClose?: () => Promise<void> | void;
}

/** Wraps a processor so every line it logs carries the job's id and queue. */
export function bindProcessor<N extends QueueName>(binding: QueueBinding<N>, ctx: WorkerContext) {
  return (job: Job<JobPayloads[N]>) =>
    withLogContext({ jobId: job.id, queue: binding.queue }, () => binding.process(job, ctx));
}

export class EvictingRedisError extends Error {
  constructor(readonly policy: string) {
    super(
      `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis would evict queued jobs. Refusing to start in production; set maxmemory-policy noeviction.`,
    );
    this.name = 'EvictingRedisError';
  }
}

/**
 * Checks Redis's eviction policy. Anything but noeviction loses jobs silently under memory pressure: in production
 * (`refuse`) that throws EvictingRedisError, elsewhere it is a warning. A policy that cannot be read is a warning.
 */
export async function warnUnlessNoEviction(
  logger: Logger,
  opts: { refuse?: boolean } = {},
): Promise<string | undefined> {
  const redis = createRedis('client');
  let policy: string | undefined;
  try {
    policy = await checkEvictionPolicy(redis);
  } catch (err) {
    logger.warn('Could not read Redis maxmemory-policy', { err });
    return undefined;
  } finally {
    redis.disconnect();
  }
  if (policy !== 'noeviction') {
    if (opts.refuse && policy !== undefined) throw new EvictingRedisError(policy);
    logger.warn(
      `Redis maxmemory-policy is "${policy ?? 'unknown'}", not "noeviction": under memory pressure Redis may evict queued jobs. Set maxmemory-policy noeviction.`,
    );
  }
  return policy;
}

/**
 * What every BullMQ worker of a process reports: each job's outcome counted in Redis (completed, retried, failed for
 * good; read by /metrics), and failures and errors logged. A count lost while Redis is away is only a metric.
 */
export function instrumentWorker<W extends Worker>(
  worker: W,
  queue: QueueName,
  deps: { logger: Logger; redis: Redis },
): W {
  const { logger, redis } = deps;
  const count = (outcome: JobOutcome) => void recordJobOutcome(redis, queue, outcome).catch(() => undefined);
  worker.on('completed', () => count('completed'));
  worker.on('failed', (job, err) => {
    count(failureOutcome(job));
    logger.warn(`job failed: ${err.message}`, { jobId: job?.id, queue, attemptsMade: job?.attemptsMade });
  });
  worker.on('error', (err) => logger.error(`worker error on ${queue}`, { err }));
  return worker;
}

const registerScheduler = (s: SchedulerBinding) =>
  upsertScheduler(s.queue, s.id, 'everyMs' in s ? { everyMs: s.everyMs } : { pattern: s.pattern, tz: s.tz }, s.data);

/** How often watchSchedulers looks: as often as the most frequent interval scheduler ticks, within 1 s to 1 min. */
export function schedulerWatchMs(schedulers: SchedulerBinding[]): number {
  const intervals = schedulers.flatMap((s) => ('everyMs' in s ? [s.everyMs] : []));
  return Math.max(1000, Math.min(60_000, ...intervals));
}

/**
 * Registers again any scheduler of the process that Redis no longer has. Redis emptied (FLUSHALL, or a restore
 * without its data) takes the schedulers with the jobs, and no connection drops to tell the workers; without the
 * reminder scan's tick the reconciler that re-enqueues lost notifications from PostgreSQL would never run again.
 */
export function watchSchedulers(
  schedulers: SchedulerBinding[],
  { producers, logger }: { producers: Producers; logger: Logger },
): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      for (const s of schedulers) {
        if (await producers.queue(s.queue).getJobScheduler(s.id)) continue;
        logger.warn(`scheduler ${s.id} is missing from Redis: registering it again`, { queue: s.queue });
        await registerScheduler(s);
      }
    })()
      .catch((err: unknown) => logger.warn('could not check the schedulers', { err }))
      .finally(() => (running = false));
  }, schedulerWatchMs(schedulers));
  timer.unref();
  return timer;
}

export async function startProcess(def: ProcessDefinition): Promise<{ workers: Worker[]; stop: () => Promise<void> }> {
  const config = loadConfigOrExit();
  setLogRole(def.name);
  const logger = getLogger();
  for (const w of config.warnings) logger.warn(w);
  await warnUnlessNoEviction(logger, { refuse: config.isProduction });

  const producers = new Producers();
  // Outcomes are counted in Redis so that any process's /metrics shows every replica's.
  const metricsRedis = createRedis('client');
  const ctx: WorkerContext = { config, logger, producers };
  const workers = def.queues.map((b) => {
    const w = createWorker(b.queue, bindProcessor(b, ctx) as never, {
      concurrency: b.concurrency ?? 10,
      limiter: b.limiter,
      settings: b.settings,
      // A dead worker's jobs wait out its lock before another worker takes them up (and a dispatch job that finds
      // its notification `sending` then ends it outcome_unknown).
      lockDuration: config.workerLockSeconds * 1000,
      stalledInterval: config.workerLockSeconds * 1000,
    });
    return instrumentWorker(w, b.queue, { logger, redis: metricsRedis });
  });
  for (const s of def.schedulers ?? []) await registerScheduler(s);
  const schedulerWatch = watchSchedulers(def.schedulers ?? [], { producers, logger });
  const metricsPort = config.metricsPorts[def.name];
  const metricsServer: http.Server | undefined =
    metricsPort === undefined
      ? undefined
      : await startMetricsServer({
          port: metricsPort,
          variable: `METRICS_PORT_${def.name.toUpperCase()}`,
          queues: PROCESS_QUEUES[def.name],
          redis: metricsRedis,
          config,
          logger,
        });
  logger.info(`${def.name} worker consuming ${def.queues.map((q) => q.queue).join(', ') || 'nothing'}`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info(`${def.name} worker closing; letting active jobs finish`);
      metricsServer?.close();
      clearInterval(schedulerWatch);
      await Promise.allSettled(workers.map((w) => w.close()));
      // Before the pool closes: onClose may still write (a batch of outcomes flushed on shutdown).
      await Promise.allSettled([(async () => def.onClose?.())()]);
      await Promise.allSettled([producers.close(), closeDb(), metricsRedis.quit()]);
    })();
    return stopping;
  };
  return { workers, stop };
}

/** The entry point of a worker process: start, and exit cleanly on SIGTERM or SIGINT. */
export function runProcess(def: ProcessDefinition): void {
  // Signals are handled from the first moment: one that arrives while the workers are still starting waits for
  // them to be up, then closes them, instead of killing the process mid-start.
  const started = startProcess(def);
  let signalled = false;
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = true;
    getLogger().info(`${signal} received`);
    const force = setTimeout(() => process.exit(1), 12_000);
    force.unref();
    void started
      .then(({ stop }) => stop())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  started.catch((err: unknown) => {
    getLogger().error(`${def.name} failed to start`, { err });
    process.exit(1);
  });
}
