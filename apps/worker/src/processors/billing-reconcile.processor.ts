// billing-reconcile: the minutely tick ({}) that enqueues stored Stripe events and due paid mails whose job was lost.
import { getDb, type Db } from '@nudge/db';
import type { Job } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import { paidNoticeJobsOn, stripeEventJobsOn } from '../billing/billing-jobs';
import { runBillingReconcile, type BillingReconcileResult } from '../billing/billing-reconcile.service';

export function createBillingReconcileProcessor(overrides: { db?: Db; clock?: () => Date } = {}) {
  return async (_job: Job<Record<string, never>>, ctx: WorkerContext): Promise<BillingReconcileResult> => {
    const now = (overrides.clock ?? (() => new Date()))();
    const result = await runBillingReconcile(
      {
        db: overrides.db ?? getDb(),
        stripeEvents: stripeEventJobsOn(ctx.producers),
        paidNotices: paidNoticeJobsOn(ctx.producers),
        reclaimAfterSeconds: ctx.config.reclaimAfterSeconds,
        logger: ctx.logger,
      },
      now,
    );
    if (result.events || result.paidNotices) ctx.logger.info('billing reconcile', { ...result });
    return result;
  };
}
