// billing-checkout jobs as the reminder scan and its reconciler see them: add the checkout of each new payment (one
// round trip) and record the adds, and the billing-checkout queue in the shape the shared reclaim rule
// (reclaimDispatchJob) works on, so a payment whose job was lost gets one under its next id.
import { markCheckoutsEnqueued, type Db, type PaymentRow } from '@nudge/db';
import type { Logger } from '@nudge/logger';
import { addCheckoutJobs, jobIdFor, QUEUES, type Producers } from '@nudge/queue';
import type { ChannelJobs } from '../dispatch/dispatch-jobs';

/** The billing-checkout queue keyed by payment id: `add(paymentId, jobId)` adds that payment's checkout job. */
export function checkoutJobsOn(producers: Producers): ChannelJobs {
  const queue = () => producers.queue(QUEUES.billingCheckout);
  return {
    add: (paymentId, jobId) => addCheckoutJobs(producers, [{ paymentId, jobId }]),
    addMany: (items) =>
      addCheckoutJobs(
        producers,
        items.map((i) => ({ paymentId: i.notificationId, jobId: i.jobId })),
      ),
    state: (jobId) => queue().getJobState(jobId),
    remove: async (jobId) => {
      await queue().remove(jobId);
    },
  };
}

/**
 * Adds the checkout jobs of new payments and records them. A failure (Redis away) is logged and left to the
 * reconciler: the payments' notifications stay queued without a link, which is what it looks for. Answers how many
 * were added.
 */
export async function enqueueCheckouts(
  deps: { db: Db; checkouts: ChannelJobs; logger: Logger },
  payments: readonly PaymentRow[],
): Promise<number> {
  const open = payments.filter((p) => p.status === 'open' && !p.checkout_url);
  if (open.length === 0) return 0;
  try {
    await deps.checkouts.addMany(
      open.map((p) => ({ notificationId: p.id, jobId: jobIdFor(p.id, p.checkout_enqueue_count) })),
    );
    await markCheckoutsEnqueued(
      deps.db,
      open.map((p) => ({ workspaceId: p.workspace_id, id: p.id, enqueueCount: p.checkout_enqueue_count + 1 })),
    );
    return open.length;
  } catch (err) {
    deps.logger.warn('could not enqueue checkout jobs; the reconciler will', { err, count: open.length });
    return 0;
  }
}
