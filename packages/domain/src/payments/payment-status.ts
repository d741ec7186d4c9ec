// How a payment's status follows Stripe. Events arrive in any order, more than once and up to three days late, so
// each one is read as a signal about where the payment is, and a signal only ever moves a payment forward:
// open -> processing -> paid -> refunded, open or processing -> failed, open -> expired, and a completion that crosses
// our own cancel wins over it. A signal that is merely older than what we know changes nothing (a late `expired`
// never undoes `paid`); one that contradicts it (a completion for a payment we hold expired) is a conflict, settled
// by asking Stripe for the session and taking its state. `processing` is never paid.
export type PaymentStatus = 'open' | 'processing' | 'paid' | 'failed' | 'expired' | 'refunded' | 'cancelled';

export const PAYMENT_STATUSES: readonly PaymentStatus[] = [
  'open',
  'processing',
  'paid',
  'failed',
  'expired',
  'refunded',
  'cancelled',
];

/** Payments Stripe may still move on its own: the nightly sweep asks about these. */
export const UNSETTLED_PAYMENT_STATUSES: readonly PaymentStatus[] = ['open', 'processing'];

/** The statuses in which the client has paid: money arrived (and perhaps went back). `processing` is not paid. */
export const PAID_PAYMENT_STATUSES: readonly PaymentStatus[] = ['paid', 'refunded'];

/** Whether the client has paid (PAID_PAYMENT_STATUSES). */
export function hasPaid(status: PaymentStatus): boolean {
  return PAID_PAYMENT_STATUSES.includes(status);
}

/** Where a Checkout Session says its payment is. */
export type SessionState = 'open' | 'processing' | 'paid' | 'failed' | 'expired';

export interface PaymentState {
  status: PaymentStatus;
  /** Minor units. */
  amount: number;
  refundedAmount: number;
  paidAt: Date | null;
  paymentIntentId: string | null;
}

/** What Stripe told us about one payment: a session's state (from an event or a retrieve), or a refund total. */
export type PaymentSignal =
  | { kind: 'session'; state: SessionState; at: Date; paymentIntentId?: string | null }
  /** A charge's cumulative refunded amount, in minor units (Stripe's `amount_refunded`). */
  | { kind: 'refund'; amountRefunded: number };

export type PaymentDecision =
  /** The payment moves: `next` is its new state. */
  | { outcome: 'apply'; next: PaymentState }
  /** A duplicate, or older than what we know: nothing changes. */
  | { outcome: 'unchanged' }
  /** The signal contradicts what we hold: ask Stripe (decideFromStripe). */
  | { outcome: 'conflict' };

/** Statuses each status may move to on a signal. */
const FORWARD: Record<PaymentStatus, readonly PaymentStatus[]> = {
  open: ['processing', 'paid', 'failed', 'expired', 'cancelled'],
  processing: ['paid', 'failed'],
  paid: ['refunded'],
  // Our cancel could not stop a payer already at Checkout: a completion that crosses it wins.
  cancelled: ['processing', 'paid', 'failed'],
  failed: [],
  expired: [],
  refunded: [],
};

/** Statuses each status has left behind: a signal naming one of them is late, not wrong. */
const BEHIND: Record<PaymentStatus, readonly PaymentStatus[]> = {
  open: [],
  processing: ['open'],
  paid: ['open', 'processing'],
  refunded: ['open', 'processing', 'paid'],
  failed: ['open', 'processing'],
  expired: ['open'],
  // Our cancel expires the session, so its own `expired` event follows it.
  cancelled: ['open', 'expired'],
};

function moveTo(current: PaymentState, state: SessionState, signal: { at: Date; paymentIntentId?: string | null }) {
  const next: PaymentState = { ...current, status: state };
  if (signal.paymentIntentId && !next.paymentIntentId) next.paymentIntentId = signal.paymentIntentId;
  if (state === 'paid' && !next.paidAt) next.paidAt = signal.at;
  return next;
}

/** A completion we already applied may still teach us the payment intent (a `processing` session names it). */
function learnIntent(current: PaymentState, intent: string | null | undefined): PaymentDecision {
  if (intent && !current.paymentIntentId) return { outcome: 'apply', next: { ...current, paymentIntentId: intent } };
  return { outcome: 'unchanged' };
}

function decideRefund(current: PaymentState, amountRefunded: number): PaymentDecision {
  if (!hasPaid(current.status)) return { outcome: 'conflict' };
  const refundedAmount = Math.min(current.amount, Math.max(current.refundedAmount, Math.floor(amountRefunded)));
  if (refundedAmount === current.refundedAmount) return { outcome: 'unchanged' };
  return {
    outcome: 'apply',
    next: { ...current, refundedAmount, status: refundedAmount >= current.amount ? 'refunded' : 'paid' },
  };
}

/** What one signal does to a payment. */
export function decidePaymentSignal(current: PaymentState, signal: PaymentSignal): PaymentDecision {
  if (signal.kind === 'refund') return decideRefund(current, signal.amountRefunded);
  const target = signal.state;
  if (target === current.status) return learnIntent(current, signal.paymentIntentId);
  if (FORWARD[current.status].includes(target)) return { outcome: 'apply', next: moveTo(current, target, signal) };
  if (BEHIND[current.status].includes(target)) return learnIntent(current, signal.paymentIntentId);
  return { outcome: 'conflict' };
}

/**
 * Settles a conflict with the session as Stripe holds it now. Stripe's state wins, except that money received is
 * never taken back by a session (only a refund does that), and a session cannot tell `failed` from `processing`,
 * so a failure we know of stands.
 */
export function decideFromStripe(
  current: PaymentState,
  session: { state: SessionState; at: Date; paymentIntentId?: string | null },
): PaymentDecision {
  const plain = decidePaymentSignal(current, { kind: 'session', ...session });
  if (plain.outcome !== 'conflict') return plain;
  if (hasPaid(current.status)) return learnIntent(current, session.paymentIntentId);
  return { outcome: 'apply', next: moveTo({ ...current, paidAt: null }, session.state, session) };
}

/** The most a set of `charge.refunded` events says was refunded (they carry running totals). */
export function refundedTotal(amountsRefunded: readonly number[]): number {
  return amountsRefunded.reduce((a, b) => Math.max(a, b), 0);
}

/**
 * A refund can arrive before the completion that tells us its payment intent, and is then kept unapplied. Once a
 * payment is paid and knows its intent, the refunds already received for that intent (`amountsRefunded`) are
 * folded in; doing so again changes nothing.
 */
export function foldRefunds(state: PaymentState, amountsRefunded: readonly number[]): PaymentState {
  if (!state.paymentIntentId || !hasPaid(state.status)) return state;
  const total = refundedTotal(amountsRefunded);
  if (!total) return state;
  const d = decideRefund(state, total);
  return d.outcome === 'apply' ? d.next : state;
}

// ---- Reading Stripe's objects -------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** `payment_intent` is an id, or the expanded object. */
const idOf = (v: unknown): string | undefined => str(v) ?? (isObj(v) ? str(v.id) : undefined);

/** Where a Checkout Session (as retrieved, or inside an event) says its payment is. */
export function sessionState(session: { status?: unknown; payment_status?: unknown }): SessionState | undefined {
  if (session.status === 'expired') return 'expired';
  if (session.status === 'open') return 'open';
  if (session.status !== 'complete') return undefined;
  return session.payment_status === 'paid' || session.payment_status === 'no_payment_required' ? 'paid' : 'processing';
}

/** What a stored Stripe event means for Nudge. */
export type StripeEventMeaning =
  | {
      kind: 'session';
      sessionId: string;
      /** `metadata.payment_id` of the session: our payment's id, when the session carries it. */
      paymentId: string | undefined;
      signal: Extract<PaymentSignal, { kind: 'session' }>;
    }
  | { kind: 'refund'; paymentIntentId: string; signal: Extract<PaymentSignal, { kind: 'refund' }> }
  | { kind: 'account'; accountId: string; chargesEnabled: boolean; at: Date }
  /** A type Nudge does not use, or one whose object lacks what it needs: stored, and ignored. */
  | { kind: 'ignored' };

const SESSION_EVENTS: Record<string, ((session: Obj) => SessionState | undefined) | undefined> = {
  'checkout.session.completed': (s) => (sessionState(s) === 'paid' ? 'paid' : 'processing'),
  'checkout.session.async_payment_succeeded': () => 'paid',
  'checkout.session.async_payment_failed': () => 'failed',
  'checkout.session.expired': () => 'expired',
};

/** The event types the billing worker acts on; every other type is stored and ignored. */
export const HANDLED_STRIPE_EVENT_TYPES: readonly string[] = [
  ...Object.keys(SESSION_EVENTS),
  'charge.refunded',
  'account.updated',
];

export function readStripeEvent(event: { type?: unknown; created?: unknown; data?: unknown }): StripeEventMeaning {
  const object = isObj(event.data) && isObj(event.data.object) ? event.data.object : undefined;
  const type = str(event.type);
  if (!object || !type) return { kind: 'ignored' };
  const at = typeof event.created === 'number' ? new Date(event.created * 1000) : new Date(0);
  const toState = SESSION_EVENTS[type];
  if (toState) {
    const sessionId = str(object.id);
    const state = toState(object);
    if (!sessionId || !state) return { kind: 'ignored' };
    const metadata = isObj(object.metadata) ? object.metadata : {};
    return {
      kind: 'session',
      sessionId,
      paymentId: str(metadata.payment_id),
      signal: { kind: 'session', state, at, paymentIntentId: idOf(object.payment_intent) ?? null },
    };
  }
  if (type === 'charge.refunded') {
    const paymentIntentId = idOf(object.payment_intent);
    const amountRefunded = object.amount_refunded;
    if (!paymentIntentId || typeof amountRefunded !== 'number' || !Number.isFinite(amountRefunded))
      return { kind: 'ignored' };
    return { kind: 'refund', paymentIntentId, signal: { kind: 'refund', amountRefunded } };
  }
  if (type === 'account.updated') {
    const accountId = str(object.id);
    if (!accountId) return { kind: 'ignored' };
    return { kind: 'account', accountId, chargesEnabled: object.charges_enabled === true, at };
  }
  return { kind: 'ignored' };
}
