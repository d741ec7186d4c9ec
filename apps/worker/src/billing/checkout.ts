// The billing-checkout jobs. `checkout` gives a payment its Stripe Checkout Session, on the workspace's connected
// account (the account recorded on the payment when it was made) or the platform's own where
// USE_PLATFORM_CREDENTIALS allows, then enqueues the payment's notification, whose message carries the link. The
// idempotency key is the payment id, so a retried job, or one that ran again after a crash between Stripe's answer
// and the database write, gets Stripe's first answer back instead of a second session. `cancel` expires the session
// on Stripe and marks the payment cancelled unless a completion got there first.
import {
  closeOpenPayment,
  cancelOpenPayment,
  failNotification,
  findCheckoutContext,
  findPaymentForJob,
  markNotificationEnqueued,
  storeCheckoutSession,
  type Db,
  type PaymentRow,
} from '@nudge/db';
import type { Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import { isProviderError, lastErrorOf, type StripeAdapter } from '@nudge/channels';
import { UnrecoverableError } from '@nudge/queue';
import { reclaimDispatchJob, type DispatchJobs } from '../dispatch/dispatch-jobs';

export interface CheckoutDeps {
  db: Db;
  /** Undefined when STRIPE_SECRET_KEY is not set: no link can be made. */
  stripe: StripeAdapter | undefined;
  config: Pick<Config, 'usePlatformCredentials' | 'stripe'>;
  jobs: DispatchJobs;
  logger: Logger;
}

export type CheckoutOutcome = 'missing' | 'not-open' | 'notification-final' | 'not-connected' | 'cancelled' | 'ready';
export type CancelOutcome = 'missing' | 'settled' | 'completed' | 'cancelled';

/** last_error of a payment notification that cannot get a link: no connected account and no platform account. */
export const STRIPE_NOT_CONNECTED = 'stripe_not_connected';

/** The Idempotency-Key of a payment's session: one per payment, whatever job or retry sends it. */
export function checkoutIdempotencyKey(paymentId: string): string {
  return `checkout-${paymentId}`;
}

/** The account a payment's sessions live on (null: the platform's), or undefined when it may have none. */
function accountOf(p: PaymentRow, deps: Pick<CheckoutDeps, 'config'>): string | null | undefined {
  if (p.stripe_account_id) return p.stripe_account_id;
  return deps.config.usePlatformCredentials ? null : undefined;
}

/** Ends an open payment that can get no link, and its notification with the reason, in one transaction. */
async function failPayment(db: Db, p: PaymentRow, reason: string): Promise<void> {
  await db.transaction(async (trx) => {
    await closeOpenPayment(trx, p.workspace_id, p.id, 'failed');
    if (p.notification_id) await failNotification(trx, p.workspace_id, p.notification_id, reason);
  });
}

export async function runCheckout(paymentId: string, deps: CheckoutDeps): Promise<CheckoutOutcome> {
  const { db, logger } = deps;
  const ctx = await findCheckoutContext(db, paymentId);
  if (!ctx) return 'missing';
  const { payment: p, notification: n } = ctx;
  if (p.status !== 'open') return 'not-open';
  // Its notification was cancelled meanwhile (the client opted out, the reminder was paused): no link is needed.
  if (!n || n.status !== 'queued') return 'notification-final';

  if (!p.checkout_url) {
    const account = accountOf(p, deps);
    if (account === undefined || !deps.stripe) {
      await failPayment(db, p, STRIPE_NOT_CONNECTED);
      logger.warn('payment link not made: no Stripe account', { paymentId: p.id, workspaceId: p.workspace_id });
      return 'not-connected';
    }
    let session;
    try {
      session = await deps.stripe.createCheckoutSession(
        {
          amount: Number(p.amount),
          currency: p.currency,
          productName: ctx.reminderTitle ?? 'Payment',
          successUrl: deps.config.stripe.successUrl,
          cancelUrl: deps.config.stripe.cancelUrl,
          clientReferenceId: p.id,
          metadata: {
            workspace_id: p.workspace_id,
            reminder_id: p.reminder_id ?? '',
            client_id: p.client_id ?? '',
            payment_id: p.id,
            notification_id: n.id,
          },
        },
        { stripeAccount: account, idempotencyKey: checkoutIdempotencyKey(p.id) },
      );
    } catch (err) {
      // Transient (timeout, 429, 5xx): BullMQ retries; the idempotency key makes the retry safe.
      if (!isProviderError(err) || err.transient) throw err;
      await failPayment(db, p, lastErrorOf(err));
      logger.warn('stripe refused the checkout session', { paymentId: p.id, code: err.code, status: err.status });
      throw new UnrecoverableError(`stripe refused the checkout session: ${err.code}`);
    }
    const stored = await storeCheckoutSession(db, p.workspace_id, p.id, {
      id: session.id,
      url: session.url,
      expiresAt: session.expiresAt,
    });
    if (stored?.status === 'cancelled') {
      // A cancel crossed the creation: the session it could not see is expired now, so the link takes no money.
      await expireQuietly(deps, stored, session.id);
      return 'cancelled';
    }
  }

  // The link exists: the notification goes out at its occurrence (or at once when that has passed).
  const delayMs = n.occurrence_at ? Math.max(0, n.occurrence_at.getTime() - Date.now()) : 0;
  const r = await reclaimDispatchJob(deps.jobs(n.channel), n.id, n.enqueue_count, { delayMs });
  await markNotificationEnqueued(db, n.workspace_id, n.id, r.enqueueCount);
  return 'ready';
}

async function expireQuietly(deps: CheckoutDeps, p: PaymentRow, sessionId: string): Promise<void> {
  try {
    await deps.stripe?.expireCheckoutSession(sessionId, { stripeAccount: p.stripe_account_id });
  } catch (err) {
    deps.logger.warn('could not expire the session of a cancelled payment', { paymentId: p.id, err });
  }
}

export async function runCancel(paymentId: string, deps: CheckoutDeps): Promise<CancelOutcome> {
  const { db } = deps;
  const p = await findPaymentForJob(db, paymentId);
  if (!p) return 'missing';
  if (p.status !== 'open') return 'settled';
  if (p.checkout_session_id) {
    if (!deps.stripe) throw new Error('STRIPE_SECRET_KEY is not set: the session cannot be expired');
    const opts = { stripeAccount: p.stripe_account_id };
    try {
      await deps.stripe.expireCheckoutSession(p.checkout_session_id, opts);
    } catch (err) {
      if (!isProviderError(err) || err.transient) throw err;
      // Stripe refuses to expire a session that is no longer open: if the payer completed it, the completion
      // wins and its event settles the payment.
      const session = await deps.stripe.retrieveCheckoutSession(p.checkout_session_id, opts);
      if (session.status === 'complete') return 'completed';
    }
  }
  return (await cancelOpenPayment(db, p.workspace_id, p.id)) ? 'cancelled' : 'settled';
}
