// stripe-sweep: the nightly tick ({}), on a cron pattern in UTC: asks Stripe about payments still unsettled after
// 24 hours and applies what it says.
import { getDb } from '@nudge/db';
import type { Job } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import { paymentReconcilerOn, type PaymentReconciler } from '../billing/payment-reconcile.service';
import { runStripeSweep, type StripeSweepResult } from '../billing/stripe-sweep.service';
import type { StripeEventProcessorDeps } from './stripe-event.processor';

export function createStripeSweepProcessor(deps: StripeEventProcessorDeps) {
  let reconciler: PaymentReconciler | undefined;
  return async (_job: Job<Record<string, never>>, ctx: WorkerContext): Promise<StripeSweepResult> => {
    const db = deps.db ?? getDb();
    reconciler ??= paymentReconcilerOn(ctx.producers, { ...deps, db, logger: ctx.logger });
    const now = (deps.clock ?? (() => new Date()))();
    const result = await runStripeSweep({ db, reconciler, logger: ctx.logger }, now);
    ctx.logger.info('stripe sweep', { ...result });
    return result;
  };
}
