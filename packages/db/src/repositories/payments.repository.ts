// Payments of payment reminders: one row per (reminder, client, occurrence), made in the transaction that inserts
// the occurrence's notification (the unique key payments_occurrence_key makes a rerun a no-op), then given its Stripe
// Checkout Session by the billing worker, and cancelled on request. Status only moves forward: open -> processing ->
// paid -> refunded; open -> expired | failed | cancelled. The writes here only ever leave `open` for `cancelled` or
// `failed`, so a completion that crosses them (the events worker's) wins.
import type { PaymentStatus } from '@nudge/domain';
import type { Conn } from '../connection';
import type { NotificationRow } from './notifications.repository';
import { settleRemindersAfterScan } from './reminder-scan.repository';

export interface PaymentRow {
  id: string;
  workspace_id: string;
  reminder_id: string | null;
  client_id: string | null;
  notification_id: string | null;
  occurrence_at: Date;
  /** Minor units. */
  amount: number;
  currency: string;
  status: PaymentStatus;
  /** The connected account the session lives on; null: the platform's own (USE_PLATFORM_CREDENTIALS). */
  stripe_account_id: string | null;
  checkout_session_id: string | null;
  checkout_url: string | null;
  checkout_expires_at: Date | null;
  payment_intent_id: string | null;
  checkout_enqueue_count: number;
  paid_at: Date | null;
  refunded_amount: number;
  cancel_requested_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * Inserts the payment of each queued notification of a payment reminder (others are left out), with the reminder's
 * amount and currency and the workspace's connected account as it is now, in the caller's transaction. An existing
 * (reminder, client, occurrence) is left as it is. Answers the payments created.
 */
export async function insertReminderPayments(
  db: Conn,
  notifications: readonly Pick<NotificationRow, 'id'>[],
): Promise<PaymentRow[]> {
  if (notifications.length === 0) return [];
  const { rows } = await db.raw<{ rows: PaymentRow[] }>(
    `INSERT INTO payments (workspace_id, reminder_id, client_id, notification_id, occurrence_at, amount, currency,
                           stripe_account_id)
     SELECT n.workspace_id, n.reminder_id, n.client_id, n.id, n.occurrence_at, r.amount,
            COALESCE(r.currency, w.currency), w.stripe_account_id
       FROM notifications n
       JOIN reminders r ON r.id = n.reminder_id AND r.workspace_id = n.workspace_id
       JOIN workspaces w ON w.id = n.workspace_id
      WHERE n.id = ANY(?::uuid[]) AND n.status = 'queued' AND n.client_id IS NOT NULL
        AND n.occurrence_at IS NOT NULL AND r.type = 'payment' AND r.amount IS NOT NULL AND r.amount > 0
     ON CONFLICT (reminder_id, client_id, occurrence_at) WHERE reminder_id IS NOT NULL AND client_id IS NOT NULL
     DO NOTHING
     RETURNING *`,
    [notifications.map((n) => n.id)],
  );
  return rows;
}

/** A payment by id for the billing worker (its job carries the id only); writes after it name the workspace. */
export async function findPaymentForJob(db: Conn, id: string): Promise<PaymentRow | undefined> {
  return db<PaymentRow>('payments').where({ id }).first();
}

/** The payments of these notifications (by notification_id), for the reconciler. */
export async function findPaymentsOfNotifications(
  db: Conn,
  notificationIds: readonly string[],
): Promise<Map<string, PaymentRow>> {
  if (notificationIds.length === 0) return new Map();
  const rows = await db<PaymentRow>('payments').whereIn('notification_id', [...notificationIds]);
  return new Map(rows.map((p) => [p.notification_id as string, p]));
}

/**
 * Records the payment's Checkout Session: its id, URL and expiry. A payment that already has another session keeps
 * it (the first write wins). Answers the row as it is after the write.
 */
export async function storeCheckoutSession(
  db: Conn,
  workspaceId: string,
  id: string,
  session: { id: string; url: string | null; expiresAt: Date },
): Promise<PaymentRow | undefined> {
  await db('payments')
    .where({ id, workspace_id: workspaceId })
    .where((q) => {
      void q.whereNull('checkout_session_id').orWhere('checkout_session_id', session.id);
    })
    .update({
      checkout_session_id: session.id,
      checkout_url: session.url,
      checkout_expires_at: session.expiresAt,
      updated_at: db.fn.now(),
    });
  return db<PaymentRow>('payments').where({ id, workspace_id: workspaceId }).first();
}

/** Records that billing-checkout job number `count - 1` of each payment was added. */
export async function markCheckoutsEnqueued(
  db: Conn,
  rows: readonly { workspaceId: string; id: string; enqueueCount: number }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `UPDATE payments p
        SET checkout_enqueue_count = GREATEST(p.checkout_enqueue_count, v.enqueue_count), updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, workspace_id uuid, enqueue_count int)
      WHERE p.id = v.id AND p.workspace_id = v.workspace_id AND p.id = ANY(?::uuid[])`,
    [
      JSON.stringify(rows.map((r) => ({ id: r.id, workspace_id: r.workspaceId, enqueue_count: r.enqueueCount }))),
      rows.map((r) => r.id),
    ],
  );
}

/**
 * Ends an open payment (`cancelled` on request, `failed` when no link can be made). A payment no longer open is left
 * as it is: a completion that crossed it wins. Answers whether it changed.
 */
export async function closeOpenPayment(
  db: Conn,
  workspaceId: string,
  id: string,
  status: 'cancelled' | 'failed',
): Promise<boolean> {
  const n = await db('payments')
    .where({ id, workspace_id: workspaceId, status: 'open' })
    .update({ status, updated_at: db.fn.now() });
  return n > 0;
}

/**
 * A client who paid gets no further payment reminders for the reminder: their assignment stops, and the reminder
 * completes once no assignment has a run left (every client paid, or their schedules ran out). In the caller's
 * transaction. Answers whether the reminder completed.
 */
export async function stopPaidAssignment(
  db: Conn,
  workspaceId: string,
  reminderId: string,
  clientId: string,
): Promise<boolean> {
  await db('reminder_clients')
    .where({ workspace_id: workspaceId, reminder_id: reminderId, client_id: clientId })
    .update({ next_run_at: null });
  const completed = await settleRemindersAfterScan(db, [reminderId]);
  return completed.length > 0;
}

/** What the checkout job needs: the payment, the title its line item shows, and its notification as it is now. */
export interface CheckoutContext {
  payment: PaymentRow;
  reminderTitle: string | null;
  notification: NotificationRow | null;
}

export async function findCheckoutContext(db: Conn, paymentId: string): Promise<CheckoutContext | undefined> {
  const payment = await findPaymentForJob(db, paymentId);
  if (!payment) return undefined;
  const [reminder, notification] = await Promise.all([
    payment.reminder_id
      ? (db('reminders')
          .where({ id: payment.reminder_id, workspace_id: payment.workspace_id })
          .first('title') as Promise<{ title: string } | undefined>)
      : undefined,
    payment.notification_id
      ? db<NotificationRow>('notifications')
          .where({ id: payment.notification_id, workspace_id: payment.workspace_id })
          .first()
      : undefined,
  ]);
  return { payment, reminderTitle: reminder?.title ?? null, notification: notification ?? null };
}

/**
 * Cancels an open payment and its notification if that has not gone out yet, in one transaction. Answers whether the
 * payment changed (false: it was no longer open; a completion that crossed the cancel wins).
 */
export async function cancelOpenPayment(db: Conn, workspaceId: string, id: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const [row] = await trx<PaymentRow>('payments')
      .where({ id, workspace_id: workspaceId, status: 'open' })
      .update({ status: 'cancelled', updated_at: trx.fn.now() })
      .returning('*');
    if (!row) return false;
    if (row.notification_id)
      await trx('notifications')
        .where({ id: row.notification_id, workspace_id: workspaceId, status: 'queued' })
        .update({ status: 'cancelled', last_error: 'payment_cancelled', updated_at: trx.fn.now() });
    return true;
  });
}
