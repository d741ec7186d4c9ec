// The billing reconciler, a repeatable tick in the billing process: what PostgreSQL says is still to do but no live
// job will do. A stored Stripe event not yet processed (the webhook crashed or lost Redis between its insert and its
// enqueue, or its job failed every try) is enqueued again, and so is an owner's paid mail that is due and unsent.
// Both follow the reclaim rule every reconciler shares (reclaimDispatchJob): a live job under the recorded or the
// next id is left alone; otherwise a new job goes under the next id, and the counter is recorded.
import {
  findDuePaidNotices,
  findUnprocessedStripeEvents,
  recordPaidNoticeEnqueued,
  recordStripeEventEnqueued,
  type Db,
} from '@nudge/db';
import type { Logger } from '@nudge/logger';
import { reclaimDispatchJob, type ChannelJobs } from '../dispatch/dispatch-jobs';
import { paidNoticeKey } from './billing-jobs';

export interface BillingReconcileDeps {
  db: Db;
  stripeEvents: ChannelJobs;
  paidNotices: ChannelJobs;
  /** How long a fresh event or mail keeps its first job before it counts as lost (RECLAIM_AFTER_SECONDS). */
  reclaimAfterSeconds: number;
  logger: Logger;
}

export interface BillingReconcileResult {
  /** Stored events enqueued again. */
  events: number;
  /** Paid mails enqueued again. */
  paidNotices: number;
}

export async function runBillingReconcile(deps: BillingReconcileDeps, now: Date): Promise<BillingReconcileResult> {
  const before = new Date(now.getTime() - deps.reclaimAfterSeconds * 1000);
  const result: BillingReconcileResult = { events: 0, paidNotices: 0 };
  for (const e of await findUnprocessedStripeEvents(deps.db, before)) {
    const r = await reclaimDispatchJob(deps.stripeEvents, e.id, e.enqueue_count);
    await recordStripeEventEnqueued(deps.db, e.id, r.enqueueCount);
    if (r.outcome !== 'enqueued') continue;
    result.events += 1;
    deps.logger.info('stored stripe event enqueued again', { eventId: e.id, jobId: r.jobId });
  }
  for (const p of await findDuePaidNotices(deps.db, before)) {
    const r = await reclaimDispatchJob(deps.paidNotices, paidNoticeKey(p.id), p.paid_notice_enqueue_count);
    await recordPaidNoticeEnqueued(deps.db, p.id, r.enqueueCount);
    if (r.outcome !== 'enqueued') continue;
    result.paidNotices += 1;
    deps.logger.info('paid mail enqueued again', { paymentId: p.id, jobId: r.jobId });
  }
  return result;
}
