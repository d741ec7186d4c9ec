// reminder-scan: the scheduler's tick ({}), every REMINDER_SCAN_INTERVAL_SECONDS.
import { getDb, type Db } from '@nudge/db';
import type { Job, ScanJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import { dispatchJobsOn, type ChannelJobs, type DispatchJobs } from '../dispatch/dispatch-jobs';
import { runReminderScan, type ReminderScanResult } from '../reminders/reminder-scan.service';
import { checkoutJobsOn } from '../billing/checkout-jobs';

export interface ReminderScanProcessorDeps {
  db: Db;
  jobs: DispatchJobs;
  checkouts: ChannelJobs;
  /** The instant the tick runs at; tests set it. */
  clock: () => Date;
}

export function createReminderScanProcessor(overrides: Partial<ReminderScanProcessorDeps> = {}) {
  let jobs: DispatchJobs | undefined = overrides.jobs;
  let checkouts: ChannelJobs | undefined = overrides.checkouts;
  return async (_job: Job<ScanJob>, ctx: WorkerContext): Promise<ReminderScanResult> => {
    const now = (overrides.clock ?? (() => new Date()))();
    jobs ??= dispatchJobsOn(ctx.producers);
    checkouts ??= checkoutJobsOn(ctx.producers);
    const result = await runReminderScan(
      {
        db: overrides.db ?? getDb(),
        jobs,
        checkouts,
        intervalSeconds: ctx.config.reminderScanIntervalSeconds,
        reclaimAfterSeconds: ctx.config.reclaimAfterSeconds,
        logger: ctx.logger,
      },
      now,
    );
    if (result.claimed || result.reclaimed) ctx.logger.info('reminder scan', { ...result });
    return result;
  };
}

export const reminderScanProcessor = createReminderScanProcessor();
