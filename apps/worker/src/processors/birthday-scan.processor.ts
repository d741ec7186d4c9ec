// birthday-scan: the scheduler's tick ({}) and manual runs ({manual: true, workspaceId?}) from the API.
import { getDb, type Db } from '@nudge/db';
import type { Job, ScanJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import {
  runBirthdayScan,
  slackJobsOn,
  type BirthdayScanResult,
  type SlackJobs,
} from '../birthdays/birthday-scan.service';

export interface BirthdayScanProcessorDeps {
  db: Db;
  jobs: SlackJobs;
  /** The instant the tick runs at; tests set it to drive "today" and the post time. */
  clock: () => Date;
}

export function createBirthdayScanProcessor(overrides: Partial<BirthdayScanProcessorDeps> = {}) {
  return async (job: Job<ScanJob>, ctx: WorkerContext): Promise<BirthdayScanResult> => {
    const now = (overrides.clock ?? (() => new Date()))();
    const result = await runBirthdayScan(
      {
        db: overrides.db ?? getDb(),
        jobs: overrides.jobs ?? slackJobsOn(ctx.producers),
        reclaimAfterSeconds: ctx.config.reclaimAfterSeconds,
        logger: ctx.logger,
      },
      { now, manual: job.data.manual === true, workspaceId: job.data.workspaceId },
    );
    if (result.claimed || result.reclaimed)
      ctx.logger.info('birthday scan', { ...result, manual: job.data.manual === true });
    return result;
  };
}

export const birthdayScanProcessor = createBirthdayScanProcessor();
