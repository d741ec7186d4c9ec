// The billing process: Stripe Checkout links (billing-checkout), Stripe event reconciliation and the nightly sweep.
// One Stripe adapter serves the process; it is built from config without calling Stripe, and closed on shutdown.
import { loadConfigOrExit } from '@nudge/config';
import { createPlatformStripeAdapter } from '@nudge/channels';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from '../runtime';
import { createCheckoutProcessor } from '../processors/checkout.processor';

const config = loadConfigOrExit();
const stripe = createPlatformStripeAdapter(config.stripe);

runProcess({
  name: 'billing',
  queues: [consume({ queue: QUEUES.billingCheckout, concurrency: 10, process: createCheckoutProcessor({ stripe }) })],
  onClose: async () => {
    await stripe?.close();
  },
});
