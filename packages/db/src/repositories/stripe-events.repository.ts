// Stripe events as received by POST /webhooks/stripe: platform data keyed by Stripe's event id (a redelivery is a
// no-op), outside any workspace's scope. A workspace sees an event only through the payment it applied to
// (payment_id). processed_at marks an event applied (or read and ignored); the reconciler enqueues the rest again.
import type { Conn } from '../connection';

export interface StripeEventRow {
  id: string;
  type: string;
  account: string | null;
  payload: Record<string, unknown>;
  received_at: Date;
  processed_at: Date | null;
  payment_id: string | null;
  enqueue_count: number;
  last_error: string | null;
}

/** Stores an event; answers the row, and whether this call inserted it (false: a redelivery, nothing written). */
export async function insertStripeEvent(
  db: Conn,
  event: { id: string; type: string; account: string | null; payload: unknown },
): Promise<{ inserted: boolean; row: StripeEventRow }> {
  const [row] = await db<StripeEventRow>('stripe_events')
    .insert({
      id: event.id,
      type: event.type,
      account: event.account,
      payload: JSON.stringify(event.payload) as unknown as Record<string, unknown>,
    })
    .onConflict('id')
    .ignore()
    .returning('*');
  if (row) return { inserted: true, row };
  const existing = await db<StripeEventRow>('stripe_events').where({ id: event.id }).first();
  return { inserted: false, row: existing! };
}

export async function findStripeEvent(db: Conn, id: string): Promise<StripeEventRow | undefined> {
  return db<StripeEventRow>('stripe_events').where({ id }).first();
}

/** Records that jobs up to jobIdFor(id, enqueueCount - 1) were added (never lowers the count). */
export async function recordStripeEventEnqueued(db: Conn, id: string, enqueueCount: number): Promise<void> {
  await db('stripe_events')
    .where({ id })
    .update({ enqueue_count: db.raw('GREATEST(enqueue_count, ?)', [enqueueCount]) });
}

/**
 * Marks an event applied, naming the payment it applied to; the first marking wins. A failure of an earlier try
 * stays in last_error, as its history.
 */
export async function markStripeEventProcessed(db: Conn, id: string, paymentId: string | null): Promise<void> {
  await db('stripe_events')
    .where({ id })
    .whereNull('processed_at')
    .update({ processed_at: db.fn.now(), payment_id: paymentId });
}

/** Keeps why the last try failed, for the operator (the job's failure is on the queue dashboard too). */
export async function recordStripeEventError(db: Conn, id: string, error: string): Promise<void> {
  await db('stripe_events')
    .where({ id })
    .update({ last_error: error.slice(0, 500) });
}

/** Events not applied yet and received before `receivedBefore` (the fresh ones still have their first job). */
export async function findUnprocessedStripeEvents(
  db: Conn,
  receivedBefore: Date,
  limit = 500,
): Promise<Pick<StripeEventRow, 'id' | 'enqueue_count'>[]> {
  return db<StripeEventRow>('stripe_events')
    .whereNull('processed_at')
    .where('received_at', '<', receivedBefore)
    .orderBy('received_at')
    .limit(limit)
    .select('id', 'enqueue_count');
}

/**
 * The running refund totals (`amount_refunded`) of every stored charge.refunded event naming a payment intent, and
 * names the payment they now apply to.
 */
export async function claimRefundsOfIntent(db: Conn, paymentIntentId: string, paymentId: string): Promise<number[]> {
  const rows = await db('stripe_events')
    .where({ type: 'charge.refunded' })
    .whereRaw("payload->'data'->'object'->>'payment_intent' = ?", [paymentIntentId])
    .update({ payment_id: paymentId })
    .returning<{ amount: string | null }[]>(db.raw("payload->'data'->'object'->>'amount_refunded' AS amount"));
  return rows.map((r) => Number(r.amount)).filter((n) => Number.isFinite(n) && n > 0);
}
