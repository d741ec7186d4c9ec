// The nightly sweep: a webhook can be lost for good (an endpoint down longer than Stripe retries, a secret rolled
// wrongly), so every payment still open or processing 24 hours after it was made is checked with Stripe and moved
// to the session's state. Payments are swept oldest first, in batches; one that Stripe cannot answer for is logged
// and left to the next night, never stopping the rest.
import { findUnsettledPayments, type Db } from '@nudge/db';
import type { Logger } from '@nudge/logger';
import type { PaymentReconciler } from './payment-reconcile.service';

/** How old an unsettled payment must be before the sweep asks Stripe about it. */
export const SWEEP_AFTER_MS = 24 * 3600 * 1000;
/** Payments asked about per night at most (Stripe's read limit is 100 per second; the sweep is not in a hurry). */
export const SWEEP_LIMIT = 5000;
/** 03:00 UTC, when the fewest payers are at Checkout. */
export const STRIPE_SWEEP_PATTERN = '0 3 * * *';
export const STRIPE_SWEEP_TZ = 'UTC';

export interface StripeSweepResult {
  checked: number;
  moved: number;
  failed: number;
}

export async function runStripeSweep(
  deps: { db: Db; reconciler: PaymentReconciler; logger: Logger; limit?: number },
  now: Date,
): Promise<StripeSweepResult> {
  const result: StripeSweepResult = { checked: 0, moved: 0, failed: 0 };
  const payments = await findUnsettledPayments(
    deps.db,
    new Date(now.getTime() - SWEEP_AFTER_MS),
    deps.limit ?? SWEEP_LIMIT,
  );
  for (const p of payments) {
    result.checked += 1;
    try {
      const move = await deps.reconciler.reconcilePayment(p);
      if (move?.changed) {
        result.moved += 1;
        deps.logger.info('sweep moved a payment Stripe had settled', { paymentId: p.id, from: move.from, to: move.to });
      }
    } catch (err) {
      result.failed += 1;
      deps.logger.warn('sweep could not check a payment with Stripe', { err, paymentId: p.id });
    }
  }
  return result;
}
