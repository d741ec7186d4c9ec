import { expect } from 'chai';
import request from 'supertest';
import { jobIdFor, QUEUES } from '@nudge/queue';
import type { NotificationRow } from '@nudge/db';
import { testApp, testDeps, team } from '../helpers';
import { insertClient, insertReminder } from '../notifications/notification-fixtures';

type Team = Awaited<ReturnType<typeof team>>;

/** Keeps a test's calls inside one minute: waits for the next minute when this one is about to end. */
async function startOfAMinute(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8000) await new Promise((r) => setTimeout(r, left + 50));
}

describe('POST /reminders/{id}/send-now', function () {
  this.timeout(30_000);
  const db = testDeps().db;
  let t: Team;
  before(async () => {
    t = await team(testApp());
  });

  const sendNow = (id: string, who = t.owner, body: object = {}) =>
    request(testApp()).post(`/reminders/${id}/send-now`).set(who.auth).send(body);

  it('queues one notification per active client at the current minute, and a repeat that minute sends nothing more', async () => {
    const [a, b] = [await insertClient(db, t.workspaceId, 'Ann'), await insertClient(db, t.workspaceId, 'Bob')];
    const inactive = await insertClient(db, t.workspaceId, 'Gone', { is_active: false });
    const reminder = await insertReminder(db, t.workspaceId, [a, b, inactive]);
    await startOfAMinute();
    const first = await sendNow(reminder).expect(202);
    expect(first.body).to.include({ reminder_id: reminder, notification_count: 2 });
    const rows: NotificationRow[] = await db<NotificationRow>('notifications')
      .whereIn('id', first.body.notification_ids as string[])
      .orderBy('client_id');
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    for (const n of rows) {
      expect(n).to.include({ kind: 'reminder', status: 'queued', reminder_id: reminder, enqueue_count: 1 });
      expect(n.occurrence_at).to.deep.equal(minute);
      const job = await testDeps().producers.queue(QUEUES.dispatchEmail).getJob(jobIdFor(n.id, 0));
      expect(job?.data).to.deep.equal({ kind: 'notification', notificationId: n.id });
    }
    expect(rows.map((n) => n.client_id).sort()).to.deep.equal([a, b].sort());

    const again = await sendNow(reminder).expect(202);
    expect(again.body.notification_ids).to.deep.equal(first.body.notification_ids);
    for (const n of await db('notifications').whereIn('id', first.body.notification_ids))
      expect(n.enqueue_count).to.equal(1);
  });

  it("queues a payment reminder's checkout instead of its dispatch: one payment per client, none for a client who paid", async () => {
    const [a, b] = [await insertClient(db, t.workspaceId, 'Flo'), await insertClient(db, t.workspaceId, 'Gus')];
    const paid = await insertClient(db, t.workspaceId, 'Hal');
    const reminder = await insertReminder(db, t.workspaceId, [a, b, paid], {
      type: 'payment',
      amount: 9900,
      currency: 'GBP',
    });
    await db('payments').insert({
      workspace_id: t.workspaceId,
      reminder_id: reminder,
      client_id: paid,
      occurrence_at: new Date(Date.now() - 86400_000),
      amount: 9900,
      currency: 'GBP',
      status: 'paid',
    });
    await startOfAMinute();
    const res = await sendNow(reminder).expect(202);
    expect(res.body.notification_count).to.equal(2);
    const payments: { id: string; client_id: string; notification_id: string; amount: number; status: string }[] =
      await db('payments').where({ reminder_id: reminder, status: 'open' }).orderBy('client_id');
    expect(payments.map((p) => p.client_id).sort()).to.deep.equal([a, b].sort());
    expect(payments.map((p) => p.notification_id).sort()).to.deep.equal(
      [...(res.body.notification_ids as string[])].sort(),
    );
    for (const p of payments) {
      const checkout = await testDeps().producers.queue(QUEUES.billingCheckout).getJob(jobIdFor(p.id, 0));
      expect(checkout?.data).to.deep.equal({ kind: 'checkout', paymentId: p.id });
      expect((await db('payments').where({ id: p.id }).first()).checkout_enqueue_count).to.equal(1);
      const dispatch = await testDeps().producers.queue(QUEUES.dispatchEmail).getJob(jobIdFor(p.notification_id, 0));
      expect(dispatch, 'no dispatch job before the link exists').to.equal(undefined);
    }
    // A repeat within the minute makes no second payment.
    await sendNow(reminder).expect(202);
    expect(await db('payments').where({ reminder_id: reminder })).to.have.length(3);
  });

  it('sends to the clients named only, and answers 422 for a client the reminder does not go to', async () => {
    const [a, b] = [await insertClient(db, t.workspaceId, 'Cy'), await insertClient(db, t.workspaceId, 'Di')];
    const stranger = await insertClient(db, t.workspaceId, 'Ed');
    const reminder = await insertReminder(db, t.workspaceId, [a, b]);
    const res = await sendNow(reminder, t.admin, { client_ids: [b] }).expect(202);
    expect(res.body.notification_count).to.equal(1);
    expect((await db('notifications').where({ id: res.body.notification_ids[0] }).first()).client_id).to.equal(b);
    const bad = await sendNow(reminder, t.admin, { client_ids: [a, stranger] }).expect(422);
    expect(bad.body.detail[0].loc).to.deep.equal(['body', 'client_ids', 1]);
  });

  it('answers 409 for a completed, cancelled or paused reminder', async () => {
    const client = await insertClient(db, t.workspaceId, 'Flo');
    for (const [status, code] of [
      ['completed', 'REMINDER_FINISHED'],
      ['cancelled', 'REMINDER_FINISHED'],
      ['paused', 'REMINDER_PAUSED'],
    ]) {
      const reminder = await insertReminder(db, t.workspaceId, [client], { status });
      const res = await sendNow(reminder).expect(409);
      expect(res.body.code, status).to.equal(code);
    }
  });

  it('refuses a member, and answers 404 for another workspace', async () => {
    const other = await team(testApp());
    const client = await insertClient(db, t.workspaceId, 'Gil');
    const reminder = await insertReminder(db, t.workspaceId, [client]);
    await sendNow(reminder, t.member).expect(403);
    await sendNow(reminder, other.owner).expect(404);
  });

  it('is limited per workspace to REMINDER_SEND_NOW_PER_MINUTE, with Retry-After', async () => {
    const busy = await team(testApp());
    const client = await insertClient(db, busy.workspaceId, 'Hal');
    const reminder = await insertReminder(db, busy.workspaceId, [client]);
    const limit = testDeps().config.reminderSendNowPerMinute;
    for (let i = 0; i < limit; i += 1) await sendNow(reminder, busy.owner).expect(202);
    const refused = await sendNow(reminder, busy.owner).expect(429);
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    // Another workspace is not held back.
    const client2 = await insertClient(db, t.workspaceId, 'Ivy');
    await sendNow(await insertReminder(db, t.workspaceId, [client2])).expect(202);
  });
});
