// stripe-events: one stored Stripe event ({eventId}), applied once by the payment reconciler. A failure (the
// database, or Stripe while settling a conflict) is kept on the event (last_error) and thrown, so BullMQ retries it
// with backoff and the queue dashboard shows it; once its tries are spent, the billing reconciler enqueues it again.
// Stripe refusing for good (the session is gone from the account) is not retried: the event is marked processed
// with the reason.
import { getDb, markStripeEventProcessed, recordStripeEventError, type Db } from '@nudge/db';
import { isProviderError } from '@nudge/channels';
import type { Job, StripeEventJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import {
  paymentReconcilerOn,
  type PaymentReconciler,
  type RetrieveSession,
  type StripeEventOutcome,
} from '../billing/payment-reconcile.service';

export interface StripeEventProcessorDeps {
  retrieveSession: RetrieveSession;
  db?: Db;
  clock?: () => Date;
}

export function createStripeEventProcessor(deps: StripeEventProcessorDeps) {
  let reconciler: PaymentReconciler | undefined;
  return async (job: Job<StripeEventJob>, ctx: WorkerContext): Promise<StripeEventOutcome> => {
    const db = deps.db ?? getDb();
    reconciler ??= paymentReconcilerOn(ctx.producers, { ...deps, db, logger: ctx.logger });
    const { eventId } = job.data;
    try {
      const outcome = await reconciler.applyEvent(eventId);
      if (outcome.outcome === 'applied' && outcome.move?.changed)
        ctx.logger.info('payment moved by a stripe event', { eventId, type: outcome.type, ...outcome.move });
      return outcome;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await recordStripeEventError(db, eventId, message).catch(() => undefined);
      if (isProviderError(err) && !err.transient) {
        await markStripeEventProcessed(db, eventId, null);
        ctx.logger.warn('stripe event could not be settled with Stripe; marked processed', { eventId, code: err.code });
        return { outcome: 'ignored', eventId, type: 'unknown', reason: `stripe refused: ${err.code}` };
      }
      throw err;
    }
  };
}
