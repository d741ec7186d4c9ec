// Adding billing-checkout jobs, shared by their producers (the reminder scan and send-now, the reconciler): each
// creates one payment's Checkout Session, and then the worker enqueues the payment's notification. The payload is
// the payment id only; the job id is jobIdFor(payment id, n) with n the payment's checkout_enqueue_count, since a
// failed job keeps its id for a week and BullMQ ignores an add whose id is still held.
import { QUEUES } from './names';
import type { Producers } from './producers';

/** Adds the checkout jobs of many payments in one round trip. */
export async function addCheckoutJobs(
  producers: Producers,
  items: readonly { paymentId: string; jobId: string }[],
): Promise<void> {
  await producers.addBulk(
    QUEUES.billingCheckout,
    items.map((i) => ({ data: { kind: 'checkout' as const, paymentId: i.paymentId }, opts: { jobId: i.jobId } })),
  );
}
