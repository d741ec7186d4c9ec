// Stripe events through the billing worker: stored as the webhook stores them, applied by a real stripe-events
// worker (or the reconciler directly, for the many orderings) against a private database and the fake Stripe.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { hasPaid, sessionState } from '@nudge/domain';
import { QUEUES, jobIdFor } from '@nudge/queue';
import { waitFor, type StripeEvent } from '@nudge/testing';
import { paidNoticeJobsOn, stripeEventJobsOn } from '../../src/billing/billing-jobs';
import { runBillingReconcile } from '../../src/billing/billing-reconcile.service';
import { runStripeSweep, SWEEP_AFTER_MS } from '../../src/billing/stripe-sweep.service';
import { startBillingHarness, type BillingHarness } from '../helpers/billing-harness';

describe('billing: Stripe events', function () {
  this.timeout(60_000);
  let h: BillingHarness;
  before(async () => {
    h = await startBillingHarness();
  });
  after(async () => h.close());

  const refundEvent = (sessionId: string, amountRefunded: number, account: string): StripeEvent =>
    h.stripe.event(
      'charge.refunded',
      {
        id: `ch_fake${randomBytes(6).toString('hex')}`,
        object: 'charge',
        payment_intent: h.stripe.sessions.get(sessionId)!.payment_intent,
        amount: 12_500,
        amount_refunded: amountRefunded,
      },
      { account },
    );
  const accountOf = (f: { workspaceId: string }) =>
    h
      .db('workspaces')
      .where({ id: f.workspaceId })
      .first()
      .then((w: { stripe_account_id: string }) => w.stripe_account_id);

  describe('checkout.session.completed', () => {
    it('marks the payment paid with paid_at and the payment intent, and the event processed naming it', async () => {
      const f = await h.paymentReminder();
      const p = f.payments[0]!;
      const session = h.stripe.completeSession(p.sessionId, 'paid');
      const e = h.stripe.event('checkout.session.completed', p.sessionId);
      await h.deliver(e);
      const row = await h.processed(e.id);
      expect(row.payment_id).to.equal(p.id);
      const pay = await h.payment(p.id);
      expect(pay).to.include({ status: 'paid', payment_intent_id: session.payment_intent });
      expect(pay.paid_at).to.be.instanceOf(Date);
    });

    it('counts a delayed payment method as processing, never paid, until async_payment_succeeded', async () => {
      const f = await h.paymentReminder();
      const p = f.payments[0]!;
      h.stripe.completeSession(p.sessionId, 'unpaid');
      const e1 = h.stripe.event('checkout.session.completed', p.sessionId);
      await h.deliver(e1);
      await h.processed(e1.id);
      expect(await h.payment(p.id)).to.include({ status: 'processing', paid_at: null });
      expect(await h.db('reminders').where({ id: f.reminderId }).first()).to.include({ status: 'active' });
      h.stripe.updateSession(p.sessionId, { payment_status: 'paid' });
      const e2 = h.stripe.event('checkout.session.async_payment_succeeded', p.sessionId);
      await h.deliver(e2);
      await h.processed(e2.id);
      expect(await h.payment(p.id)).to.include({ status: 'paid' });
    });

    it('applies a redelivered event once: one row, and the second job finds it processed', async () => {
      const f = await h.paymentReminder({ notifyOnPayment: true });
      const p = f.payments[0]!;
      h.stripe.completeSession(p.sessionId, 'paid');
      const e = h.stripe.event('checkout.session.completed', p.sessionId);
      await h.deliver(e);
      await h.deliver(e);
      await h.processed(e.id);
      const out = await h.reconciler.applyEvent(e.id);
      expect(out).to.deep.equal({ outcome: 'skipped', eventId: e.id, reason: 'already processed' });
      expect(await h.db('stripe_events').where({ id: e.id })).to.have.length(1);
      expect((await h.db('stripe_events').where({ id: e.id }).first()).enqueue_count).to.equal(1);
    });
  });

  it('never undoes paid with a late expired, and never undoes a completion with our own cancel', async () => {
    const f = await h.paymentReminder({ clients: 2 });
    const [a, b] = f.payments as [(typeof f.payments)[0], (typeof f.payments)[0]];
    h.stripe.completeSession(a.sessionId, 'paid');
    const done = h.stripe.event('checkout.session.completed', a.sessionId);
    await h.deliver(done);
    await h.processed(done.id);
    const lateExpired = h.stripe.event(
      'checkout.session.expired',
      { ...h.stripe.sessions.get(a.sessionId)!, status: 'expired' },
      { account: h.stripe.sessionAccount(a.sessionId)! },
    );
    await h.deliver(lateExpired);
    await h.processed(lateExpired.id);
    expect(await h.payment(a.id)).to.include({ status: 'paid' });

    await h.db('payments').where({ id: b.id }).update({ status: 'cancelled' });
    h.stripe.completeSession(b.sessionId, 'paid');
    const crossing = h.stripe.event('checkout.session.completed', b.sessionId);
    await h.deliver(crossing);
    await h.processed(crossing.id);
    expect(await h.payment(b.id)).to.include({ status: 'paid' });
  });

  it("settles a conflict by asking Stripe for the session, on the workspace's account, and takes its state", async () => {
    const f = await h.paymentReminder();
    const p = f.payments[0]!;
    const account = await accountOf(f);
    // We hold it expired (an expired event built from a stale view), while Stripe has it paid.
    const wrongExpired = h.stripe.event(
      'checkout.session.expired',
      { ...h.stripe.sessions.get(p.sessionId)!, status: 'expired' },
      { account },
    );
    await h.deliver(wrongExpired);
    await h.processed(wrongExpired.id);
    expect(await h.payment(p.id)).to.include({ status: 'expired' });
    h.stripe.completeSession(p.sessionId, 'paid');
    const before = h.stripe.requests.length;
    const completed = h.stripe.event('checkout.session.completed', p.sessionId);
    await h.deliver(completed);
    await h.processed(completed.id);
    expect(await h.payment(p.id)).to.include({ status: 'paid' });
    const retrieve = h.stripe.requests
      .slice(before)
      .find((r) => r.method === 'GET' && r.path === `/v1/checkout/sessions/${p.sessionId}`);
    expect(retrieve, 'a retrieve of the session').to.not.equal(undefined);
    expect(h.stripe.stripeAccountOf(retrieve!)).to.equal(account);
  });

  it("refuses an event from another connected account naming this workspace's payment", async () => {
    const f = await h.paymentReminder();
    const p = f.payments[0]!;
    const intruder = await h.connectedWorkspace();
    h.stripe.completeSession(p.sessionId, 'paid');
    const forged = h.stripe.event('checkout.session.completed', p.sessionId, { account: intruder.accountId });
    await h.deliver(forged);
    expect((await h.processed(forged.id)).payment_id).to.equal(null);
    expect(await h.payment(p.id)).to.include({ status: 'open' });
  });

  it('keeps a failure on the event and retries it: a Stripe outage while settling a conflict', async () => {
    const f = await h.paymentReminder();
    const p = f.payments[0]!;
    await h.db('payments').where({ id: p.id }).update({ status: 'expired' });
    h.stripe.completeSession(p.sessionId, 'paid');
    h.stripe.inject(503, 1);
    const e = h.stripe.event('checkout.session.completed', p.sessionId);
    await h.deliver(e);
    const row = await h.processed(e.id);
    expect(row.last_error, 'the failed try kept on the event').to.be.a('string').and.not.equal('');
    expect(await h.payment(p.id)).to.include({ status: 'paid' });
  });

  it('refunds: a partial refund keeps it paid, the whole amount makes it refunded', async () => {
    const f = await h.paymentReminder();
    const p = f.payments[0]!;
    const account = await accountOf(f);
    h.stripe.completeSession(p.sessionId, 'paid');
    const done = h.stripe.event('checkout.session.completed', p.sessionId);
    await h.deliver(done);
    await h.processed(done.id);
    const partial = refundEvent(p.sessionId, 2_500, account);
    await h.deliver(partial);
    expect((await h.processed(partial.id)).payment_id).to.equal(p.id);
    expect(await h.payment(p.id)).to.include({ status: 'paid', refunded_amount: 2_500 });
    const whole = refundEvent(p.sessionId, 12_500, account);
    await h.deliver(whole);
    await h.processed(whole.id);
    expect(await h.payment(p.id)).to.include({ status: 'refunded', refunded_amount: 12_500 });
  });

  it('folds in a refund that arrived before the completion that names its payment intent', async () => {
    const f = await h.paymentReminder();
    const p = f.payments[0]!;
    const account = await accountOf(f);
    h.stripe.completeSession(p.sessionId, 'paid');
    const early = refundEvent(p.sessionId, 12_500, account);
    await h.deliver(early);
    expect((await h.processed(early.id)).payment_id).to.equal(null);
    expect(await h.payment(p.id)).to.include({ status: 'open' });
    const done = h.stripe.event('checkout.session.completed', p.sessionId);
    await h.deliver(done);
    await h.processed(done.id);
    expect(await h.payment(p.id)).to.include({ status: 'refunded', refunded_amount: 12_500 });
    expect((await h.db('stripe_events').where({ id: early.id }).first()).payment_id).to.equal(p.id);
  });

  it('stores an unknown event type and ignores it', async () => {
    const e = h.stripe.event('invoice.finalized', { id: 'in_fake1', object: 'invoice' });
    await h.deliver(e);
    const row = await h.processed(e.id);
    expect(row).to.include({ type: 'invoice.finalized', payment_id: null, last_error: null });
  });

  it("keeps a workspace's charges_enabled current from account.updated, and a late older one never undoes it", async () => {
    const ws = await h.connectedWorkspace();
    await h.db('workspaces').where({ id: ws.id }).update({ stripe_charges_enabled: false });
    const account = h.stripe.accounts.get(ws.accountId)!;
    const newer = h.stripe.event('account.updated', { ...account, charges_enabled: true }, { account: ws.accountId });
    const older = {
      ...h.stripe.event('account.updated', { ...account, charges_enabled: false }, { account: ws.accountId }),
      created: newer.created - 60,
    };
    await h.deliver(newer);
    await h.processed(newer.id);
    await h.deliver(older);
    await h.processed(older.id);
    expect(await h.db('workspaces').where({ id: ws.id }).first()).to.include({ stripe_charges_enabled: true });
  });

  describe('when a payment becomes paid', () => {
    it('mails the owner once, naming the client and never the client email, when notify_on_payment is on', async () => {
      const f = await h.paymentReminder({ notifyOnPayment: true });
      const p = f.payments[0]!;
      const client = (await h.db('clients').where({ id: p.clientId }).first()) as { name: string; email: string };
      const owner = (await h.db('users').where({ workspace_id: f.workspaceId, role: 'owner' }).first()) as {
        email: string;
      };
      const mailsBefore = (await h.mails()).length;
      h.stripe.completeSession(p.sessionId, 'unpaid');
      const processing = h.stripe.event('checkout.session.completed', p.sessionId);
      await h.deliver(processing);
      await h.processed(processing.id);
      h.stripe.updateSession(p.sessionId, { payment_status: 'paid' });
      const paid = h.stripe.event('checkout.session.async_payment_succeeded', p.sessionId);
      await h.deliver(paid);
      await h.processed(paid.id);
      // A second paid signal (a redelivery under another id, the sweep) makes no second mail.
      await h.reconciler.reconcilePayment((await h.db('payments').where({ id: p.id }).first()) as never);
      const mails = await waitFor(
        async () => {
          const all = await h.mails();
          return all.length > mailsBefore ? all : undefined;
        },
        { what: 'the paid mail' },
      );
      const mine = mails.filter((m) => m.includes(client.name) && m.includes(owner.email));
      expect(mine).to.have.length(1);
      expect(mine[0]).to.not.include(client.email);
      expect(mine[0]).to.include('Invoice 1042');
      const row = await h.payment(p.id);
      expect(row.paid_notice_sent_at).to.be.instanceOf(Date);
      expect(await h.reconciler.applyEvent(paid.id)).to.include({ outcome: 'skipped' });
    });

    it('sends no mail when notify_on_payment is off', async () => {
      const f = await h.paymentReminder({ notifyOnPayment: false });
      const p = f.payments[0]!;
      h.stripe.completeSession(p.sessionId, 'paid');
      const e = h.stripe.event('checkout.session.completed', p.sessionId);
      await h.deliver(e);
      await h.processed(e.id);
      expect(await h.payment(p.id)).to.include({ status: 'paid', paid_notice_due_at: null });
    });

    it('stops that client, and completes the reminder only once every client has paid', async () => {
      const f = await h.paymentReminder({ clients: 2 });
      const [a, b] = f.payments as [(typeof f.payments)[0], (typeof f.payments)[0]];
      for (const [i, p] of [a, b].entries()) {
        h.stripe.completeSession(p.sessionId, 'paid');
        const e = h.stripe.event('checkout.session.completed', p.sessionId);
        await h.deliver(e);
        await h.processed(e.id);
        const assignment = await h
          .db('reminder_clients')
          .where({ reminder_id: f.reminderId, client_id: p.clientId })
          .first();
        expect(assignment.next_run_at).to.equal(null);
        const reminder = await h.db('reminders').where({ id: f.reminderId }).first();
        expect(reminder.status).to.equal(i === 0 ? 'active' : 'completed');
        if (i === 0) expect(reminder.next_run_at, "the other client's next run").to.be.instanceOf(Date);
        else expect(reminder.next_run_at).to.equal(null);
      }
    });
  });

  describe('the billing reconciler', () => {
    const reconcile = (now = new Date(Date.now() + 10 * 60_000)) =>
      runBillingReconcile(
        {
          db: h.db,
          stripeEvents: stripeEventJobsOn(h.producers),
          paidNotices: paidNoticeJobsOn(h.producers),
          reclaimAfterSeconds: 120,
          logger: h.ctx.logger,
        },
        now,
      );

    it('recovers an event stored by a webhook that crashed before its enqueue', async () => {
      const f = await h.paymentReminder();
      const p = f.payments[0]!;
      h.stripe.completeSession(p.sessionId, 'paid');
      const e = h.stripe.event('checkout.session.completed', p.sessionId);
      await h.storeOnly(e);
      expect(await reconcile(new Date())).to.include({ events: 0 }); // still fresh: its first job may be on the way
      const result = await reconcile();
      expect(result.events).to.be.greaterThanOrEqual(1);
      await h.processed(e.id);
      expect(await h.payment(p.id)).to.include({ status: 'paid' });
      expect((await h.db('stripe_events').where({ id: e.id }).first()).enqueue_count).to.equal(1);
      // Applied: nothing left for the next tick.
      const again = await reconcile();
      expect(await h.producers.queue(QUEUES.stripeEvents).getJob(jobIdFor(e.id, 1))).to.equal(undefined);
      expect(again.events).to.equal(0);
    });

    it('enqueues again a paid mail whose enqueue was lost, and it goes once', async () => {
      const f = await h.paymentReminder({ notifyOnPayment: true });
      const p = f.payments[0]!;
      // Paid, the mail due, and no job: the process died right after the commit.
      await h
        .db('payments')
        .where({ id: p.id })
        .update({ status: 'paid', paid_at: new Date(), paid_notice_due_at: new Date() });
      const result = await reconcile();
      expect(result.paidNotices).to.be.greaterThanOrEqual(1);
      await waitFor(async () => (await h.payment(p.id)).paid_notice_sent_at ?? undefined, { what: 'the paid mail' });
      expect((await h.payment(p.id)).paid_notice_enqueue_count).to.equal(1);
      expect((await reconcile()).paidNotices).to.equal(0);
    });
  });

  describe('the nightly sweep', () => {
    const sweep = () => runStripeSweep({ db: h.db, reconciler: h.reconciler, logger: h.ctx.logger }, new Date());

    it('catches a dropped webhook: a payment unsettled for over 24 h whose session Stripe has completed', async () => {
      const old = await h.paymentReminder();
      const fresh = await h.paymentReminder();
      const [o, n] = [old.payments[0]!, fresh.payments[0]!];
      await h
        .db('payments')
        .where({ id: o.id })
        .update({ created_at: new Date(Date.now() - SWEEP_AFTER_MS - 3600_000) });
      h.stripe.completeSession(o.sessionId, 'paid');
      h.stripe.completeSession(n.sessionId, 'paid');
      // No event is ever delivered for either.
      const result = await sweep();
      expect(result.moved).to.be.greaterThanOrEqual(1);
      expect(await h.payment(o.id)).to.include({ status: 'paid' });
      expect(await h.payment(n.id)).to.include({ status: 'open' });
      expect(await h.db('reminders').where({ id: old.reminderId }).first()).to.include({ status: 'completed' });
    });

    it('moves an old open payment whose session expired at Stripe to expired', async () => {
      const f = await h.paymentReminder();
      const p = f.payments[0]!;
      await h
        .db('payments')
        .where({ id: p.id })
        .update({ created_at: new Date(Date.now() - SWEEP_AFTER_MS - 60_000) });
      h.stripe.expireSession(p.sessionId);
      await sweep();
      expect(await h.payment(p.id)).to.include({ status: 'expired' });
    });
  });

  describe('events in any order, more than once', () => {
    // Each run: a true history at the fake Stripe, its events duplicated and shuffled (seeded), applied by the
    // reconciler one delivery at a time against the real database (concurrently through the real worker for a
    // few). The payment must end where Stripe's session (and refund total) says, each event processed once.
    const rng = (seed: number) => () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const shuffle = <T>(xs: T[], next: () => number) => {
      const a = [...xs];
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      return a;
    };

    async function history(kind: number, next: () => number) {
      const f = await h.paymentReminder();
      const p = f.payments[0]!;
      const account = await accountOf(f);
      const events: StripeEvent[] = [];
      let refunded = 0;
      let failed = false;
      if (kind === 0 || kind === 1) {
        h.stripe.completeSession(p.sessionId, kind === 0 ? 'paid' : 'unpaid');
        events.push(h.stripe.event('checkout.session.completed', p.sessionId));
        if (kind === 1) {
          h.stripe.updateSession(p.sessionId, { payment_status: 'paid' });
          events.push(h.stripe.event('checkout.session.async_payment_succeeded', p.sessionId));
        }
        const refunds = Math.floor(next() * 3);
        for (let r = 1; r <= refunds; r++) {
          refunded = r === refunds && r > 1 ? 12_500 : r * 3_000;
          events.push(refundEvent(p.sessionId, refunded, account));
        }
      } else if (kind === 2) {
        h.stripe.completeSession(p.sessionId, 'unpaid');
        events.push(h.stripe.event('checkout.session.completed', p.sessionId));
        events.push(h.stripe.event('checkout.session.async_payment_failed', p.sessionId));
        failed = true;
      } else {
        h.stripe.expireSession(p.sessionId);
        events.push(h.stripe.event('checkout.session.expired', p.sessionId));
      }
      const s = h.stripe.sessions.get(p.sessionId)!;
      const state = failed ? 'failed' : sessionState(s)!;
      const status = hasPaid(state) ? (refunded >= 12_500 ? 'refunded' : 'paid') : state;
      return { p, events, expected: { status, refunded_amount: hasPaid(state) ? refunded : 0 } };
    }

    const deliveriesOf = (events: StripeEvent[], next: () => number) =>
      shuffle(
        events.flatMap((e) => Array.from({ length: 1 + Math.floor(next() * 3) }, () => e)),
        next,
      );

    it('reaches the state the fake Stripe holds over 24 seeded orderings, each event applied once', async () => {
      for (let seed = 1; seed <= 24; seed++) {
        const next = rng(seed);
        const { p, events, expected } = await history(seed % 4, next);
        for (const e of deliveriesOf(events, next)) {
          await h.storeOnly(e);
          await h.reconciler.applyEvent(e.id);
        }
        expect(await h.payment(p.id), `seed ${seed}`).to.include(expected);
        const rows = await h.db('stripe_events').whereIn(
          'id',
          events.map((e) => e.id),
        );
        expect(
          rows.every((r: { processed_at: Date | null }) => r.processed_at),
          `seed ${seed}`,
        ).to.equal(true);
      }
    });

    it('reaches it too with the deliveries racing through the real worker', async () => {
      for (let seed = 101; seed <= 108; seed++) {
        const next = rng(seed);
        const { p, events, expected } = await history(seed % 2, next);
        await Promise.all(deliveriesOf(events, next).map((e) => h.deliver(e).catch(() => undefined)));
        for (const e of events) await h.processed(e.id);
        expect(await h.payment(p.id), `seed ${seed}`).to.include(expected);
      }
    });
  });
});
