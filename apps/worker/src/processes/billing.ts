// The billing process: Stripe Checkout links (billing-checkout), Stripe event reconciliation (stripe-events), the
// nightly sweep (stripe-sweep) and the reconciler tick (billing-reconcile) that enqueues what lost its job (stored
// events, paid mails). One Stripe adapter serves the process; it is built from config without calling Stripe, and
// closed on shutdown. Reconciliation reads sessions from Stripe only to settle a conflict and in the sweep.
import { loadConfigOrExit } from '@nudge/config';
import { PermanentProviderError, createPlatformStripeAdapter } from '@nudge/channels';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from '../runtime';
import { createCheckoutProcessor } from '../processors/checkout.processor';
import { retrieveSessionWith } from '../billing/stripe-session-reader';
import type { RetrieveSession } from '../billing/payment-reconcile.service';
import { STRIPE_SWEEP_PATTERN, STRIPE_SWEEP_TZ } from '../billing/stripe-sweep.service';
import { createStripeEventProcessor } from '../processors/stripe-event.processor';
import { createStripeSweepProcessor } from '../processors/stripe-sweep.processor';
import { createBillingReconcileProcessor } from '../processors/billing-reconcile.processor';

const config = loadConfigOrExit();
const stripe = createPlatformStripeAdapter(config.stripe);
const retrieveSession: RetrieveSession = stripe
  ? retrieveSessionWith(stripe)
  : () =>
      Promise.reject(
        new PermanentProviderError('STRIPE_SECRET_KEY is not set', { provider: 'stripe', code: 'not_configured' }),
      );

runProcess({
  name: 'billing',
  queues: [
    consume({ queue: QUEUES.billingCheckout, concurrency: 10, process: createCheckoutProcessor({ stripe }) }),
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
  onClose: async () => {
    await stripe?.close();
  },
});
