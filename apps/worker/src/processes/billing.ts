// The billing process: Stripe Checkout links, Stripe event reconciliation and the nightly sweep. Reconciliation
// reads sessions from Stripe only to settle a conflict and in the sweep; the reconciler tick enqueues what lost its
// job (stored events, paid mails).
import { loadConfigOrExit } from '@nudge/config';
import { PermanentProviderError, StripeAdapter } from '@nudge/channels';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from '../runtime';
import { retrieveSessionWith } from '../billing/stripe-session-reader';
import type { RetrieveSession } from '../billing/payment-reconcile.service';
import { STRIPE_SWEEP_PATTERN, STRIPE_SWEEP_TZ } from '../billing/stripe-sweep.service';
import { createStripeEventProcessor } from '../processors/stripe-event.processor';
import { createStripeSweepProcessor } from '../processors/stripe-sweep.processor';
import { createBillingReconcileProcessor } from '../processors/billing-reconcile.processor';

const config = loadConfigOrExit();
const stripe = config.stripe.secretKey
  ? new StripeAdapter({
      secretKey: config.stripe.secretKey,
      apiUrl: config.stripe.apiUrl,
      timeoutMs: config.stripe.timeoutMs,
    })
  : undefined;
const retrieveSession: RetrieveSession = stripe
  ? retrieveSessionWith(stripe)
  : () =>
      Promise.reject(
        new PermanentProviderError('STRIPE_SECRET_KEY is not set', { provider: 'stripe', code: 'not_configured' }),
      );

runProcess({
  name: 'billing',
  queues: [
    consume({ queue: QUEUES.stripeEvents, concurrency: 10, process: createStripeEventProcessor({ retrieveSession }) }),
    consume({ queue: QUEUES.stripeSweep, concurrency: 1, process: createStripeSweepProcessor({ retrieveSession }) }),
    consume({ queue: QUEUES.billingReconcile, concurrency: 1, process: createBillingReconcileProcessor() }),
  ],
  schedulers: [
    { queue: QUEUES.stripeSweep, id: 'stripe-sweep', pattern: STRIPE_SWEEP_PATTERN, tz: STRIPE_SWEEP_TZ, data: {} },
    {
      queue: QUEUES.billingReconcile,
      id: 'billing-reconcile',
      everyMs: config.reminderScanIntervalSeconds * 1000,
      data: {},
    },
  ],
  onClose: () => stripe?.close(),
});
