// Payment rows for the payments, pages and dashboard suites, inserted with knex: payments are made and moved by the
// billing worker, never by the API.
import { randomUUID } from 'node:crypto';
import type { Db } from '@nudge/db';

export interface PaymentFixture {
  id: string;
  workspace_id: string;
  created_at: Date;
}

export async function insertPayment(
  db: Db,
  workspaceId: string,
  p: Record<string, unknown> = {},
): Promise<PaymentFixture> {
  const [row] = await db('payments')
    .insert({
      workspace_id: workspaceId,
      occurrence_at: new Date(Date.now() + Math.floor(Math.random() * 1e9)),
      amount: 1500,
      currency: 'USD',
      ...p,
    })
    .returning<PaymentFixture[]>(['id', 'workspace_id', 'created_at']);
  return row!;
}

/** A payment reminder: the kind a payment belongs to. */
export const PAYMENT_REMINDER = { type: 'payment', amount: 1500, currency: 'USD', title: 'Invoice 42' };

/** A Stripe event applied to a payment (its payload is never shown). */
export async function insertStripeEvent(db: Db, paymentId: string | null, e: Record<string, unknown> = {}) {
  const id = `evt_test_${randomUUID().replace(/-/g, '')}`;
  await db('stripe_events').insert({
    id,
    type: 'checkout.session.completed',
    payload: JSON.stringify({ id, secret_detail: 'never-shown@example.com' }),
    payment_id: paymentId,
    ...e,
  });
  return id;
}
