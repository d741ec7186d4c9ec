// GET /dashboard/summary (issue 12, point 7) on a hand-built workspace: every number checked, the period honoured,
// and nothing of another workspace counted.
import { expect } from 'chai';
import request from 'supertest';
import type { Db } from '@nudge/db';
import { testApp, testDeps, team, superuser } from '../helpers';
import { insertClient, insertNotification, insertReminder } from '../notifications/notification-fixtures';
import { insertPayment, PAYMENT_REMINDER } from '../payments/payment-fixtures';

type Team = Awaited<ReturnType<typeof team>>;
const DAY = 86400_000;
const PERIOD = { from: '2027-03-01T00:00:00Z', to: '2027-04-01T00:00:00Z' };
const at = (iso: string) => new Date(iso);

/** What GET /dashboard/summary answers for a workspace that has nothing (in the period). */
function empty() {
  const money = () => ({ count: 0, amounts: {} });
  return {
    clients: { total: 0, active: 0 },
    reminders: { by_status: { active: 0, paused: 0, completed: 0, cancelled: 0 }, due_next_7_days: 0 },
    notifications: {
      by_status: {
        queued: 0,
        sending: 0,
        sent: 0,
        delivered: 0,
        failed: 0,
        bounced: 0,
        undeliverable: 0,
        cancelled: 0,
      },
      by_channel: { email: 0, sms: 0, whatsapp: 0 },
      delivery_rate: null,
      top_failure_reasons: [],
    },
    payments: { requested: money(), paid: money(), outstanding: money(), refunded: money() },
    median_seconds_to_payment: null,
  };
}

/**
 * Three clients (one inactive); four reminders (one due within 7 days); ten reminder notifications in March 2027
 * plus some outside it or of a birthday; seven payments in March (USD and EUR) plus one in February.
 */
async function build(db: Db, ws: string) {
  const [ada, bob, cy] = [
    await insertClient(db, ws, 'Ada'),
    await insertClient(db, ws, 'Bob'),
    await insertClient(db, ws, 'Cy', { is_active: false }),
  ];
  const now = Date.now();
  const invoice = await insertReminder(db, ws, [ada, bob], {
    ...PAYMENT_REMINDER,
    next_run_at: new Date(now + 2 * DAY),
  });
  await insertReminder(db, ws, [], { next_run_at: new Date(now + 10 * DAY) });
  await insertReminder(db, ws, [], { status: 'paused', next_run_at: new Date(now + DAY) });
  await insertReminder(db, ws, [], { status: 'completed' });

  const n = (channel: string, status: string, created: string, extra: Record<string, unknown> = {}) =>
    insertNotification(db, ws, { channel, status, created_at: at(created), ...extra } as never);
  await n('email', 'delivered', '2027-03-02T10:00:00Z');
  await n('email', 'delivered', '2027-03-03T10:00:00Z');
  await n('email', 'sent', '2027-03-04T10:00:00Z');
  await n('email', 'bounced', '2027-03-05T10:00:00Z', { last_error: 'hard_bounce' });
  await n('email', 'cancelled', '2027-03-06T10:00:00Z', { last_error: 'opted_out' });
  await n('sms', 'failed', '2027-03-07T10:00:00Z', { last_error: 'invalid_number' });
  await n('sms', 'failed', '2027-03-08T10:00:00Z', { last_error: 'invalid_number' });
  await n('sms', 'undeliverable', '2027-03-09T10:00:00Z', { last_error: 'invalid_number' });
  await n('whatsapp', 'queued', '2027-03-10T10:00:00Z');
  await n('whatsapp', 'failed', '2027-03-31T23:59:59Z');
  // Outside the period, or not a reminder's: counted nowhere (but a first reminder all the same).
  await n('email', 'delivered', '2027-04-01T00:00:00Z');
  await n('email', 'failed', '2027-02-28T23:59:59Z', { last_error: 'timeout' });
  await n('slack', 'sent', '2027-03-02T09:00:00Z', { kind: 'birthday' });
  // Ada's first reminder of the invoice was queued in February and went out on 5 March at 10:00; a later one (after
  // the payment) changes nothing.
  await n('email', 'delivered', '2027-02-28T09:00:00Z', {
    reminder_id: invoice,
    client_id: ada,
    sent_at: at('2027-03-05T10:00:00Z'),
  });
  await n('email', 'delivered', '2027-04-02T00:00:00Z', { reminder_id: invoice, client_id: ada });
  // Bob's first one never left (queued on 20 February): the wait counts from its creation.
  await n('sms', 'failed', '2027-02-20T00:00:00Z', { reminder_id: invoice, client_id: bob });

  const pay = (fields: Record<string, unknown>) => insertPayment(db, ws, fields);
  // Paid 2 hours after the first reminder.
  await pay({
    reminder_id: invoice,
    client_id: ada,
    amount: 1000,
    status: 'paid',
    paid_at: at('2027-03-05T12:00:00Z'),
    created_at: at('2027-03-05T09:00:00Z'),
  });
  // Paid 18 days after the first reminder, then refunded in part.
  await pay({
    reminder_id: invoice,
    client_id: bob,
    amount: 2500,
    status: 'paid',
    refunded_amount: 500,
    paid_at: at('2027-03-10T00:00:00Z'),
    created_at: at('2027-03-01T00:00:00Z'),
  });
  // No reminder left: 1 hour from its own creation. Then refunded in full.
  await pay({
    client_id: cy,
    amount: 4000,
    currency: 'EUR',
    status: 'refunded',
    refunded_amount: 4000,
    paid_at: at('2027-03-02T01:00:00Z'),
    created_at: at('2027-03-02T00:00:00Z'),
  });
  await pay({ amount: 700, status: 'open', created_at: at('2027-03-11T00:00:00Z') });
  await pay({ amount: 300, currency: 'EUR', status: 'processing', created_at: at('2027-03-12T00:00:00Z') });
  await pay({ amount: 900, status: 'expired', created_at: at('2027-03-13T00:00:00Z') });
  await pay({ amount: 100, status: 'cancelled', created_at: at('2027-03-31T23:00:00Z') });
  await pay({
    amount: 5000,
    status: 'paid',
    paid_at: at('2027-02-02T00:00:00Z'),
    created_at: at('2027-02-01T00:00:00Z'),
  });
}

describe('GET /dashboard/summary', () => {
  const db = testDeps().db;
  let t: Team;
  let other: Team;

  before(async function () {
    this.timeout(60_000);
    t = await team(testApp());
    other = await team(testApp());
    await build(db, t.workspaceId);
    // Another workspace with the same kind of data in the same period: none of it may show in t's numbers.
    await build(db, other.workspaceId);
    await insertClient(db, other.workspaceId, 'Extra');
    await insertNotification(db, other.workspaceId, { status: 'delivered', created_at: at('2027-03-15T00:00:00Z') });
  });

  const summary = (who: { auth: { Authorization: string } }, query: Record<string, string> = PERIOD) =>
    request(testApp()).get('/dashboard/summary').query(query).set(who.auth).expect(200);

  it('answers every number of the period for the caller’s workspace', async () => {
    const res = await summary(t.member);
    expect(res.body).to.deep.equal({
      from: '2027-03-01T00:00:00.000Z',
      to: '2027-04-01T00:00:00.000Z',
      clients: { total: 3, active: 2 },
      reminders: { by_status: { active: 2, paused: 1, completed: 1, cancelled: 0 }, due_next_7_days: 1 },
      notifications: {
        by_status: {
          queued: 1,
          sending: 0,
          sent: 1,
          delivered: 2,
          failed: 3,
          bounced: 1,
          undeliverable: 1,
          cancelled: 1,
        },
        by_channel: { email: 5, sms: 3, whatsapp: 2 },
        // delivered 2 / (sent 1 + delivered 2 + failed 3 + bounced 1 + undeliverable 1)
        delivery_rate: 0.25,
        top_failure_reasons: [
          { reason: 'invalid_number', count: 3 },
          { reason: 'hard_bounce', count: 1 },
          { reason: 'unknown', count: 1 },
        ],
      },
      payments: {
        requested: { count: 7, amounts: { USD: 5200, EUR: 4300 } },
        paid: { count: 3, amounts: { USD: 3500, EUR: 4000 } },
        outstanding: { count: 2, amounts: { USD: 700, EUR: 300 } },
        refunded: { count: 2, amounts: { USD: 500, EUR: 4000 } },
      },
      // 1 h, 2 h and 18 days: the middle one.
      median_seconds_to_payment: 7200,
    });
  });

  it('shows another workspace only its own numbers, and answers 403 NO_WORKSPACE to the platform admin, who has none', async () => {
    const theirs = await summary(other.owner);
    expect(theirs.body.clients).to.deep.equal({ total: 4, active: 3 });
    expect(theirs.body.notifications.by_status.delivered).to.equal(3);
    expect(theirs.body.payments.requested).to.deep.equal({ count: 7, amounts: { USD: 5200, EUR: 4300 } });
    const root = await superuser(testApp());
    const none = await request(testApp()).get('/dashboard/summary').query(PERIOD).set(root.auth).expect(403);
    expect(none.body.code).to.equal('NO_WORKSPACE');
  });

  it('covers the last 30 days by default', async () => {
    const fresh = await team(testApp());
    await insertNotification(db, fresh.workspaceId, {
      status: 'delivered',
      created_at: new Date(Date.now() - 29 * DAY),
    });
    await insertNotification(db, fresh.workspaceId, { status: 'failed', created_at: new Date(Date.now() - 31 * DAY) });
    await insertPayment(db, fresh.workspaceId, { created_at: new Date(Date.now() - 31 * DAY) });
    const before = Date.now();
    const res = await summary(fresh.member, {});
    const to = Date.parse(res.body.to as string);
    expect(to).to.be.within(before - 1000, Date.now() + 1000);
    expect(to - Date.parse(res.body.from as string)).to.equal(30 * DAY);
    expect(res.body).to.deep.equal({
      ...empty(),
      from: res.body.from,
      to: res.body.to,
      notifications: {
        ...empty().notifications,
        by_status: { ...empty().notifications.by_status, delivered: 1 },
        by_channel: { email: 1, sms: 0, whatsapp: 0 },
        delivery_rate: 1,
      },
    });
  });

  it('answers zeros and nulls for a period with nothing in it', async () => {
    const res = await summary(t.owner, { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' });
    expect(res.body).to.deep.equal({
      ...empty(),
      from: '2030-01-01T00:00:00.000Z',
      to: '2030-02-01T00:00:00.000Z',
      clients: { total: 3, active: 2 },
      reminders: { by_status: { active: 2, paused: 1, completed: 1, cancelled: 0 }, due_next_7_days: 1 },
    });
  });

  it('answers 422 for a period that is no period, and 401 without a token', async () => {
    for (const query of [
      { from: 'last week' },
      { from: '2027-03-02T00:00:00Z', to: '2027-03-01T00:00:00Z' },
      { days: '7' },
    ]) {
      const res = await request(testApp()).get('/dashboard/summary').query(query).set(t.member.auth);
      expect(res.status, JSON.stringify(query)).to.equal(422);
    }
    await request(testApp()).get('/dashboard/summary').expect(401);
  });
});
