// Producers: one Queue object per name per process, sharing one fail-fast connection.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, bullPrefix } from './connection';
import { DEFAULT_JOB_OPTIONS } from './options';
import type { QueueName } from './names';
import type { JobPayloads } from './payloads';

export class Producers {
  private readonly queues = new Map<QueueName, Queue>();
  readonly connection: Redis;

  constructor(connection?: Redis) {
    this.connection = connection ?? createRedis('producer');
  }

  queue<N extends QueueName>(name: N): Queue<JobPayloads[N]> {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, {
        connection: this.connection,
        prefix: bullPrefix(),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q as unknown as Queue<JobPayloads[N]>;
  }

  async add<N extends QueueName>(name: N, data: JobPayloads[N], opts?: JobsOptions): Promise<void> {
    const q = this.queue(name) as unknown as Queue;
    await q.add(name, data, opts);
  }

  /** Adds many jobs to one queue in one round trip (BullMQ addBulk, a single MULTI). */
  async addBulk<N extends QueueName>(name: N, jobs: { data: JobPayloads[N]; opts?: JobsOptions }[]): Promise<void> {
    if (jobs.length === 0) return;
    const q = this.queue(name) as unknown as Queue;
    await q.addBulk(jobs.map((j) => ({ name, data: j.data, opts: j.opts })));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    await this.connection.quit().catch(() => undefined);
  }
}
