import type { Job, EmailJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';

export async function emailProcessor(job: Job<EmailJob>, { logger }: WorkerContext): Promise<void> {
  logger.info('email job', { kind: job.data.kind });
  return Promise.resolve();
}
