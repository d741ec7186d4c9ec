// The billing worker's writes from Stripe: a payment locked while an event or the sweep moves it, the move itself
// (the paid client's assignment stops through payments.repository's stopPaidAssignment), the owner's "a client paid"
// mail (due once, sent once), and each connected account's charges_enabled. Payments are found by the ids Stripe
// hands back (our payment id in the session's metadata, the session id, the payment intent), never by a workspace:
// these are platform callbacks.
import type { PaymentState, PaymentStatus } from '@nudge/domain';
import type { Conn } from '../connection';

export interface ReconciledPayment {
  id: string;
  workspace_id: string;
  reminder_id: string | null;
  client_id: string | null;
  amount: number;
  currency: string;
  status: PaymentStatus;
  stripe_account_id: string | null;
  checkout_session_id: string | null;
  payment_intent_id: string | null;
  paid_at: Date | null;
  refunded_amount: number;
  created_at: Date;
}

const COLUMNS = [
  'id',
  'workspace_id',
  'reminder_id',
  'client_id',
  'amount',
  'currency',
  'status',
  'stripe_account_id',
  'checkout_session_id',
  'payment_intent_id',
  'paid_at',
  'refunded_amount',
  'created_at',
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function normalise(row: Record<string, unknown> | undefined): ReconciledPayment | undefined {
  if (!row) return undefined;
  // bigint columns arrive as strings; amounts stay far below 2^53.
  return {
    ...(row as unknown as ReconciledPayment),
    amount: Number(row.amount),
    refunded_amount: Number(row.refunded_amount),
  };
}

export function paymentStateOf(p: ReconciledPayment): PaymentState {
  return {
    status: p.status,
    amount: p.amount,
    refundedAmount: p.refunded_amount,
    paidAt: p.paid_at,
    paymentIntentId: p.payment_intent_id,
  };
}

/**
 * Locks the payment a Checkout Session event is about: by our id in the session's metadata, else by the session id.
 * A payment whose stored session is another one is not this event's.
 */
export async function lockPaymentForSession(
  trx: Conn,
  ref: { paymentId?: string; sessionId: string },
): Promise<ReconciledPayment | undefined> {
  let row: Record<string, unknown> | undefined;
  if (ref.paymentId && UUID.test(ref.paymentId))
    row = await trx('payments').where({ id: ref.paymentId }).forUpdate().first(COLUMNS);
  row ??= await trx('payments').where({ checkout_session_id: ref.sessionId }).forUpdate().first(COLUMNS);
  const p = normalise(row);
  if (p?.checkout_session_id && p.checkout_session_id !== ref.sessionId) return undefined;
  return p;
}

export async function lockPaymentById(trx: Conn, id: string): Promise<ReconciledPayment | undefined> {
  return normalise(await trx('payments').where({ id }).forUpdate().first(COLUMNS));
}

export async function lockPaymentByIntent(trx: Conn, paymentIntentId: string): Promise<ReconciledPayment | undefined> {
  return normalise(await trx('payments').where({ payment_intent_id: paymentIntentId }).forUpdate().first(COLUMNS));
}

/**
 * When the wait for payment `p` (a SQL alias) paid at `paidAt` (a SQL expression) began: the first reminder its client
 * got for its reminder before then (sent, or queued when it never left), else the payment's own creation. What the
 * dashboard's median counts from; stored as waiting_since when the payment is paid.
 */
export const waitingSinceSql = (p: string, paidAt: string) =>
  `coalesce((SELECT min(coalesce(n.sent_at, n.created_at)) FROM notifications n
     WHERE n.reminder_id = ${p}.reminder_id AND n.client_id = ${p}.client_id AND n.kind = 'reminder'
       AND n.reminder_id IS NOT NULL AND n.created_at <= ${paidAt}), ${p}.created_at)`;

/**
 * Writes a payment's new state (and the session id when the row lacks it: a worker that died between creating the
 * session and storing it). When it has just become paid and its workspace wants to hear of payments, the owner's
 * mail becomes due in the same statement. A new paid_at also stores when the wait for it began (waiting_since), once,
 * so that the dashboard's median reads it instead of looking for the first reminder of every payment. Answers whether
 * that mail is now due.
 */
export async function writePaymentState(
  trx: Conn,
  before: ReconciledPayment,
  next: PaymentState,
  sessionId?: string,
): Promise<{ noticeDue: boolean }> {
  const becamePaid = next.status === 'paid' && before.status !== 'paid' && before.status !== 'refunded';
  const { rows } = await trx.raw<{ rows: { notice_due: boolean }[] }>(
    `UPDATE payments p SET status = ?, paid_at = ?, payment_intent_id = ?, refunded_amount = ?,
       checkout_session_id = COALESCE(p.checkout_session_id, ?), updated_at = now(),
       waiting_since = CASE WHEN ?::timestamptz IS NULL THEN NULL
         WHEN p.paid_at IS NOT DISTINCT FROM ?::timestamptz AND p.waiting_since IS NOT NULL THEN p.waiting_since
         ELSE ${waitingSinceSql('p', '?::timestamptz')} END,
       paid_notice_due_at = CASE WHEN ? AND p.paid_notice_due_at IS NULL
         AND (SELECT w.notify_on_payment FROM workspaces w WHERE w.id = p.workspace_id) THEN now()
         ELSE p.paid_notice_due_at END
     WHERE p.id = ?
     RETURNING (p.paid_notice_due_at IS NOT NULL AND p.paid_notice_sent_at IS NULL AND ?) AS notice_due`,
    [
      next.status,
      next.paidAt,
      next.paymentIntentId,
      next.refundedAmount,
      sessionId ?? null,
      next.paidAt,
      next.paidAt,
      next.paidAt,
      becamePaid,
      before.id,
      becamePaid,
    ],
  );
  return { noticeDue: rows[0]?.notice_due === true };
}

/** Payments Stripe may still move (open, processing) created before `createdBefore`, oldest first: the sweep's. */
export async function findUnsettledPayments(db: Conn, createdBefore: Date, limit = 500): Promise<ReconciledPayment[]> {
  const rows = await db('payments')
    .whereIn('status', ['open', 'processing'])
    .where('created_at', '<', createdBefore)
    .whereNotNull('checkout_session_id')
    .orderBy('created_at')
    .limit(limit)
    .select(COLUMNS);
  return rows.map((r: Record<string, unknown>) => normalise(r)!);
}

/**
 * account.updated: the connected account's charges_enabled, unless a newer update was applied already (events
 * arrive in any order). Answers whether a workspace changed.
 */
export async function syncConnectedAccount(
  db: Conn,
  accountId: string,
  chargesEnabled: boolean,
  at: Date,
): Promise<boolean> {
  const n = await db('workspaces')
    .where({ stripe_account_id: accountId })
    .where((q) => {
      void q.whereNull('stripe_account_synced_at').orWhere('stripe_account_synced_at', '<=', at);
    })
    .update({ stripe_charges_enabled: chargesEnabled, stripe_account_synced_at: at, updated_at: db.fn.now() });
  return n > 0;
}

// ---- The owner's "a client paid" mail --------------------------------------------------------------------------

export interface PaidNotice {
  payment_id: string;
  amount: number;
  currency: string;
  paid_at: Date | null;
  workspace_name: string;
  client_name: string | null;
  reminder_title: string | null;
  owner_email: string | null;
}

/**
 * Claims the mail of a paid payment before it is sent, so it goes at most once: answers what it says, or undefined
 * when it is not due or already claimed. releasePaidNotice gives the claim back after a failed send.
 */
export async function claimPaidNotice(db: Conn, paymentId: string): Promise<PaidNotice | undefined> {
  const claimed = await db('payments')
    .where({ id: paymentId })
    .whereNotNull('paid_notice_due_at')
    .whereNull('paid_notice_sent_at')
    .update({ paid_notice_sent_at: db.fn.now() })
    .returning('id');
  if (claimed.length === 0) return undefined;
  const row = await db('payments as p')
    .join('workspaces as w', 'w.id', 'p.workspace_id')
    .leftJoin('clients as c', 'c.id', 'p.client_id')
    .leftJoin('reminders as r', 'r.id', 'p.reminder_id')
    .where('p.id', paymentId)
    .first<Record<string, unknown>>(
      'p.id as payment_id',
      'p.amount',
      'p.currency',
      'p.paid_at',
      'w.name as workspace_name',
      'c.name as client_name',
      'r.title as reminder_title',
      db.raw(
        `(SELECT u.email FROM users u WHERE u.workspace_id = p.workspace_id AND u.role = 'owner' AND u.is_active
          ORDER BY u.created_at LIMIT 1) AS owner_email`,
      ),
    );
  return row ? ({ ...row, amount: Number(row.amount) } as unknown as PaidNotice) : undefined;
}

export async function releasePaidNotice(db: Conn, paymentId: string): Promise<void> {
  await db('payments').where({ id: paymentId }).update({ paid_notice_sent_at: null });
}

/** Paid mails due before `dueBefore` and not sent: the reconciler's, with how many jobs each already had. */
export async function findDuePaidNotices(
  db: Conn,
  dueBefore: Date,
  limit = 500,
): Promise<{ id: string; paid_notice_enqueue_count: number }[]> {
  return db('payments')
    .whereNotNull('paid_notice_due_at')
    .whereNull('paid_notice_sent_at')
    .where('paid_notice_due_at', '<', dueBefore)
    .orderBy('paid_notice_due_at')
    .limit(limit)
    .select('id', 'paid_notice_enqueue_count');
}

export async function recordPaidNoticeEnqueued(db: Conn, paymentId: string, enqueueCount: number): Promise<void> {
  await db('payments')
    .where({ id: paymentId })
    .update({ paid_notice_enqueue_count: db.raw('GREATEST(paid_notice_enqueue_count, ?)', [enqueueCount]) });
}
