// Consumers and schedulers. Workers get their own blocking connection (maxRetriesPerRequest: null).
import { Worker, Queue, type Processor, type WorkerOptions } from 'bullmq';
import { createRedis, bullPrefix } from './connection';
import { DEFAULT_JOB_OPTIONS } from './options';
import type { QueueName } from './names';
import type { JobPayloads } from './payloads';

export function createWorker<N extends QueueName>(
  name: N,
  processor: Processor<JobPayloads[N]>,
  opts: Partial<Omit<WorkerOptions, 'connection' | 'prefix'>> = {},
): Worker<JobPayloads[N]> {
  const connection = createRedis('worker');
  const worker = new Worker<JobPayloads[N]>(name, processor, {
    concurrency: 10,
    ...opts,
    connection,
    prefix: bullPrefix(),
  });
  // The worker owns its connection and must close it on shutdown.
  worker.on('closed', () => void connection.quit().catch(() => undefined));
  return worker;
}

/** When a scheduler ticks: every `everyMs`, or on a cron pattern read in an IANA time zone (UTC by default). */
export type SchedulerRepeat = { everyMs: number } | { pattern: string; tz?: string };

/**
 * Registers (or updates) a repeating scheduler with upsertJobScheduler. Replicas upserting the same id converge
 * on one scheduler, so scaling the worker never multiplies the ticks. `repeat` is an interval in milliseconds, or a
 * cron pattern with its time zone (a nightly job at 03:00 local time stays at 03:00 across DST changes).
 */
export async function upsertScheduler<N extends QueueName>(
  name: N,
  schedulerId: string,
  repeat: number | SchedulerRepeat,
  data: JobPayloads[N],
): Promise<void> {
  const spec: SchedulerRepeat = typeof repeat === 'number' ? { everyMs: repeat } : repeat;
  const connection = createRedis('producer');
  const queue = new Queue(name, { connection, prefix: bullPrefix(), defaultJobOptions: DEFAULT_JOB_OPTIONS });
  try {
    await queue.upsertJobScheduler(
      schedulerId,
      'everyMs' in spec ? { every: spec.everyMs } : { pattern: spec.pattern, tz: spec.tz ?? 'UTC' },
      { name: schedulerId, data, opts: { attempts: 1 } },
    );
  } finally {
    await queue.close();
    await connection.quit().catch(() => undefined);
  }
}
