// Reconciliation's view of the Stripe adapter: retrieve a session on the account it lives on, in the shape Stripe's
// own objects have (what the pure rules read, from an event or a retrieve alike).
import type { StripeAdapter } from '@nudge/channels';
import type { RetrieveSession } from './payment-reconcile.service';

export function retrieveSessionWith(adapter: Pick<StripeAdapter, 'retrieveCheckoutSession'>): RetrieveSession {
  return async (sessionId, stripeAccount) => {
    const s = await adapter.retrieveCheckoutSession(sessionId, { stripeAccount });
    return { status: s.status, payment_status: s.paymentStatus, payment_intent: s.paymentIntentId };
  };
}
