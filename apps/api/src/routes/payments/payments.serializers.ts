// A payment as the API shows it: never its Stripe session or payment intent ids, nor the cancel bookkeeping.
import type { PaymentView } from '@nudge/db';
import type { PaymentDetail } from '../../services/payments.service';

export function serializePayment(p: PaymentView) {
  return {
    id: p.id,
    reminder_id: p.reminder_id,
    client_id: p.client_id,
    notification_id: p.notification_id,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    checkout_url: p.checkout_url,
    paid_at: p.paid_at,
    refunded_amount: p.refunded_amount,
    created_at: p.created_at,
  };
}

export function serializePaymentDetail(p: PaymentDetail) {
  return {
    ...serializePayment(p),
    events: p.events.map((e) => ({
      id: e.id,
      type: e.type,
      received_at: e.received_at,
      processed_at: e.processed_at,
    })),
  };
}
