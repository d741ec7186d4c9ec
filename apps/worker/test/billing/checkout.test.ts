// Payment reminders through real BullMQ workers: the scan makes one payment per occurrence and client and a
// billing-checkout job; the billing worker makes the Checkout Session on the fake Stripe (on the workspace's
// connected account, with an idempotency key from the payment id) and enqueues the notification, whose mail at the
// fake SendGrid carries the link. A crash between Stripe's answer and the database write, or a retried job, still
// leaves one session; a client who paid gets no further reminder; a cancel expires the session.
import { expect } from 'chai';
import { getConfig } from '@nudge/config';
import { SendgridEmailAdapter, StripeAdapter } from '@nudge/channels';
import { findPaymentForJob, type NotificationRow, type PaymentRow } from '@nudge/db';
import { createWorker, QUEUES, type Worker } from '@nudge/queue';
import { startFakeSendgrid, startFakeStripe, type FakeSendgrid, type FakeStripe } from '@nudge/testing';
import { startReminderHarness, type ReminderHarness } from '../helpers/reminder-harness';
import { createCheckoutProcessor } from '../../src/processors/checkout.processor';
import { runCancel, runCheckout, STRIPE_NOT_CONNECTED, type CheckoutDeps } from '../../src/billing/checkout';
import { dispatchJobsOn, type ChannelJobs } from '../../src/dispatch/dispatch-jobs';
import { reconcileReminderNotifications } from '../../src/reminders/reminder-scan.service';

const DAY = 86400_000;

describe('payment reminders: checkout links (billing-checkout)', function () {
  this.timeout(30_000);
  let stripe: FakeStripe;
  let sendgrid: FakeSendgrid;
  let adapter: StripeAdapter;
  let mail: SendgridEmailAdapter;
  let h: ReminderHarness;
  let billing: Worker;

  before(async function () {
    this.timeout(60_000);
    [stripe, sendgrid] = await Promise.all([startFakeStripe(), startFakeSendgrid()]);
    adapter = new StripeAdapter({ secretKey: stripe.secretKey, apiUrl: stripe.url, timeoutMs: 2000 });
    mail = new SendgridEmailAdapter({ apiKey: sendgrid.apiKey, apiUrl: sendgrid.url, from: 'noreply@nudge.test' });
    const base = getConfig();
    h = await startReminderHarness({
      platformEmail: mail,
      config: {
        usePlatformCredentials: true,
        stripe: { ...base.stripe, secretKey: stripe.secretKey, apiUrl: stripe.url },
      },
    });
    const process = createCheckoutProcessor({ stripe: adapter, db: h.db });
    billing = createWorker(QUEUES.billingCheckout, (job) => process(job, h.ctx), { concurrency: 5 });
    billing.on('error', () => undefined);
  });
  after(async () => {
    await billing?.close();
    await h?.close();
    await Promise.allSettled([adapter.close(), mail.close(), stripe.close(), sendgrid.close()]);
  });

  const deps = (over: Partial<CheckoutDeps> = {}): CheckoutDeps => ({
    db: h.db,
    stripe: adapter,
    config: h.ctx.config,
    jobs: dispatchJobsOn(h.producers),
    logger: h.ctx.logger,
    ...over,
  });
  const paymentsOf = (reminderId: string) =>
    h.db<PaymentRow>('payments').where({ reminder_id: reminderId }).orderBy(['client_id', 'occurrence_at']);
  const connected = async (ws: string): Promise<string> => {
    const { id } = await adapter.createConnectAccount();
    await h.db('workspaces').where({ id: ws }).update({ stripe_account_id: id });
    return id;
  };
  const paymentReminder = async (ws: string, clients: string[], nextRunAt: Date, over = {}) =>
    h.reminder(ws, clients, nextRunAt, {
      type: 'payment',
      amount: 12_500,
      currency: 'EUR',
      title: 'Invoice 7',
      message_template: 'Dear {{client.name}}, please pay {{amount}}: {{payment_link}}',
      ...over,
    });
  /** Makes every checkout-session write of this database fail, as a worker killed before it would. */
  const failSessionWrites = async (onlyFirst: boolean) => {
    await h.db.raw('CREATE SEQUENCE IF NOT EXISTS test_session_write_failures');
    await h.db.raw(`
      CREATE OR REPLACE FUNCTION test_fail_session_write() RETURNS trigger AS $$
      BEGIN
        IF NEW.checkout_session_id IS NOT NULL AND OLD.checkout_session_id IS NULL
           AND (${onlyFirst ? "nextval('test_session_write_failures') = 1" : 'true'}) THEN
          RAISE EXCEPTION 'simulated crash before the session was recorded';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await h.db.raw(
      'CREATE TRIGGER test_fail_session_write BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION test_fail_session_write()',
    );
  };
  const restoreSessionWrites = async () => {
    await h.db.raw('DROP TRIGGER IF EXISTS test_fail_session_write ON payments');
    await h.db.raw('DROP SEQUENCE IF EXISTS test_session_write_failures');
  };

  it('inserts one payment per occurrence and client, and a rerun of the same occurrence inserts none', async () => {
    const ws = await h.workspace();
    const [a, b] = [await h.client(ws), await h.client(ws)];
    const due = new Date(Date.now() - 1000);
    const reminder = await paymentReminder(ws, [a, b], due);
    const first = await h.scan(new Date());
    expect(first.payments).to.equal(2);
    const payments = await paymentsOf(reminder);
    const notifications = await h.notificationsOf(reminder);
    expect(payments).to.have.length(2);
    expect(payments.map((p) => [p.amount, p.currency, p.status])).to.deep.equal([
      [12_500, 'EUR', 'open'],
      [12_500, 'EUR', 'open'],
    ]);
    expect(new Set(payments.map((p) => p.notification_id))).to.deep.equal(new Set(notifications.map((n) => n.id)));
    expect(payments.every((p) => p.occurrence_at.getTime() === due.getTime())).to.equal(true);
    // The same occurrence claimed again (a scan that crashed after the commit, replayed): nothing new.
    await h.db('reminder_clients').where({ reminder_id: reminder }).update({ next_run_at: due });
    await h.db('reminders').where({ id: reminder }).update({ status: 'active' });
    const again = await h.scan(new Date());
    expect(again).to.include({ claimed: 2, created: 0, payments: 0 });
    expect(await paymentsOf(reminder)).to.have.length(2);
  });

  it("makes the session on the connected account's Stripe-Account and mails the link through SendGrid", async () => {
    const ws = await h.workspace();
    const acct = await connected(ws);
    const client = await h.client(ws, { name: 'Ada' });
    const reminder = await paymentReminder(ws, [client], new Date(Date.now() - 1000));
    await h.scan(new Date());
    const [n] = await h.notificationsOf(reminder);
    const { notification } = await h.settled(ws, n!.id);
    expect(notification.status).to.equal('sent');
    const [payment] = await paymentsOf(reminder);
    const create = stripe.creates.find((c) => c.sessionId === payment!.checkout_session_id);
    expect(create).to.include({ stripeAccount: acct, idempotencyKey: `checkout-${payment!.id}` });
    expect(create!.params).to.deep.include({
      mode: 'payment',
      metadata: {
        workspace_id: ws,
        reminder_id: reminder,
        client_id: client,
        payment_id: payment!.id,
        notification_id: n!.id,
      },
    });
    expect(payment).to.include({ stripe_account_id: acct, checkout_url: stripe.sessions.get(create!.sessionId)!.url });
    // Every request about this payment's session went out on the workspace's account.
    const sessionCalls = stripe.requests.filter(
      (r) => r.path.startsWith('/v1/checkout/sessions') && r.raw.includes(payment!.id),
    );
    expect(sessionCalls.map((r) => stripe.stripeAccountOf(r))).to.deep.equal([acct]);
    const sent = sendgrid.mails.find((m) => (m.body.custom_args as Record<string, string>)?.notification_id === n!.id);
    const text = (sent!.body.content as { type: string; value: string }[]).find((c) => c.type === 'text/plain')!.value;
    expect(text).to.contain(payment!.checkout_url!);
    expect(notification.body).to.contain(payment!.checkout_url!);
  });

  it('fails the notification, making no session, for a workspace with no account where platform credentials are off', async () => {
    const ws = await h.workspace();
    const reminder = await paymentReminder(ws, [await h.client(ws)], new Date(Date.now() - 1000));
    await h.scan(new Date(), { checkouts: nowhere() });
    const [payment] = await paymentsOf(reminder);
    const creates = stripe.creates.length;
    const outcome = await runCheckout(
      payment!.id,
      deps({ config: { ...h.ctx.config, usePlatformCredentials: false } }),
    );
    expect(outcome).to.equal('not-connected');
    expect(stripe.creates.length).to.equal(creates);
    const [n] = await h.notificationsOf(reminder);
    expect(n).to.include({ status: 'failed', last_error: STRIPE_NOT_CONNECTED });
    expect((await findPaymentForJob(h.db, payment!.id))?.status).to.equal('failed');
  });

  it('leaves one session when the worker dies between Stripe creating it and the database recording it', async () => {
    const ws = await h.workspace();
    const acct = await connected(ws);
    const reminder = await paymentReminder(ws, [await h.client(ws)], new Date(Date.now() - 1000));
    await h.scan(new Date(), { checkouts: nowhere() });
    const [payment] = await paymentsOf(reminder);
    await failSessionWrites(false);
    try {
      await runCheckout(payment!.id, deps()).then(
        () => expect.fail('the write should have failed'),
        (err: Error) => expect(err.message).to.contain('simulated crash'),
      );
    } finally {
      await restoreSessionWrites();
    }
    expect((await findPaymentForJob(h.db, payment!.id))?.checkout_session_id).to.equal(null);
    expect(await runCheckout(payment!.id, deps())).to.equal('ready');
    const mine = stripe.creates.filter((c) => c.idempotencyKey === `checkout-${payment!.id}`);
    expect(mine).to.have.length(1);
    expect(mine[0]!.stripeAccount).to.equal(acct);
    const replays = stripe.requests.filter((r) => r.headers['idempotency-key'] === `checkout-${payment!.id}`);
    expect(replays).to.have.length(2);
    expect((await findPaymentForJob(h.db, payment!.id))?.checkout_session_id).to.equal(mine[0]!.sessionId);
  });

  it('makes no second session when BullMQ retries a checkout job whose first try failed after Stripe answered', async () => {
    const ws = await h.workspace();
    const reminder = await paymentReminder(ws, [await h.client(ws)], new Date(Date.now() - 1000));
    await failSessionWrites(true);
    try {
      await h.scan(new Date());
      const [n] = await h.notificationsOf(reminder);
      const { notification } = await h.settled(ws, n!.id);
      expect(notification.status).to.equal('sent');
    } finally {
      await restoreSessionWrites();
    }
    const [payment] = await paymentsOf(reminder);
    const key = `checkout-${payment!.id}`;
    expect(stripe.requests.filter((r) => r.headers['idempotency-key'] === key)).to.have.length(2);
    expect(stripe.creates.filter((c) => c.idempotencyKey === key)).to.have.length(1);
  });

  it('re-enqueues the checkout of a queued notification whose payment never got its link', async () => {
    const ws = await h.workspace();
    const reminder = await paymentReminder(ws, [await h.client(ws)], new Date(Date.now() - 1000));
    // Redis refused the checkout job: the notification stays queued, its payment without a link.
    await h.scan(new Date(), { checkouts: nowhere() });
    const [n] = await h.notificationsOf(reminder);
    expect((await paymentsOf(reminder))[0]?.checkout_url).to.equal(null);
    const reclaimed = await reconcileReminderNotifications(h.scanDeps(), new Date(Date.now() + 300_000), {
      workspaceId: ws,
    });
    expect(reclaimed).to.equal(1);
    const { notification } = await h.settled(ws, n!.id);
    expect(notification.status).to.equal('sent');
    const [payment] = await paymentsOf(reminder);
    expect(payment!.checkout_url).to.be.a('string');
    expect(notification.body).to.contain(payment!.checkout_url!);
  });

  it('sends a paid client no further reminder, cancels one already queued, and completes the reminder once all paid', async () => {
    const ws = await h.workspace();
    const [a, b] = [await h.client(ws), await h.client(ws)];
    const first = new Date(Math.floor((Date.now() - 3 * DAY) / 60_000) * 60_000);
    const reminder = await paymentReminder(ws, [a, b], first, {
      schedule: { kind: 'recurring', rrule: 'FREQ=DAILY', timezone: 'UTC' },
      created_at: new Date(first.getTime() - DAY),
    });
    const markPaid = (clientId: string) =>
      h
        .db('payments')
        .where({ reminder_id: reminder, client_id: clientId })
        .update({ status: 'paid', paid_at: new Date() });

    await h.scan(new Date(first.getTime() + 1000), { checkouts: nowhere() });
    expect(await paymentsOf(reminder)).to.have.length(2);
    await markPaid(a);
    // The next day: only b is reminded; a's assignment stops.
    const second = await h.scan(new Date(first.getTime() + DAY + 1000), { checkouts: nowhere() });
    expect(second).to.include({ paid: 1, payments: 1 });
    expect((await paymentsOf(reminder)).filter((p) => p.client_id === a)).to.have.length(1);
    const stopped = await h.db('reminder_clients').where({ reminder_id: reminder, client_id: a }).first('next_run_at');
    expect(stopped.next_run_at).to.equal(null);

    // b pays while the second day's message still waits: its job cancels it.
    const queued = (await h.notificationsOf(reminder)).find(
      (n: NotificationRow) => n.client_id === b && n.status === 'queued',
    )!;
    const pending = (await paymentsOf(reminder)).find((p) => p.notification_id === queued.id)!;
    await h.db('payments').where({ id: pending.id }).update({ checkout_url: 'https://checkout.test/x' });
    await markPaid(b);
    await h.producers.add(
      QUEUES.dispatchEmail,
      { kind: 'notification', notificationId: queued.id },
      { jobId: `${queued.id}-t` },
    );
    const { notification } = await h.settled(ws, queued.id);
    expect(notification).to.include({ status: 'cancelled', last_error: 'client_paid' });

    const third = await h.scan(new Date(first.getTime() + 2 * DAY + 1000), { checkouts: nowhere() });
    expect(third).to.include({ paid: 1, payments: 0, completed: 1 });
    expect((await h.db('reminders').where({ id: reminder }).first('status')).status).to.equal('completed');
  });

  describe('cancel', () => {
    const withSession = async () => {
      const ws = await h.workspace();
      const acct = await connected(ws);
      const reminder = await paymentReminder(ws, [await h.client(ws)], new Date(Date.now() + 3600_000));
      await h.scan(new Date(Date.now() + 3600_000 - 30_000), { checkouts: nowhere() });
      const [payment] = await paymentsOf(reminder);
      expect(await runCheckout(payment!.id, deps())).to.equal('ready');
      return { ws, acct, reminder, payment: (await findPaymentForJob(h.db, payment!.id))! };
    };

    it('expires the session on Stripe and cancels the payment and its unsent notification', async () => {
      const { acct, reminder, payment } = await withSession();
      expect(await runCancel(payment.id, deps())).to.equal('cancelled');
      expect(stripe.sessions.get(payment.checkout_session_id!)?.status).to.equal('expired');
      const expire = stripe.requests.find(
        (r) => r.path === `/v1/checkout/sessions/${payment.checkout_session_id}/expire`,
      );
      expect(stripe.stripeAccountOf(expire!)).to.equal(acct);
      expect((await findPaymentForJob(h.db, payment.id))?.status).to.equal('cancelled');
      const [n] = await h.notificationsOf(reminder);
      expect(n).to.include({ status: 'cancelled', last_error: 'payment_cancelled' });
    });

    it('lets a completion that crossed the cancel win', async () => {
      const { payment } = await withSession();
      stripe.completeSession(payment.checkout_session_id!);
      expect(await runCancel(payment.id, deps())).to.equal('completed');
      expect((await findPaymentForJob(h.db, payment.id))?.status).to.equal('open');
      await h.db('payments').where({ id: payment.id }).update({ status: 'paid' });
      expect(await runCancel(payment.id, deps())).to.equal('settled');
      expect((await findPaymentForJob(h.db, payment.id))?.status).to.equal('paid');
    });
  });
});

/** A billing-checkout queue that refuses every add, as Redis would when it is away. */
function nowhere(): ChannelJobs {
  const down = () => Promise.reject(new Error('redis is away'));
  return { add: down, addMany: down, state: () => Promise.resolve('unknown'), remove: () => Promise.resolve() };
}
