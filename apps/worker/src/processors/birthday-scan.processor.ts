import type { Job, ScanJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';

export async function birthdayScanProcessor(job: Job<ScanJob>, { logger }: WorkerContext): Promise<{ claimed: number }> {
  logger.debug('birthday scan tick', { manual: job.data.manual ?? false });
  return Promise.resolve({ claimed: 0 });
}
