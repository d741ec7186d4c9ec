// What the billing suites share: the reminder harness (a private database, since the reconciler and the sweep read
// whole tables; real BullMQ workers on the dispatch queues, email into a sandbox outbox that also takes the owner's
// paid mail), the fake Stripe reached through the real StripeAdapter, real stripe-events and billing-checkout
// workers, and helpers that
// make connected workspaces with an owner, payment reminders with one payment and one Checkout Session per client,
// and deliver events as POST /webhooks/stripe stores and queues them.
import { randomBytes } from 'node:crypto';
import { StripeAdapter } from '@nudge/channels';
import {
  findStripeEvent,
  insertStripeEvent,
  insertUser,
  recordStripeEventEnqueued,
  type StripeEventRow,
} from '@nudge/db';
import { QUEUES, createWorker, jobIdFor, type Worker } from '@nudge/queue';
import { startFakeStripe, waitFor, type FakeStripe, type StripeEvent } from '@nudge/testing';
import { paymentReconcilerOn, type PaymentReconciler } from '../../src/billing/payment-reconcile.service';
import { retrieveSessionWith } from '../../src/billing/stripe-session-reader';
import { createStripeEventProcessor } from '../../src/processors/stripe-event.processor';
import { createCheckoutProcessor } from '../../src/processors/checkout.processor';
import { startReminderHarness, type ReminderHarness } from './reminder-harness';

export interface PaymentFixture {
  workspaceId: string;
  reminderId: string;
  clientIds: string[];
  payments: { id: string; clientId: string; sessionId: string }[];
}

export interface BillingHarness extends ReminderHarness {
  stripe: FakeStripe;
  adapter: StripeAdapter;
  reconciler: PaymentReconciler;
  eventWorker: Worker;
  /** A workspace on its own connected account, with an active owner. */
  connectedWorkspace(opts?: {
    notifyOnPayment?: boolean;
  }): Promise<{ id: string; accountId: string; ownerEmail: string }>;
  /** A payment reminder for `clients` clients: one payment and one Checkout Session (on the account) per client. */
  paymentReminder(opts?: {
    clients?: number;
    amount?: number;
    notifyOnPayment?: boolean;
    /** When the assignments are due (a week ahead by default), and the schedule (once, then). */
    nextRunAt?: Date;
    schedule?: Record<string, unknown>;
    messageTemplate?: string;
    /** false: no payments made here; the scan makes them, and the checkout worker their sessions. */
    withPayments?: boolean;
  }): Promise<PaymentFixture>;
  /** Stores an event and queues it, as POST /webhooks/stripe does (a redelivery stores and queues nothing). */
  deliver(event: StripeEvent): Promise<void>;
  /** Stores an event without queueing it: a webhook that crashed between its insert and its enqueue. */
  storeOnly(event: StripeEvent): Promise<void>;
  processed(eventId: string): Promise<StripeEventRow>;
  payment(id: string): Promise<Record<string, unknown> & { status: string }>;
}

export async function startBillingHarness(): Promise<BillingHarness> {
  const rem = await startReminderHarness();
  const stripe = await startFakeStripe({ secretKey: 'sk_test_fake_billing_suite' });
  const adapter = new StripeAdapter({ secretKey: stripe.secretKey, apiUrl: stripe.url, timeoutMs: 5000 });
  const deps = { db: rem.db, retrieveSession: retrieveSessionWith(adapter) };
  const process = createStripeEventProcessor(deps);
  const eventWorker = createWorker(QUEUES.stripeEvents, (job) => process(job, rem.ctx), { concurrency: 5 });
  eventWorker.on('error', () => undefined);
  const checkout = createCheckoutProcessor({ stripe: adapter, db: rem.db });
  const checkoutWorker = createWorker(QUEUES.billingCheckout, (job) => checkout(job, rem.ctx), { concurrency: 5 });
  checkoutWorker.on('error', () => undefined);
  const reconciler = paymentReconcilerOn(rem.producers, { ...deps, logger: rem.ctx.logger });
  const tag = randomBytes(3).toString('hex');
  let n = 0;

  const connectedWorkspace: BillingHarness['connectedWorkspace'] = async (opts = {}) => {
    const id = await rem.workspace();
    const account = await adapter.createConnectAccount();
    stripe.updateAccount(account.id, { charges_enabled: true });
    await rem
      .db('workspaces')
      .where({ id })
      .update({
        stripe_account_id: account.id,
        stripe_charges_enabled: true,
        notify_on_payment: opts.notifyOnPayment ?? false,
      });
    const ownerEmail = `owner-${tag}-${++n}@example.com`;
    await insertUser(rem.db, {
      email: ownerEmail,
      password_hash: 'not-a-real-hash',
      name: 'Olive Owner',
      workspace_id: id,
      role: 'owner',
      is_active: true,
    });
    return { id, accountId: account.id, ownerEmail };
  };

  const store = async (event: StripeEvent) =>
    insertStripeEvent(rem.db, { id: event.id, type: event.type, account: event.account ?? null, payload: event });

  return {
    ...rem,
    stripe,
    adapter,
    reconciler,
    eventWorker,
    connectedWorkspace,
    async paymentReminder(opts = {}) {
      const ws = await connectedWorkspace({ notifyOnPayment: opts.notifyOnPayment });
      const clientIds: string[] = [];
      for (let i = 0; i < (opts.clients ?? 1); i++)
        clientIds.push(await rem.client(ws.id, { name: `Payer ${i + 1}`, email: `payer-${tag}-${++n}@example.com` }));
      const reminderId = await rem.reminder(ws.id, clientIds, opts.nextRunAt ?? new Date(Date.now() + 7 * 86400_000), {
        title: 'Invoice 1042',
        schedule: opts.schedule,
        message_template: opts.messageTemplate,
      });
      const amount = opts.amount ?? 12_500;
      await rem.db('reminders').where({ id: reminderId }).update({ type: 'payment', amount, currency: 'EUR' });
      const payments: PaymentFixture['payments'] = [];
      for (const clientId of opts.withPayments === false ? [] : clientIds) {
        const [row] = await rem
          .db('payments')
          .insert({
            workspace_id: ws.id,
            reminder_id: reminderId,
            client_id: clientId,
            occurrence_at: new Date(),
            amount,
            currency: 'EUR',
            stripe_account_id: ws.accountId,
          })
          .returning<{ id: string }[]>('id');
        const session = await adapter.createCheckoutSession(
          {
            amount,
            currency: 'EUR',
            productName: 'Invoice 1042',
            successUrl: 'https://nudge.test/pay/success',
            cancelUrl: 'https://nudge.test/pay/cancel',
            metadata: { workspace_id: ws.id, reminder_id: reminderId, client_id: clientId, payment_id: row!.id },
          },
          { stripeAccount: ws.accountId, idempotencyKey: `checkout-${row!.id}` },
        );
        await rem
          .db('payments')
          .where({ id: row!.id })
          .update({ checkout_session_id: session.id, checkout_url: session.url });
        payments.push({ id: row!.id, clientId, sessionId: session.id });
      }
      return { workspaceId: ws.id, reminderId, clientIds, payments };
    },
    async deliver(event) {
      const { inserted, row } = await store(event);
      if (!inserted) return;
      await rem.producers.add(
        QUEUES.stripeEvents,
        { eventId: event.id },
        { jobId: jobIdFor(event.id, row.enqueue_count) },
      );
      await recordStripeEventEnqueued(rem.db, event.id, row.enqueue_count + 1);
    },
    async storeOnly(event) {
      await store(event);
    },
    processed: (eventId) =>
      waitFor(
        async () => {
          const row = await findStripeEvent(rem.db, eventId);
          return row?.processed_at ? row : undefined;
        },
        { what: `stripe event ${eventId} to be processed` },
      ),
    async payment(id) {
      const row = (await rem.db('payments').where({ id }).first()) as Record<string, unknown> & { status: string };
      return { ...row, amount: Number(row.amount), refunded_amount: Number(row.refunded_amount) };
    },
    async close() {
      await eventWorker.close();
      await checkoutWorker.close();
      await adapter.close();
      await stripe.close();
      await rem.close();
    },
  };
}
