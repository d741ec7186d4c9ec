import { expect } from 'chai';
import fc from 'fast-check';
import {
  decideFromStripe,
  decidePaymentSignal,
  foldRefunds,
  hasPaid,
  readStripeEvent,
  refundedTotal,
  sessionState,
  type PaymentSignal,
  type PaymentState,
  type PaymentStatus,
  type SessionState,
} from '../../src/payments/payment-status';

const T0 = new Date('2026-12-01T10:00:00Z');
const state = (status: PaymentStatus, extra: Partial<PaymentState> = {}): PaymentState => ({
  status,
  amount: 5000,
  refundedAmount: 0,
  paidAt: hasPaid(status) ? T0 : null,
  paymentIntentId: null,
  ...extra,
});
const session = (s: SessionState, paymentIntentId: string | null = null): PaymentSignal => ({
  kind: 'session',
  state: s,
  at: T0,
  paymentIntentId,
});
const refund = (amountRefunded: number): PaymentSignal => ({ kind: 'refund', amountRefunded });
const statusAfter = (from: PaymentState, signal: PaymentSignal) => {
  const d = decidePaymentSignal(from, signal);
  return d.outcome === 'apply' ? d.next.status : d.outcome;
};

describe('the payment status rules', () => {
  it('moves forward only: open -> processing -> paid -> refunded', () => {
    expect(statusAfter(state('open'), session('processing'))).to.equal('processing');
    expect(statusAfter(state('processing'), session('paid'))).to.equal('paid');
    expect(statusAfter(state('open'), session('paid'))).to.equal('paid');
    expect(statusAfter(state('paid'), refund(5000))).to.equal('refunded');
  });

  it('never moves backwards: a late processing or open after paid, a late expired after cancel, change nothing', () => {
    expect(statusAfter(state('paid'), session('processing'))).to.equal('unchanged');
    expect(statusAfter(state('paid'), session('open'))).to.equal('unchanged');
    expect(statusAfter(state('failed'), session('processing'))).to.equal('unchanged');
    expect(statusAfter(state('refunded'), session('paid'))).to.equal('unchanged');
    expect(statusAfter(state('cancelled'), session('expired'))).to.equal('unchanged');
  });

  it('lets a completion that crosses our cancel win', () => {
    expect(statusAfter(state('cancelled'), session('paid'))).to.equal('paid');
    expect(statusAfter(state('cancelled'), session('processing'))).to.equal('processing');
  });

  it('calls a contradiction a conflict: a completion for an expired payment, an expiry or failure after paid', () => {
    expect(statusAfter(state('expired'), session('paid'))).to.equal('conflict');
    expect(statusAfter(state('paid'), session('expired'))).to.equal('conflict');
    expect(statusAfter(state('paid'), session('failed'))).to.equal('conflict');
    expect(statusAfter(state('processing'), session('expired'))).to.equal('conflict');
    expect(statusAfter(state('processing'), refund(100))).to.equal('conflict');
  });

  it("settles a conflict with Stripe's state, but never takes back money received", () => {
    const fromStripe = (from: PaymentState, s: SessionState) => {
      const d = decideFromStripe(from, { state: s, at: T0, paymentIntentId: from.paymentIntentId });
      return d.outcome === 'apply' ? d.next.status : d.outcome;
    };
    expect(fromStripe(state('expired'), 'paid')).to.equal('paid');
    expect(fromStripe(state('paid'), 'expired')).to.equal('unchanged');
    expect(fromStripe(state('failed'), 'processing')).to.equal('unchanged');
    expect(fromStripe(state('processing'), 'paid')).to.equal('paid');
  });

  it('never counts processing as paid', () => {
    expect(hasPaid('processing')).to.equal(false);
    const d = decidePaymentSignal(state('open'), session('processing', 'pi_1'));
    expect(d).to.deep.include({ outcome: 'apply' });
    expect(d.outcome === 'apply' && d.next.paidAt).to.equal(null);
  });

  it('keeps the largest refund total, capped at the amount, and refunds wholly only at the full amount', () => {
    const partial = decidePaymentSignal(state('paid'), refund(2000));
    expect(partial.outcome === 'apply' && partial.next).to.include({ status: 'paid', refundedAmount: 2000 });
    expect(decidePaymentSignal(state('paid', { refundedAmount: 3000 }), refund(2000)).outcome).to.equal('unchanged');
    const whole = decidePaymentSignal(state('paid', { refundedAmount: 3000 }), refund(9000));
    expect(whole.outcome === 'apply' && whole.next).to.include({ status: 'refunded', refundedAmount: 5000 });
    expect(refundedTotal([100, 3000, 2000])).to.equal(3000);
  });

  it('reads Stripe events: sessions by metadata, refunds by payment intent, accounts, and ignores the rest', () => {
    const completed = readStripeEvent({
      type: 'checkout.session.completed',
      created: 1_800_000_000,
      data: {
        object: {
          id: 'cs_1',
          status: 'complete',
          payment_status: 'unpaid',
          payment_intent: 'pi_1',
          metadata: { payment_id: 'p1' },
        },
      },
    });
    expect(completed).to.deep.equal({
      kind: 'session',
      sessionId: 'cs_1',
      paymentId: 'p1',
      signal: { kind: 'session', state: 'processing', at: new Date(1_800_000_000_000), paymentIntentId: 'pi_1' },
    });
    expect(
      readStripeEvent({
        type: 'charge.refunded',
        data: { object: { payment_intent: { id: 'pi_2' }, amount_refunded: 7 } },
      }),
    ).to.deep.equal({ kind: 'refund', paymentIntentId: 'pi_2', signal: { kind: 'refund', amountRefunded: 7 } });
    expect(
      readStripeEvent({
        type: 'account.updated',
        created: 1,
        data: { object: { id: 'acct_1', charges_enabled: true } },
      }),
    ).to.include({ kind: 'account', accountId: 'acct_1', chargesEnabled: true });
    expect(readStripeEvent({ type: 'invoice.paid', data: { object: { id: 'in_1' } } })).to.deep.equal({
      kind: 'ignored',
    });
    expect(readStripeEvent({ type: 'checkout.session.completed', data: 'nonsense' })).to.deep.equal({
      kind: 'ignored',
    });
    expect(sessionState({ status: 'complete', payment_status: 'no_payment_required' })).to.equal('paid');
  });
});

// ---- Any order, any duplicates --------------------------------------------------------------------------------------
// A payment's true history at Stripe, its events delivered shuffled and duplicated, each delivery applied by the rules
// as the billing worker applies them: a refund that names a payment intent not known yet is kept and folded in when
// the completion teaches the intent; a conflict is settled with the session as Stripe holds it at the end.

interface ModelEvent {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> };
}
interface History {
  events: ModelEvent[];
  /** The session at Stripe after the history, and the charge's refunded total. */
  finalSession: { status: string; payment_status: string; payment_intent: string | null };
  refunded: number;
}

const AMOUNT = 5000;
function historyOf(kind: number, refunds: number): History {
  const pi = 'pi_model';
  const s = (status: string, payment_status: string) => ({
    id: 'cs_model',
    status,
    payment_status,
    payment_intent: status === 'complete' ? pi : null,
    metadata: { payment_id: 'pay_model' },
  });
  const ev = (i: number, type: string, object: Record<string, unknown>): ModelEvent => ({
    id: `evt_${i}`,
    type,
    created: 1_800_000_000 + i,
    data: { object },
  });
  const events: ModelEvent[] = [];
  let paid = false;
  if (kind === 0) {
    events.push(ev(1, 'checkout.session.completed', s('complete', 'paid')));
    paid = true;
  } else if (kind === 1) {
    events.push(ev(1, 'checkout.session.completed', s('complete', 'unpaid')));
    events.push(ev(2, 'checkout.session.async_payment_succeeded', s('complete', 'paid')));
    paid = true;
  } else if (kind === 2) {
    events.push(ev(1, 'checkout.session.completed', s('complete', 'unpaid')));
    events.push(ev(2, 'checkout.session.async_payment_failed', s('complete', 'unpaid')));
  } else {
    events.push(ev(1, 'checkout.session.expired', s('expired', 'unpaid')));
  }
  let refunded = 0;
  if (paid)
    for (let r = 1; r <= refunds; r++) {
      refunded = r === refunds && r > 1 ? AMOUNT : r * 1000;
      events.push(ev(10 + r, 'charge.refunded', { id: 'ch_model', payment_intent: pi, amount_refunded: refunded }));
    }
  const last = events.filter((e) => e.type.startsWith('checkout.')).at(-1)!.data.object;
  return {
    events,
    finalSession: last as History['finalSession'],
    refunded,
  };
}

/** The billing worker's handling of one delivery, on the pure rules. */
function deliver(p: PaymentState, e: ModelEvent, h: History, received: ModelEvent[], applied: Set<string>) {
  if (applied.has(e.id)) return p; // a redelivered event id is a no-op
  applied.add(e.id);
  received.push(e);
  const stripeNow = { state: sessionState(h.finalSession)!, at: T0, paymentIntentId: h.finalSession.payment_intent };
  const meaning = readStripeEvent(e);
  const withKeptRefunds = (q: PaymentState) =>
    foldRefunds(
      q,
      received
        .map((r) => readStripeEvent(r))
        .flatMap((m) =>
          m.kind === 'refund' && m.paymentIntentId === q.paymentIntentId ? [m.signal.amountRefunded] : [],
        ),
    );
  if (meaning.kind === 'session') {
    let d = decidePaymentSignal(p, meaning.signal);
    if (d.outcome === 'conflict') d = decideFromStripe(p, stripeNow);
    return d.outcome === 'apply' ? withKeptRefunds(d.next) : p;
  }
  if (meaning.kind === 'refund') {
    if (p.paymentIntentId !== meaning.paymentIntentId) return p; // kept; folded in once the payment is paid
    if (decidePaymentSignal(p, meaning.signal).outcome !== 'conflict') return withKeptRefunds(p);
    const settled = decideFromStripe(p, stripeNow);
    return withKeptRefunds(settled.outcome === 'apply' ? settled.next : p);
  }
  return p;
}

const initial = (): PaymentState => ({
  status: 'open',
  amount: AMOUNT,
  refundedAmount: 0,
  paidAt: null,
  paymentIntentId: null,
});
const run = (h: History, order: ModelEvent[]) => {
  const received: ModelEvent[] = [];
  const applied = new Set<string>();
  return order.reduce((p, e) => deliver(p, e, h, received, applied), initial());
};

/** What Stripe holds at the end, as a payment state: the truth every ordering must reach. */
function truthOf(h: History): Pick<PaymentState, 'status' | 'refundedAmount'> {
  const failed = h.events.some((e) => e.type === 'checkout.session.async_payment_failed');
  const s = failed ? 'failed' : sessionState(h.finalSession)!;
  if (s !== 'paid') return { status: s, refundedAmount: 0 };
  return { status: h.refunded >= AMOUNT ? 'refunded' : 'paid', refundedAmount: h.refunded };
}

describe('payment events in any order', () => {
  it('reaches the state Stripe holds, each event applied once, over 1,000 random orderings with duplicates', () => {
    const scenario = fc
      .record({ kind: fc.integer({ min: 0, max: 3 }), refunds: fc.integer({ min: 0, max: 3 }) })
      .chain(({ kind, refunds }) => {
        const h = historyOf(kind, refunds);
        return fc
          .tuple(
            fc.array(fc.integer({ min: 1, max: 3 }), { minLength: h.events.length, maxLength: h.events.length }),
            fc.integer(),
          )
          .map(([copies, seed]) => ({ h, copies, seed }));
      });
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), ({ h, copies }, keys) => {
        const deliveries = h.events.flatMap((e, i) => Array.from({ length: copies[i]! }, () => e));
        const it = keys[Symbol.iterator]();
        const order = deliveries
          .map((e) => ({ e, k: it.next().value as number }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.e);
        const inOrder = run(h, h.events);
        const shuffled = run(h, order);
        const truth = truthOf(h);
        expect(inOrder).to.include(truth);
        expect(shuffled).to.include(truth);
        expect(shuffled.paymentIntentId).to.equal(h.finalSession.payment_intent);
        expect(shuffled.paidAt !== null).to.equal(hasPaid(truth.status));
      }),
      { numRuns: 1000 },
    );
  });
});
