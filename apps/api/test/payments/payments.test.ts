// The payments API (issue 12, point 6): listings with filters and cursor paging, one payment with its Stripe events
// (never their payloads), and the cancel request: 202, audited, a billing-checkout cancel job; 409 once settled.
import { expect } from 'chai';
import request from 'supertest';
import { QUEUES } from '@nudge/queue';
import { testApp, testDeps, team, superuser } from '../helpers';
import { insertClient, insertReminder } from '../notifications/notification-fixtures';
import { cancelJobId } from '../../src/services/payments.service';
import { insertPayment, insertStripeEvent, PAYMENT_REMINDER } from './payment-fixtures';

type Team = Awaited<ReturnType<typeof team>>;
interface Page {
  items: { id: string }[];
  next_cursor: string | null;
}

describe('payments', () => {
  const db = testDeps().db;
  const queue = () => testDeps().producers.queue(QUEUES.billingCheckout);
  let t: Team;
  let other: Team;
  let ada: string;
  let bob: string;
  let invoice: string;
  let rent: string;
  const ids: Record<string, string> = {};
  const events: string[] = [];

  before(async function () {
    this.timeout(30_000);
    t = await team(testApp());
    other = await team(testApp());
    ada = await insertClient(db, t.workspaceId, 'Ada');
    bob = await insertClient(db, t.workspaceId, 'Bob');
    invoice = await insertReminder(db, t.workspaceId, [ada, bob], PAYMENT_REMINDER);
    rent = await insertReminder(db, t.workspaceId, [ada], { ...PAYMENT_REMINDER, title: 'Rent' });
    const base = { reminder_id: invoice, client_id: ada };
    ids.open = (
      await insertPayment(db, t.workspaceId, {
        ...base,
        checkout_url: 'https://checkout.stripe.test/c/pay/cs_test_open',
        checkout_session_id: `cs_test_open_${t.workspaceId.slice(0, 8)}`,
        created_at: new Date('2027-01-01T09:00:00Z'),
      })
    ).id;
    ids.paid = (
      await insertPayment(db, t.workspaceId, {
        reminder_id: invoice,
        client_id: bob,
        status: 'paid',
        amount: 2500,
        currency: 'EUR',
        paid_at: new Date('2027-01-02T10:00:00Z'),
        created_at: new Date('2027-01-02T09:00:00Z'),
      })
    ).id;
    ids.expired = (
      await insertPayment(db, t.workspaceId, {
        ...base,
        status: 'expired',
        created_at: new Date('2027-01-03T09:00:00Z'),
      })
    ).id;
    ids.rent = (
      await insertPayment(db, t.workspaceId, {
        reminder_id: rent,
        client_id: ada,
        created_at: new Date('2027-01-04T09:00:00Z'),
      })
    ).id;
    ids.foreign = (await insertPayment(db, other.workspaceId)).id;
    events.push(
      await insertStripeEvent(db, ids.paid, {
        received_at: new Date('2027-01-02T10:00:01Z'),
        processed_at: new Date('2027-01-02T10:00:02Z'),
      }),
      await insertStripeEvent(db, ids.paid, { type: 'charge.refunded', received_at: new Date('2027-01-05T10:00:00Z') }),
    );
    await insertStripeEvent(db, ids.foreign);
    await insertStripeEvent(db, null, { type: 'account.updated' });
  });

  const list = async (query: Record<string, string | number>) =>
    ((await request(testApp()).get('/payments/').query(query).set(t.member.auth).expect(200)).body as Page).items.map(
      (p) => p.id,
    );

  describe('GET /payments/', () => {
    it("lists the caller's workspace's payments newest first, each with exactly the documented fields", async () => {
      const res = await request(testApp()).get('/payments').set(t.member.auth).expect(200);
      expect((res.body as Page).items.map((p) => p.id)).to.deep.equal([ids.rent, ids.expired, ids.paid, ids.open]);
      expect(res.body.next_cursor).to.equal(null);
      expect(res.body.items[2]).to.deep.equal({
        id: ids.paid,
        reminder_id: invoice,
        client_id: bob,
        notification_id: null,
        amount: 2500,
        currency: 'EUR',
        status: 'paid',
        checkout_url: null,
        paid_at: '2027-01-02T10:00:00.000Z',
        refunded_amount: 0,
        created_at: '2027-01-02T09:00:00.000Z',
      });
      expect(res.body.items[3].checkout_url).to.equal('https://checkout.stripe.test/c/pay/cs_test_open');
    });

    it('pages with an opaque cursor, never repeating or skipping a payment', async () => {
      const first = await request(testApp()).get('/payments/?limit=3').set(t.member.auth).expect(200);
      expect((first.body as Page).items.map((p) => p.id)).to.deep.equal([ids.rent, ids.expired, ids.paid]);
      expect(first.body.next_cursor).to.be.a('string');
      expect(await list({ limit: 3, cursor: first.body.next_cursor })).to.deep.equal([ids.open]);
    });

    it('filters by status, client, reminder and date', async () => {
      expect(await list({ status: 'open' })).to.deep.equal([ids.rent, ids.open]);
      expect(await list({ status: 'paid' })).to.deep.equal([ids.paid]);
      expect(await list({ client_id: bob })).to.deep.equal([ids.paid]);
      expect(await list({ reminder_id: rent })).to.deep.equal([ids.rent]);
      expect(await list({ reminder_id: invoice, client_id: ada })).to.deep.equal([ids.expired, ids.open]);
      expect(await list({ from: '2027-01-02T00:00:00Z', to: '2027-01-04T00:00:00Z' })).to.deep.equal([
        ids.expired,
        ids.paid,
      ]);
      expect(await list({ from: '2027-01-04T09:00:00Z' })).to.deep.equal([ids.rent]);
    });

    it('answers 422 for an invalid filter or cursor', async () => {
      for (const query of [
        { status: 'lost' },
        { client_id: 'nope' },
        { reminder_id: '42' },
        { from: 'yesterday' },
        { from: '2027-01-02T00:00:00Z', to: '2027-01-01T00:00:00Z' },
        { limit: '0' },
        { limit: '201' },
        { cursor: 'garbage' },
      ]) {
        const res = await request(testApp()).get('/payments/').query(query).set(t.member.auth);
        expect(res.status, JSON.stringify(query)).to.equal(422);
        expect(res.body.code).to.equal('VALIDATION_ERROR');
      }
    });

    it("lists only the caller's own workspace's payments, the platform admin's included", async () => {
      expect(
        ((await request(testApp()).get('/payments/').set(other.owner.auth).expect(200)).body as Page).items.map(
          (p) => p.id,
        ),
      ).to.deep.equal([ids.foreign]);
      const root = await superuser(testApp());
      expect((await request(testApp()).get('/payments/').set(root.auth).expect(200)).body.items).to.deep.equal([]);
    });

    it('answers 401 without a token', async () => {
      await request(testApp()).get('/payments/').expect(401);
    });
  });

  describe('GET /payments/{id}', () => {
    it('adds the Stripe events applied to it, oldest first, with no payload', async () => {
      const res = await request(testApp()).get(`/payments/${ids.paid}`).set(t.member.auth).expect(200);
      expect(res.body).to.include({ id: ids.paid, status: 'paid', amount: 2500 });
      expect(res.body.events).to.deep.equal([
        {
          id: events[0],
          type: 'checkout.session.completed',
          received_at: '2027-01-02T10:00:01.000Z',
          processed_at: '2027-01-02T10:00:02.000Z',
        },
        { id: events[1], type: 'charge.refunded', received_at: '2027-01-05T10:00:00.000Z', processed_at: null },
      ]);
      expect(JSON.stringify(res.body)).not.to.include('never-shown');
      const none = await request(testApp()).get(`/payments/${ids.open}`).set(t.member.auth).expect(200);
      expect(none.body.events).to.deep.equal([]);
    });

    it("answers 404 for another workspace's payment and for an unknown id", async () => {
      const res = await request(testApp()).get(`/payments/${ids.foreign}`).set(t.owner.auth).expect(404);
      expect(res.body.code).to.equal('NOT_FOUND');
      await request(testApp()).get('/payments/00000000-0000-4000-8000-000000000000').set(t.owner.auth).expect(404);
      await request(testApp()).get('/payments/not-a-uuid').set(t.owner.auth).expect(422);
    });
  });

  describe('POST /payments/{id}/cancel', () => {
    // Only this suite's jobs: nothing consumes billing-checkout in API tests, so they would stay in Redis.
    const jobs: string[] = [];
    afterEach(async () => {
      for (const id of jobs.splice(0)) await queue().remove(id);
    });

    it('answers 202, records the request, audits it and queues a cancel job for the billing worker', async () => {
      const p = await insertPayment(db, t.workspaceId, { reminder_id: invoice, client_id: ada });
      const res = await request(testApp()).post(`/payments/${p.id}/cancel`).set(t.admin.auth).send({}).expect(202);
      expect(res.body).to.include({ id: p.id, status: 'open' });
      const row = await db('payments').where({ id: p.id }).first();
      expect(row.cancel_requested_at).to.be.an.instanceOf(Date);
      expect(row.cancel_enqueue_count).to.equal(1);
      jobs.push(cancelJobId(p.id, 0));
      const job = await queue().getJob(cancelJobId(p.id, 0));
      expect(job?.data).to.deep.equal({ kind: 'cancel', paymentId: p.id });
      const audit = await db('audit_log').where({ target_id: p.id });
      expect(audit).to.have.length(1);
      expect(audit[0]).to.include({
        workspace_id: t.workspaceId,
        actor_id: t.admin.user.id,
        action: 'payment.cancel_requested',
        target_type: 'payment',
      });
    });

    it('queues again under a new job id when asked again while the payment is still open', async () => {
      const p = await insertPayment(db, t.workspaceId);
      await request(testApp()).post(`/payments/${p.id}/cancel`).set(t.owner.auth).expect(202);
      jobs.push(cancelJobId(p.id, 0), cancelJobId(p.id, 1));
      const first = (await db('payments').where({ id: p.id }).first()).cancel_requested_at as Date;
      await request(testApp()).post(`/payments/${p.id}/cancel`).set(t.owner.auth).expect(202);
      expect((await queue().getJob(cancelJobId(p.id, 1)))?.data).to.deep.equal({ kind: 'cancel', paymentId: p.id });
      const row = await db('payments').where({ id: p.id }).first();
      expect(row.cancel_requested_at).to.deep.equal(first);
      expect(row.cancel_enqueue_count).to.equal(2);
    });

    it('answers 409 PAYMENT_NOT_CANCELLABLE for a paid, processing, refunded, failed, expired or cancelled payment', async () => {
      for (const status of ['paid', 'processing', 'refunded', 'failed', 'expired', 'cancelled']) {
        const p = await insertPayment(db, t.workspaceId, {
          status,
          ...(status === 'paid' || status === 'refunded' ? { paid_at: new Date() } : {}),
          ...(status === 'refunded' ? { refunded_amount: 1500 } : {}),
        });
        const res = await request(testApp()).post(`/payments/${p.id}/cancel`).set(t.owner.auth).expect(409);
        expect(res.body.code, status).to.equal('PAYMENT_NOT_CANCELLABLE');
        expect(res.body.detail).to.match(new RegExp(`is ${status}$`));
        const row = await db('payments').where({ id: p.id }).first();
        expect(row).to.include({ status, cancel_enqueue_count: 0, cancel_requested_at: null });
        expect(await queue().getJob(cancelJobId(p.id, 0))).to.equal(undefined);
        expect(await db('audit_log').where({ target_id: p.id })).to.deep.equal([]);
      }
    });

    it("answers 403 to a member and 404 for another workspace's payment, changing nothing", async () => {
      const p = await insertPayment(db, t.workspaceId);
      await request(testApp()).post(`/payments/${p.id}/cancel`).set(t.member.auth).expect(403);
      await request(testApp()).post(`/payments/${ids.foreign}/cancel`).set(t.owner.auth).expect(404);
      for (const id of [p.id, ids.foreign!]) {
        expect((await db('payments').where({ id }).first()).cancel_requested_at).to.equal(null);
        expect(await queue().getJob(cancelJobId(id, 0))).to.equal(undefined);
      }
    });
  });
});
