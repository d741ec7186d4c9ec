import { expect } from 'chai';
import request from 'supertest';
import { jobIdFor, QUEUES } from '@nudge/queue';
import { testApp, testDeps, team } from '../helpers';
import { insertClient, insertNotification, insertReminder } from './notification-fixtures';

type Team = Awaited<ReturnType<typeof team>>;
interface Page {
  items: { id: string }[];
  next_cursor: string | null;
}

describe('notification history', () => {
  const db = testDeps().db;
  let t: Team;
  let other: Team;
  let clientId: string;
  let reminderId: string;
  const ids: Record<string, string> = {};

  before(async function () {
    this.timeout(30_000);
    t = await team(testApp());
    other = await team(testApp());
    clientId = await insertClient(db, t.workspaceId, 'Grace Hopper');
    reminderId = await insertReminder(db, t.workspaceId, [clientId], { title: 'Annual accounts' });
    const base = { reminder_id: reminderId, client_id: clientId };
    ids.birthday = (
      await insertNotification(db, t.workspaceId, {
        kind: 'birthday',
        channel: 'slack',
        status: 'sent',
        occurrence_at: null,
        created_at: new Date('2027-01-01T09:00:00Z'),
      })
    ).id;
    ids.failed = (
      await insertNotification(db, t.workspaceId, {
        ...base,
        status: 'failed',
        attempts: 1,
        last_error: 'invalid_recipient',
        created_at: new Date('2027-01-02T09:00:00Z'),
      })
    ).id;
    await db('notification_attempts').insert({
      notification_id: ids.failed,
      attempt: 1,
      outcome: 'failed',
      http_status: 400,
      error: 'invalid_recipient',
      duration_ms: 12,
    });
    ids.sms = (
      await insertNotification(db, t.workspaceId, {
        ...base,
        channel: 'sms',
        status: 'sent',
        provider: 'sandbox',
        created_at: new Date('2027-01-03T09:00:00Z'),
      })
    ).id;
    ids.queued = (
      await insertNotification(db, t.workspaceId, { ...base, created_at: new Date('2027-01-04T09:00:00Z') })
    ).id;
    ids.foreign = (await insertNotification(db, other.workspaceId, { status: 'failed' })).id;
  });

  describe('GET /notifications/', () => {
    it("lists the caller's workspace's notifications newest first, birthday posts included", async () => {
      const res = await request(testApp()).get('/notifications/').set(t.member.auth).expect(200);
      expect((res.body as Page).items.map((n) => n.id)).to.deep.equal([ids.queued, ids.sms, ids.failed, ids.birthday]);
      expect(res.body.next_cursor).to.equal(null);
      expect(res.body.items[2]).to.include({
        kind: 'reminder',
        reminder_id: reminderId,
        client_id: clientId,
        channel: 'email',
        status: 'failed',
        attempt_count: 1,
        last_error: 'invalid_recipient',
      });
    });

    it('pages with an opaque cursor, never repeating or skipping a row', async () => {
      const first = await request(testApp()).get('/notifications/?limit=3').set(t.member.auth).expect(200);
      expect(first.body.items).to.have.length(3);
      const second = await request(testApp())
        .get('/notifications/')
        .query({ limit: 3, cursor: first.body.next_cursor })
        .set(t.member.auth)
        .expect(200);
      expect((second.body as Page).items.map((n) => n.id)).to.deep.equal([ids.birthday]);
      expect(second.body.next_cursor).to.equal(null);
    });

    it('filters by status, channel, kind, client, reminder and date', async () => {
      const list = async (query: Record<string, string>) =>
        (
          (await request(testApp()).get('/notifications/').query(query).set(t.member.auth).expect(200)).body as Page
        ).items.map((n) => n.id);
      expect(await list({ status: 'failed' })).to.deep.equal([ids.failed]);
      expect(await list({ channel: 'sms' })).to.deep.equal([ids.sms]);
      expect(await list({ kind: 'birthday' })).to.deep.equal([ids.birthday]);
      expect(await list({ client_id: clientId })).to.have.length(3);
      expect(await list({ reminder_id: reminderId, status: 'queued' })).to.deep.equal([ids.queued]);
      expect(await list({ from: '2027-01-02T00:00:00Z', to: '2027-01-04T00:00:00Z' })).to.deep.equal([
        ids.sms,
        ids.failed,
      ]);
    });

    it('answers 422 for an invalid filter or cursor', async () => {
      for (const query of [
        { status: 'lost' },
        { channel: 'pigeon' },
        { client_id: 'nope' },
        { from: 'yesterday' },
        { from: '2027-01-02T00:00:00Z', to: '2027-01-01T00:00:00Z' },
        { limit: '0' },
        { cursor: 'garbage' },
      ]) {
        const res = await request(testApp()).get('/notifications/').query(query).set(t.member.auth);
        expect(res.status, JSON.stringify(query)).to.equal(422);
      }
    });

    it("lists only the caller's own workspace's notifications", async () => {
      const theirs = await request(testApp()).get('/notifications/').set(other.owner.auth).expect(200);
      expect((theirs.body as Page).items.map((n) => n.id)).to.deep.equal([ids.foreign]);
    });
  });

  describe('GET /notifications/count', () => {
    it('answers one key per status and the total', async () => {
      const res = await request(testApp()).get('/notifications/count').set(t.member.auth).expect(200);
      expect(res.body).to.deep.equal({
        queued: 1,
        sending: 0,
        sent: 2,
        delivered: 0,
        failed: 1,
        bounced: 0,
        undeliverable: 0,
        cancelled: 0,
        total: 4,
      });
      const sms = await request(testApp()).get('/notifications/count?channel=sms').set(t.member.auth).expect(200);
      expect(sms.body).to.include({ sent: 1, total: 1 });
    });
  });

  describe('GET /notifications/{id}', () => {
    it("adds the reminder's title, the client's name and the attempts", async () => {
      const res = await request(testApp()).get(`/notifications/${ids.failed}`).set(t.member.auth).expect(200);
      expect(res.body).to.include({ id: ids.failed, reminder_title: 'Annual accounts', client_name: 'Grace Hopper' });
      expect(res.body.attempts).to.have.length(1);
      expect(res.body.attempts[0]).to.include({ attempt: 1, outcome: 'failed', http_status: 400, duration_ms: 12 });
    });

    it("answers 404 for another workspace's notification", async () => {
      await request(testApp()).get(`/notifications/${ids.foreign}`).set(t.owner.auth).expect(404);
    });
  });

  describe('POST /notifications/{id}/resend', () => {
    it('queues a failed reminder notification again under a new job id', async () => {
      const n = await insertNotification(db, t.workspaceId, {
        reminder_id: reminderId,
        client_id: clientId,
        status: 'failed',
        attempts: 5,
        enqueue_count: 1,
        last_error: 'timeout',
      });
      const res = await request(testApp()).post(`/notifications/${n.id}/resend`).set(t.admin.auth).expect(202);
      expect(res.body).to.include({ id: n.id, status: 'queued', last_error: null, attempt_count: 5 });
      const queue = testDeps().producers.queue(QUEUES.dispatchEmail);
      const job = await queue.getJob(jobIdFor(n.id, 1));
      expect(job?.data).to.deep.equal({ kind: 'notification', notificationId: n.id });
      expect((await db('notifications').where({ id: n.id }).first())?.enqueue_count).to.equal(2);
      await job?.remove();
    });

    it("queues a birthday post that ended outcome_unknown again, on dispatch-slack after its post's job ids", async () => {
      const n = await insertNotification(db, t.workspaceId, {
        kind: 'birthday',
        channel: 'slack',
        status: 'failed',
        attempts: 1,
        last_error: 'outcome_unknown',
        occurrence_at: null,
      });
      // The birthday scan and its reclaimer count the post's jobs on its birthday_posts row, not on the notification.
      await db('birthday_posts').insert({
        workspace_id: t.workspaceId,
        local_date: '2027-03-04',
        status: 'failed',
        claimed_at: new Date(),
        notification_id: n.id,
        enqueue_count: 2,
      });
      const res = await request(testApp()).post(`/notifications/${n.id}/resend`).set(t.owner.auth).expect(202);
      expect(res.body).to.include({ id: n.id, kind: 'birthday', status: 'queued', last_error: null });
      const job = await testDeps().producers.queue(QUEUES.dispatchSlack).getJob(jobIdFor(n.id, 2));
      expect(job?.data).to.deep.equal({ notificationId: n.id });
      expect((await db('notifications').where({ id: n.id }).first())?.enqueue_count).to.equal(3);
      await job?.remove();
    });

    it('answers 409 with the current status for a notification that did not fail, a sent birthday post too', async () => {
      for (const id of [ids.sms, ids.queued, ids.birthday]) {
        const res = await request(testApp()).post(`/notifications/${id}/resend`).set(t.owner.auth).expect(409);
        expect(res.body.code).to.equal('NOTIFICATION_NOT_RESENDABLE');
      }
      const res = await request(testApp()).post(`/notifications/${ids.sms}/resend`).set(t.owner.auth);
      expect(res.body.detail).to.match(/is sent$/);
    });

    it('refuses a member', async () => {
      await request(testApp()).post(`/notifications/${ids.failed}/resend`).set(t.member.auth).expect(403);
    });
  });

  describe('POST /notifications/{id}/cancel', () => {
    it('cancels a queued notification, then answers 409', async () => {
      const n = await insertNotification(db, t.workspaceId, { reminder_id: reminderId, client_id: clientId });
      const res = await request(testApp()).post(`/notifications/${n.id}/cancel`).set(t.owner.auth).expect(200);
      expect(res.body).to.include({ id: n.id, status: 'cancelled' });
      const again = await request(testApp()).post(`/notifications/${n.id}/cancel`).set(t.owner.auth).expect(409);
      expect(again.body).to.include({ code: 'NOTIFICATION_NOT_CANCELLABLE' });
      expect(again.body.detail).to.match(/is cancelled$/);
    });
  });
});
