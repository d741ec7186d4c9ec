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

/**
 * Registers (or updates) a repeating scheduler with upsertJobScheduler. Replicas upserting the same id converge
 * on one scheduler, so scaling the worker never multiplies the ticks.
 */
export async function upsertScheduler<N extends QueueName>(
  name: N,
  schedulerId: string,
  everyMs: number,
  data: JobPayloads[N],
): Promise<void> {
  const connection = createRedis('producer');
  const queue = new Queue(name, { connection, prefix: bullPrefix(), defaultJobOptions: DEFAULT_JOB_OPTIONS });
  try {
    await queue.upsertJobScheduler(schedulerId, { every: everyMs }, { name: schedulerId, data, opts: { attempts: 1 } });
  } finally {
    await queue.close();
    await connection.quit().catch(() => undefined);
  }
}
