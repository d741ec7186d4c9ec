// Payments as the API reads them: filtered, keyset-paged listings (newest first), one payment with the Stripe events
// that moved it, the cancel request, and what the payer's return pages may show. Creating and reconciling payments
// belong to the billing worker (payments.repository.ts, payments-reconcile.repository.ts).
import type { PaymentStatus } from '@nudge/domain';
import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';
import { pageNewestFirst, type Page, type PageRequest } from '../pagination';

/** The columns the API shows, and what the cancel request needs; never the Stripe ids or the payment intent. */
export interface PaymentView {
  id: string;
  workspace_id: string;
  reminder_id: string | null;
  client_id: string | null;
  notification_id: string | null;
  amount: number;
  currency: string;
  status: PaymentStatus;
  checkout_url: string | null;
  paid_at: Date | null;
  refunded_amount: number;
  cancel_requested_at: Date | null;
  cancel_enqueue_count: number;
  created_at: Date;
}

const VIEW_COLUMNS = [
  'id',
  'workspace_id',
  'reminder_id',
  'client_id',
  'notification_id',
  'amount',
  'currency',
  'status',
  'checkout_url',
  'paid_at',
  'refunded_amount',
  'cancel_requested_at',
  'cancel_enqueue_count',
  'created_at',
] as const;

export interface PaymentFilters {
  status?: PaymentStatus;
  clientId?: string;
  reminderId?: string;
  /** created_at at or after. */
  from?: Date;
  /** created_at before. */
  to?: Date;
}

/** A page of the scope's payments, newest first by (created_at, id), filtered. */
export function listPaymentViews(
  db: Conn,
  scope: WorkspaceScope,
  f: PaymentFilters,
  page: PageRequest,
): Promise<Page<PaymentView>> {
  const q = applyScope(db('payments as p'), scope, 'p.workspace_id').select(VIEW_COLUMNS.map((c) => `p.${c}`));
  if (f.status) q.where('p.status', f.status);
  if (f.clientId) q.where('p.client_id', f.clientId);
  if (f.reminderId) q.where('p.reminder_id', f.reminderId);
  if (f.from) q.where('p.created_at', '>=', f.from);
  if (f.to) q.where('p.created_at', '<', f.to);
  return pageNewestFirst<PaymentView>(q, page, 'p');
}

export async function findPaymentView(db: Conn, scope: WorkspaceScope, id: string): Promise<PaymentView | undefined> {
  const row: unknown = await applyScope(db('payments').where({ id }), scope).first(...VIEW_COLUMNS);
  return row as PaymentView | undefined;
}

/** A Stripe event as a workspace may see it: what happened and when, never the payload. */
export interface PaymentEventView {
  id: string;
  type: string;
  received_at: Date;
  processed_at: Date | null;
}

/** The events applied to a payment, oldest first. The caller has already checked the payment is in scope. */
export async function listPaymentEvents(db: Conn, paymentId: string): Promise<PaymentEventView[]> {
  const rows: unknown = await db('stripe_events')
    .where({ payment_id: paymentId })
    .orderBy([{ column: 'received_at' }, { column: 'id' }])
    .select('id', 'type', 'received_at', 'processed_at');
  return rows as PaymentEventView[];
}

/**
 * Records a cancel request on an open payment and takes the next cancel job number (the count before this call):
 * undefined when the payment is not open (any more). Asking again while it is still open takes a new number, so a
 * request whose enqueue failed can simply be repeated; the first request's time is kept.
 */
export async function requestPaymentCancel(
  db: Conn,
  workspaceId: string,
  id: string,
): Promise<(PaymentView & { job_number: number }) | undefined> {
  const rows: unknown = await db('payments')
    .where({ id, workspace_id: workspaceId, status: 'open' })
    .update({
      cancel_requested_at: db.raw('coalesce(cancel_requested_at, now())'),
      cancel_enqueue_count: db.raw('cancel_enqueue_count + 1'),
      updated_at: db.fn.now(),
    })
    .returning([...VIEW_COLUMNS]);
  const row = (rows as PaymentView[])[0];
  return row ? { ...row, job_number: row.cancel_enqueue_count - 1 } : undefined;
}

/** What the payer's return pages may show about a payment: its business's name, and its link while it is open. */
export interface PayerPageFacts {
  workspace_name: string;
  status: PaymentStatus;
  checkout_url: string | null;
  checkout_expires_at: Date | null;
}

/** The payment a Checkout Session id (or a payment id) names, across workspaces: the payer is not signed in. */
export async function findPayerPageFacts(
  db: Conn,
  by: { sessionId: string } | { paymentId: string },
): Promise<PayerPageFacts | undefined> {
  const q = db('payments as p').join('workspaces as w', 'w.id', 'p.workspace_id');
  if ('sessionId' in by) q.where('p.checkout_session_id', by.sessionId);
  else q.where('p.id', by.paymentId);
  const row: unknown = await q.first('w.name as workspace_name', 'p.status', 'p.checkout_url', 'p.checkout_expires_at');
  return row as PayerPageFacts | undefined;
}
