// dashboard-rollup: every DASHBOARD_ROLLUP_INTERVAL_SECONDS the reminders process recounts, per workspace and UTC
// day, the reminder notifications of the days changed since its last run and of the whole days newly past, so that
// GET /dashboard/summary reads a month from a few hundred rows instead of every notification in it.
import { getDb, rollUpNotificationCounts, type Db, type RollupRun } from '@nudge/db';
import type { Job } from '@nudge/queue';
import type { WorkerContext } from '../runtime';

export function createDashboardRollupProcessor(overrides: { db?: Db } = {}) {
  return async (_job: Job<Record<string, never>>, ctx: WorkerContext): Promise<RollupRun> => {
    const run = await rollUpNotificationCounts(overrides.db ?? getDb());
    if (run.skipped) ctx.logger.info('dashboard rollup skipped: another run held it');
    else if (run.recounted > 0 || !run.caught_up) ctx.logger.info('dashboard rollup', { ...run });
    return run;
  };
}

export const dashboardRollupProcessor = createDashboardRollupProcessor();
