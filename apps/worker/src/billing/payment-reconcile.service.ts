// Applying what Stripe says to a payment, for the stripe-events processor and the nightly sweep. Each move runs in
// one transaction with the payment row locked (FOR UPDATE), so two events for one payment apply one after the other;
// the rules themselves are the pure ones of @nudge/domain (payment-status.ts). A conflict is settled by asking Stripe
// for the session, outside any transaction, and taking its state. When a payment becomes paid, the paid client's
// assignment stops, the reminder completes once every client has paid, and the owner's mail becomes due (once:
// paid_notice_due_at is set by the transition's own UPDATE); it is enqueued after the commit, and the billing
// reconciler enqueues it again if that enqueue is lost.
import {
  claimRefundsOfIntent,
  findStripeEvent,
  lockPaymentById,
  lockPaymentByIntent,
  lockPaymentForSession,
  markStripeEventProcessed,
  paymentStateOf,
  recordPaidNoticeEnqueued,
  stopPaidAssignment,
  syncConnectedAccount,
  writePaymentState,
  type Conn,
  type Db,
  type ReconciledPayment,
} from '@nudge/db';
import {
  decideFromStripe,
  decidePaymentSignal,
  foldRefunds,
  hasPaid,
  readStripeEvent,
  sessionState,
  type PaymentDecision,
  type PaymentState,
  type PaymentStatus,
  type StripeEventMeaning,
} from '@nudge/domain';
import { jobIdFor, type Producers } from '@nudge/queue';
import type { Logger } from '@nudge/logger';
import type { ChannelJobs } from '../dispatch/dispatch-jobs';
import { paidNoticeJobsOn, paidNoticeKey } from './billing-jobs';

/** A Checkout Session as Stripe holds it now: what a conflict and the sweep read. */
export interface RetrievedSession {
  status?: unknown;
  payment_status?: unknown;
  payment_intent?: unknown;
}

/** The one Stripe call reconciliation makes: retrieve a session, on the account it lives on (null: the platform). */
export type RetrieveSession = (sessionId: string, stripeAccount: string | null) => Promise<RetrievedSession>;

export interface PaymentReconcileDeps {
  db: Db;
  retrieveSession: RetrieveSession;
  /** dispatch-email, for the owner's paid mail. */
  paidNotices: ChannelJobs;
  logger: Logger;
  /** The instant a state taken from a retrieved session is dated (paid_at); tests set it. */
  clock?: () => Date;
}

export interface PaymentMove {
  paymentId: string;
  from: PaymentStatus;
  to: PaymentStatus;
  changed: boolean;
  /** The reminder completed because every client has now paid. */
  reminderCompleted: boolean;
}

export type StripeEventOutcome =
  | { outcome: 'applied'; eventId: string; type: string; move: PaymentMove | null }
  | { outcome: 'ignored'; eventId: string; type: string; reason: string }
  | { outcome: 'skipped'; eventId: string; reason: 'unknown event' | 'already processed' };

const sameState = (a: PaymentState, b: PaymentState) =>
  a.status === b.status &&
  a.refundedAmount === b.refundedAmount &&
  a.paymentIntentId === b.paymentIntentId &&
  (a.paidAt?.getTime() ?? null) === (b.paidAt?.getTime() ?? null);

const idOf = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string'
      ? (v as { id: string }).id
      : null;

interface Committed {
  move: PaymentMove;
  noticeDue: boolean;
}

/**
 * Writes a decision inside the caller's transaction. A payment that is paid and knows its intent also takes in the
 * refunds already stored for that intent (a refund may arrive before the completion that names it).
 */
async function commit(
  trx: Conn,
  p: ReconciledPayment,
  decision: PaymentDecision,
  sessionId?: string,
): Promise<Committed> {
  const before = paymentStateOf(p);
  let next = decision.outcome === 'apply' ? decision.next : before;
  if (next.paymentIntentId && hasPaid(next.status))
    next = foldRefunds(next, await claimRefundsOfIntent(trx, next.paymentIntentId, p.id));
  const fillSession = !!sessionId && !p.checkout_session_id;
  let noticeDue = false;
  let reminderCompleted = false;
  if (!sameState(before, next) || fillSession) {
    ({ noticeDue } = await writePaymentState(trx, p, next, sessionId));
    if (hasPaid(next.status) && !hasPaid(before.status) && p.reminder_id && p.client_id)
      reminderCompleted = await stopPaidAssignment(trx, p.workspace_id, p.reminder_id, p.client_id);
  }
  return {
    noticeDue,
    move: {
      paymentId: p.id,
      from: before.status,
      to: next.status,
      changed: !sameState(before, next),
      reminderCompleted,
    },
  };
}

export class PaymentReconciler {
  constructor(private readonly deps: PaymentReconcileDeps) {}

  private now(): Date {
    return (this.deps.clock ?? (() => new Date()))();
  }

  /** Asks Stripe for the payment's session and takes its state (never taking back money received). */
  private async settleWithStripe(stripeAccount: string | null, sessionId: string) {
    const session = await this.deps.retrieveSession(sessionId, stripeAccount);
    const state = sessionState(session);
    if (!state) throw new Error(`stripe answered a session ${sessionId} without a known status`);
    return { state, at: this.now(), paymentIntentId: idOf(session.payment_intent) };
  }

  /** After the commit: enqueue the owner's mail that the move made due (its first job, jobIdFor(key, 0)). */
  private async afterCommit(c: Committed | null): Promise<void> {
    if (!c?.noticeDue) return;
    const paymentId = c.move.paymentId;
    try {
      await this.deps.paidNotices.add(paidNoticeKey(paymentId), jobIdFor(paidNoticeKey(paymentId), 0));
      await recordPaidNoticeEnqueued(this.deps.db, paymentId, 1);
    } catch (err) {
      this.deps.logger.warn('paid mail due but not enqueued; the billing reconciler will', { err, paymentId });
    }
  }

  /** Applies one stored Stripe event, once: a processed event is skipped, and processing marks it. */
  async applyEvent(eventId: string): Promise<StripeEventOutcome> {
    const row = await findStripeEvent(this.deps.db, eventId);
    if (!row) return { outcome: 'skipped', eventId, reason: 'unknown event' };
    if (row.processed_at) return { outcome: 'skipped', eventId, reason: 'already processed' };
    const meaning = readStripeEvent(row.payload);
    const base = { eventId, type: row.type };
    if (meaning.kind === 'ignored') {
      await markStripeEventProcessed(this.deps.db, eventId, null);
      return { outcome: 'ignored', ...base, reason: 'not a type Nudge acts on' };
    }
    if (meaning.kind === 'account') {
      await syncConnectedAccount(this.deps.db, meaning.accountId, meaning.chargesEnabled, meaning.at);
      await markStripeEventProcessed(this.deps.db, eventId, null);
      return { outcome: 'applied', ...base, move: null };
    }
    const committed = await this.applyToPayment(eventId, row.account, meaning);
    await this.afterCommit(committed);
    if (!committed) return { outcome: 'ignored', ...base, reason: 'names no payment of ours' };
    return { outcome: 'applied', ...base, move: committed.move };
  }

  private lock(trx: Conn, meaning: Extract<StripeEventMeaning, { kind: 'session' | 'refund' }>) {
    return meaning.kind === 'session'
      ? lockPaymentForSession(trx, { paymentId: meaning.paymentId, sessionId: meaning.sessionId })
      : lockPaymentByIntent(trx, meaning.paymentIntentId);
  }

  private async applyToPayment(
    eventId: string,
    account: string | null,
    meaning: Extract<StripeEventMeaning, { kind: 'session' | 'refund' }>,
  ): Promise<Committed | null> {
    const sessionId = meaning.kind === 'session' ? meaning.sessionId : undefined;
    const first = await this.deps.db.transaction(async (trx) => {
      const locked = await this.lock(trx, meaning);
      // An event moves a payment only from the account its session lives on: a connected account cannot name
      // another workspace's payment in its own session's metadata and pay it.
      const p = locked && (locked.stripe_account_id ?? null) === account ? locked : undefined;
      if (!p) {
        // Not ours (another integration on a connected account, another account's claim), or a refund whose
        // completion has not arrived: kept, and folded in when the completion names its intent.
        await markStripeEventProcessed(trx, eventId, null);
        return { done: null };
      }
      const decision = decidePaymentSignal(paymentStateOf(p), meaning.signal);
      if (decision.outcome === 'conflict') return { conflict: p };
      const c = await commit(trx, p, decision, sessionId);
      await markStripeEventProcessed(trx, eventId, p.id);
      return { done: c };
    });
    if ('done' in first) return first.done ?? null;

    const p = first.conflict;
    const sid = sessionId ?? p.checkout_session_id;
    if (!sid) {
      await markStripeEventProcessed(this.deps.db, eventId, p.id);
      this.deps.logger.warn('stripe event contradicts a payment without a session; left as it is', {
        eventId,
        paymentId: p.id,
      });
      return null;
    }
    const fromStripe = await this.settleWithStripe(p.stripe_account_id, sid);
    return this.deps.db.transaction(async (trx) => {
      const locked = (await lockPaymentById(trx, p.id))!;
      const c = await commit(trx, locked, decideFromStripe(paymentStateOf(locked), fromStripe), sessionId);
      await markStripeEventProcessed(trx, eventId, locked.id);
      this.deps.logger.info('stripe event conflicted; took the session as Stripe holds it', {
        eventId,
        paymentId: p.id,
        from: c.move.from,
        to: c.move.to,
      });
      return c;
    });
  }

  /** The sweep's question for one payment: where is its session now? Applies Stripe's answer. */
  async reconcilePayment(payment: ReconciledPayment): Promise<PaymentMove | null> {
    if (!payment.checkout_session_id) return null;
    const fromStripe = await this.settleWithStripe(payment.stripe_account_id, payment.checkout_session_id);
    const committed = await this.deps.db.transaction(async (trx) => {
      const locked = await lockPaymentById(trx, payment.id);
      if (!locked) return null;
      return commit(trx, locked, decideFromStripe(paymentStateOf(locked), fromStripe));
    });
    await this.afterCommit(committed);
    return committed?.move ?? null;
  }
}

/** A reconciler on a worker's producers (the paid mails go on its dispatch-email queue). */
export function paymentReconcilerOn(
  producers: Producers,
  deps: Omit<PaymentReconcileDeps, 'paidNotices'>,
): PaymentReconciler {
  return new PaymentReconciler({ ...deps, paidNotices: paidNoticeJobsOn(producers) });
}
