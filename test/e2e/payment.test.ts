// A payment reminder's whole path through real workers: the due reminder is scanned and mailed, the payer
// completes the Checkout Session at the fake Stripe, Stripe's signed event reaches POST /webhooks/stripe, the real
// stripe-events worker marks the payment paid (and mails the owner), and the next scans send that client nothing.
import { expect } from 'chai';
import request from 'supertest';
import Stripe from 'stripe';
import type { Config } from '@nudge/config';
import { waitFor } from '@nudge/testing';
import { createApp } from '../../apps/api/src/index';
import { testDeps } from '../../apps/api/test/helpers';
import { startBillingHarness, type BillingHarness } from '../../apps/worker/test/helpers/billing-harness';

const WEBHOOK_SECRET = 'whsec_fake_e2e_endpoint';

describe('a payment reminder, end to end', function () {
  this.timeout(90_000);
  let h: BillingHarness;
  let app: ReturnType<typeof createApp>;

  before(async () => {
    h = await startBillingHarness();
    const config: Config = { ...h.ctx.config, stripe: { ...h.ctx.config.stripe, webhookSecret: WEBHOOK_SECRET } };
    app = createApp({ ...testDeps(), db: h.db, config });
  });
  after(async () => h.close());

  it('mails the reminder, takes the signed completed event, marks the payment paid, and reminds no more', async () => {
    // Due now, and every day after until paid.
    const due = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const f = await h.paymentReminder({
      notifyOnPayment: true,
      withPayments: false,
      nextRunAt: due,
      schedule: { kind: 'recurring', rrule: 'FREQ=DAILY', timezone: 'UTC', starts_at: due.toISOString() },
      messageTemplate: 'Dear {{client.name}}, please pay {{reminder.title}} here: {{payment_link}}',
    });

    // The scan makes the payment; the billing worker its Checkout Session; the mail carries the session's link.
    await h.scan(due);
    const [first] = await h.notificationsOf(f.reminderId);
    expect(first, 'the reminder notification').to.not.equal(undefined);
    expect((await h.settled(f.workspaceId, first!.id)).notification.status).to.equal('sent');
    const payment = (await h.db('payments').where({ reminder_id: f.reminderId }).first()) as {
      id: string;
      checkout_session_id: string;
      checkout_url: string;
    };
    expect(payment.checkout_url).to.be.a('string');
    const mails = await h.mails();
    expect(mails.some((m) => m.replace(/=\r?\n/g, '').includes(payment.checkout_url))).to.equal(true);
    const p = { id: payment.id, sessionId: payment.checkout_session_id };

    // The payer pays; Stripe signs and posts checkout.session.completed.
    h.stripe.completeSession(p.sessionId, 'paid');
    const event = h.stripe.event('checkout.session.completed', p.sessionId);
    const payload = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    await request(app)
      .post('/webhooks/stripe')
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', signature)
      .send(payload)
      .expect(200);

    const paid = await waitFor(
      async () => {
        const row = await h.payment(p.id);
        return row.status === 'paid' ? row : undefined;
      },
      { what: 'the payment paid', timeoutMs: 30_000 },
    );
    expect(paid.paid_at).to.be.instanceOf(Date);
    expect(await h.db('reminders').where({ id: f.reminderId }).first()).to.include({ status: 'completed' });
    await waitFor(async () => ((await h.payment(p.id)).paid_notice_sent_at ? true : undefined), {
      what: "the owner's paid mail",
      timeoutMs: 30_000,
    });

    // The next days' scans send that client nothing.
    const before = (await h.notificationsOf(f.reminderId)).length;
    for (const days of [1, 2]) await h.scan(new Date(due.getTime() + days * 86400_000 + 60_000));
    expect(await h.notificationsOf(f.reminderId)).to.have.length(before);
  });
});
