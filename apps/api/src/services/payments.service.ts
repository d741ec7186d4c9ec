// Payments as a workspace sees them: listings with filters and cursor paging, one payment with the Stripe events that
// moved it, and the cancel request (the billing worker expires the session and marks the payment cancelled; a
// completion that crosses it wins). Also what the payer's return pages show, looked up without a signed-in user.
// Another workspace's payment is a 404; reading is open to every member, cancelling to owners and admins.
import {
  findPayerPageFacts,
  findPaymentView,
  listPaymentEvents,
  listPaymentViews,
  requestPaymentCancel,
  type Db,
  type Page,
  type PayerPageFacts,
  type PaymentEventView,
  type PaymentFilters,
  type PaymentView,
} from '@nudge/db';
import type { Logger } from '@nudge/logger';
import { jobIdFor, QUEUES, type Producers } from '@nudge/queue';
import { idScope, isManagerOf, ownScope, type Principal } from '../auth/principal';
import { Conflict, Forbidden, NotFound, Unavailable } from '../errors/domain-errors';
import type { AuditLog } from './audit';

export interface PaymentListQuery extends PaymentFilters {
  limit: number;
  cursor?: string;
}

export type PaymentDetail = PaymentView & { events: PaymentEventView[] };

export interface PayerPage {
  workspace_name: string;
  paid: boolean;
  retry_url: string | null;
}

/** A Checkout Session id as Stripe writes them; anything else names no payment and is not worth a query. */
const SESSION_ID = /^cs_[A-Za-z0-9_]{1,250}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The job id of a payment's n-th cancel job: apart from its checkout jobs' ids (jobIdFor(payment id, n)). */
export function cancelJobId(paymentId: string, n: number): string {
  return jobIdFor(`${paymentId}-cancel`, n);
}

export class PaymentsService {
  constructor(private readonly deps: { db: Db; producers: Producers; logger: Logger; audit: AuditLog }) {}

  list(p: Principal, q: PaymentListQuery): Promise<Page<PaymentView>> {
    const { limit, cursor, ...filters } = q;
    return listPaymentViews(this.deps.db, ownScope(p), filters, { limit, cursor });
  }

  async get(p: Principal, id: string): Promise<PaymentDetail> {
    const payment = await findPaymentView(this.deps.db, idScope(p), id);
    if (!payment) throw new NotFound('No such payment');
    return { ...payment, events: await listPaymentEvents(this.deps.db, id) };
  }

  /**
   * Asks the billing worker to expire an open payment's session. Asking again while it is still open enqueues again
   * (under a new job id), so a request whose enqueue failed (503) is simply repeated.
   */
  async cancel(p: Principal, id: string): Promise<PaymentView> {
    const { db, producers, audit, logger } = this.deps;
    const payment = await findPaymentView(db, idScope(p), id);
    if (!payment) throw new NotFound('No such payment');
    if (!isManagerOf(p, payment.workspace_id)) throw new Forbidden();
    const requested = await requestPaymentCancel(db, payment.workspace_id, id);
    if (!requested) {
      const current = (await findPaymentView(db, payment.workspace_id, id)) ?? payment;
      throw new Conflict(
        `Only an open payment can be cancelled; this one is ${current.status}`,
        'PAYMENT_NOT_CANCELLABLE',
      );
    }
    await audit.event('payment.cancel_requested', {
      userId: p.user.id,
      workspaceId: payment.workspace_id,
      targetType: 'payment',
      targetId: id,
      details: { amount: payment.amount, currency: payment.currency },
    });
    try {
      await producers.add(
        QUEUES.billingCheckout,
        { kind: 'cancel', paymentId: id },
        { jobId: cancelJobId(id, requested.job_number) },
      );
    } catch (err) {
      logger.warn('could not enqueue a payment cancel', { err, paymentId: id });
      throw new Unavailable('The cancellation could not be queued; retry shortly');
    }
    return requested;
  }

  /**
   * What a payer's return page may show: the business's name, whether it is paid, and the link back to Checkout
   * while the payment is open and its session unexpired. Anything that names no payment (absent, malformed, unknown)
   * is undefined, and the page stays generic.
   */
  async payerPage(q: { sessionId?: unknown; paymentId?: unknown }): Promise<PayerPage | undefined> {
    let facts: PayerPageFacts | undefined;
    if (typeof q.sessionId === 'string' && SESSION_ID.test(q.sessionId))
      facts = await findPayerPageFacts(this.deps.db, { sessionId: q.sessionId });
    else if (typeof q.paymentId === 'string' && UUID.test(q.paymentId))
      facts = await findPayerPageFacts(this.deps.db, { paymentId: q.paymentId.toLowerCase() });
    if (!facts) return undefined;
    const open =
      facts.status === 'open' &&
      !!facts.checkout_url &&
      /^https?:\/\//.test(facts.checkout_url) &&
      (!facts.checkout_expires_at || facts.checkout_expires_at.getTime() > Date.now());
    return {
      workspace_name: facts.workspace_name,
      paid: facts.status === 'paid',
      retry_url: open ? facts.checkout_url : null,
    };
  }
}
