import { expect } from 'chai';
import { createDb, type Db, type NotificationRow } from '@nudge/db';
import { getConfig } from '@nudge/config';
import { addDispatchJob, jobIdFor, QUEUES } from '@nudge/queue';
import { waitFor } from '@nudge/testing';
import { dispatchJobsOn, type DispatchJobs } from '../../src/dispatch/dispatch-jobs';
import { runReminderScan } from '../../src/reminders/reminder-scan.service';
import { startReminderHarness, type ReminderHarness } from '../helpers/reminder-harness';

const HOUR = 3600_000;
const plus = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);
// The reconciler waits RECLAIM_AFTER_SECONDS (120) past both the occurrence and the row's last write (the database's
// clock), so a scan "later" counts from whichever came last: a slow machine may take seconds to reach the enqueue.
const pastReclaim = (n: NotificationRow) =>
  plus(new Date(Math.max(new Date(n.occurrence_at!).getTime(), new Date(n.updated_at).getTime())), 121);
/** A whole second a few seconds ago: due, and already past for the dispatch workers' real clock. */
const justBefore = () => new Date(Math.floor(Date.now() / 1000) * 1000 - 5000);

describe('the reminder scan', function () {
  this.timeout(30_000);
  let h: ReminderHarness;
  before(async function () {
    this.timeout(60_000);
    h = await startReminderHarness();
  });
  after(() => h.close());
  // Each test's assignments stop with it, so a later tick counts only its own test's.
  afterEach(() => h.db('reminder_clients').update({ next_run_at: null }));

  const crashingJobs = (): DispatchJobs => {
    const real = dispatchJobsOn(h.producers);
    const died = () => Promise.reject(new Error('process died'));
    return (channel) => ({ ...real(channel), add: died, addMany: died });
  };
  const sentTo = async (text: string) => (await h.mails()).filter((m) => m.includes(text));

  it('sends a due one-time reminder once, by email rendered at send time, and completes the reminder', async () => {
    const ws = await h.workspace();
    const ada = await h.client(ws, { name: 'Ada Once' });
    const due = justBefore();
    const reminder = await h.reminder(ws, [ada], due, {
      title: 'Once VAT',
      message_template: 'Dear {{client.name}}, {{reminder.title}} is due.',
    });

    expect(await h.scan(due)).to.deep.include({ claimed: 1, created: 1, enqueued: 1, completed: 1 });
    const [n] = await h.notificationsOf(reminder);
    expect(n).to.include({ kind: 'reminder', channel: 'email', client_id: ada, workspace_id: ws });
    expect(n!.dedupe_key).to.equal(`reminder:${reminder}:${ada}:${due.toISOString()}`);
    const { notification, attempts } = await h.settled(ws, n!.id);
    expect(notification).to.include({ status: 'sent', provider: 'sandbox', subject: 'Once VAT' });
    expect(notification.body).to.equal('Dear Ada Once, Once VAT is due.');
    expect(notification.sent_at!.getTime()).to.be.at.least(notification.occurrence_at!.getTime());
    expect(attempts.map((a) => a.outcome)).to.deep.equal(['sent']);
    const mails = await sentTo('Dear Ada Once, Once VAT is due.');
    expect(mails).to.have.length(1);
    expect(mails[0]).to.include('Subject: Once VAT');

    expect(await h.db('reminders').where({ id: reminder }).first('status', 'next_run_at')).to.deep.equal({
      status: 'completed',
      next_run_at: null,
    });
    expect((await h.db('reminder_clients').where({ reminder_id: reminder }).first())?.next_run_at).to.equal(null);
    // The next tick finds nothing more to do.
    expect((await h.scan(plus(due, 60))).created).to.equal(0);
    expect(await h.notificationsOf(reminder)).to.have.length(1);
  });

  it('sends each notification on the first channel its client can receive, and records failed ones without a channel', async () => {
    const ws = await h.workspace();
    const optedOut = await h.client(ws, { opt_out_email: true, phone: 'v1:cipher-phone' });
    const prefersWhatsapp = await h.client(ws, { preferred_channel: 'whatsapp', whatsapp: 'v1:cipher-wa' });
    const unreachable = await h.client(ws, { email: null });
    const due = justBefore();
    const email = await h.reminder(ws, [optedOut, unreachable], due, { channels: ['email', 'sms'] });
    const auto = await h.reminder(ws, [prefersWhatsapp], due, { channels: ['auto', 'email'] });

    const result = await h.scan(due);
    expect(result).to.deep.include({ claimed: 3, created: 3, enqueued: 2 });
    const [sms, none] = [...(await h.notificationsOf(email))].sort((a) => (a.client_id === optedOut ? -1 : 1));
    expect(sms).to.include({ client_id: optedOut, channel: 'sms' });
    expect(none).to.include({ client_id: unreachable, channel: 'email', status: 'failed', last_error: 'no_channel' });
    const [wa] = await h.notificationsOf(auto);
    expect(wa).to.include({ channel: 'whatsapp' });
    for (const n of [sms!, wa!])
      expect((await h.settled(ws, n.id)).notification).to.include({ status: 'sent', provider: 'sandbox' });
  });

  it('after an outage sends only the latest missed occurrence, logs the skipped ones and schedules the next', async () => {
    const ws = await h.workspace();
    const client = await h.client(ws);
    const top = new Date(Math.floor(Date.now() / HOUR) * HOUR);
    const reminder = await h.reminder(ws, [client], new Date(top.getTime() - 5 * HOUR), {
      schedule: {
        kind: 'recurring',
        rrule: 'FREQ=HOURLY',
        timezone: 'UTC',
        starts_at: new Date(top.getTime() - 24 * HOUR).toISOString(),
      },
      created_at: new Date(top.getTime() - 25 * HOUR),
    });
    // Ten minutes past the hour: the next occurrence is out of reach of this tick.
    const result = await h.scan(plus(top, 600));
    expect(result).to.deep.include({ claimed: 1, created: 1, skipped: 5, completed: 0 });
    const notifications = await h.notificationsOf(reminder);
    expect(notifications.map((n) => n.occurrence_at!.toISOString())).to.deep.equal([top.toISOString()]);
    const next = new Date(top.getTime() + HOUR);
    expect((await h.db('reminder_clients').where({ reminder_id: reminder }).first())?.next_run_at).to.deep.equal(next);
    expect(await h.db('reminders').where({ id: reminder }).first('status', 'next_run_at')).to.deep.equal({
      status: 'active',
      next_run_at: next,
    });
    await h.settled(ws, notifications[0]!.id);
  });

  it('claims an occurrence due before the next tick early and delays its job to the occurrence', async () => {
    const ws = await h.workspace();
    const client = await h.client(ws);
    const now = justBefore();
    const soon = plus(now, 45);
    const reminder = await h.reminder(ws, [client], soon);
    expect((await h.scan(now)).created).to.equal(1);
    const [n] = await h.notificationsOf(reminder);
    const job = await h.producers.queue(QUEUES.dispatchEmail).getJob(jobIdFor(n!.id, 0));
    expect(job?.opts.delay).to.equal(45_000);
    expect(await job?.getState()).to.equal('delayed');
    await job?.remove();
  });

  it('never sends a notification before its occurrence, even when its job comes early', async () => {
    const ws = await h.workspace();
    const client = await h.client(ws);
    const occurrence = new Date(Date.now() + 1500);
    const reminder = await h.reminder(ws, [client], occurrence);
    // A scanner whose clock is 1.5 s ahead adds the job without a delay.
    expect((await h.scan(occurrence)).enqueued).to.equal(1);
    const [n] = await h.notificationsOf(reminder);
    const { notification } = await h.settled(ws, n!.id);
    expect(notification.status).to.equal('sent');
    expect(notification.sent_at!.getTime()).to.be.at.least(occurrence.getTime());
  });

  it('cancels a notification whose reminder was paused before its job ran', async () => {
    const ws = await h.workspace();
    const client = await h.client(ws, { name: 'Paused Pat' });
    const due = justBefore();
    const reminder = await h.reminder(ws, [client], due, { message_template: 'Hello {{client.name}}' });
    await h.pauseWorkers();
    try {
      expect((await h.scan(due)).enqueued).to.equal(1);
      await h.db('reminders').where({ id: reminder }).update({ status: 'paused' });
    } finally {
      h.resumeWorkers();
    }
    const [n] = await h.notificationsOf(reminder);
    const { notification, attempts } = await h.settled(ws, n!.id);
    expect(notification).to.include({ status: 'cancelled', last_error: 'reminder_paused' });
    expect(attempts).to.deep.equal([]);
    expect(await sentTo('Hello Paused Pat')).to.deep.equal([]);
  });

  describe('exactly once', () => {
    it('produces no duplicate when two scanners race over the same due assignments', async () => {
      const ws = await h.workspace();
      const clients = await Promise.all(Array.from({ length: 12 }, (_, i) => h.client(ws, { name: `Racer ${i}` })));
      const due = justBefore();
      const reminders = await Promise.all(
        [0, 1, 2].map((i) => h.reminder(ws, clients, due, { message_template: `Race ${i} for {{client.name}}` })),
      );
      // Two scanners, each with its own pool, as two replicas of the reminders process.
      const dbs: Db[] = [createDb(h.url), createDb(h.url)];
      try {
        const results = await Promise.all(dbs.map((db) => runReminderScan(h.scanDeps({ db, batchSize: 7 }), due)));
        expect(results.reduce((sum, r) => sum + r.created, 0)).to.equal(36);
        expect(results.reduce((sum, r) => sum + r.claimed, 0)).to.equal(36);
      } finally {
        await Promise.all(dbs.map((db) => db.destroy()));
      }
      const all: NotificationRow[] = (await Promise.all(reminders.map((r) => h.notificationsOf(r)))).flat();
      expect(all).to.have.length(36);
      expect(new Set(all.map((n) => `${n.reminder_id}|${n.client_id}`)).size).to.equal(36);
      for (const n of all) await h.settled(ws, n.id);
      expect(await sentTo('Race ')).to.have.length(36);
    });

    it('repairs a crash between the commit and the enqueue: the reconciler enqueues the notification once', async () => {
      const ws = await h.workspace();
      const client = await h.client(ws, { name: 'Phoenix' });
      const due = justBefore();
      const reminder = await h.reminder(ws, [client], due, { message_template: 'Risen {{client.name}}' });

      expect(await h.scan(due, { jobs: crashingJobs() })).to.deep.include({ created: 1, enqueued: 0 });
      const [n] = await h.notificationsOf(reminder);
      // Its first job id was taken by the insert; the job itself was never added.
      expect(n).to.include({ status: 'queued', enqueue_count: 1 });

      // Not yet RECLAIM_AFTER_SECONDS (120) past its occurrence.
      expect((await h.scan(plus(due, 119))).reclaimed).to.equal(0);
      expect(await sentTo('Risen Phoenix')).to.deep.equal([]);

      expect(await h.scan(pastReclaim(n!))).to.deep.include({ created: 0, reclaimed: 1 });
      expect((await h.settled(ws, n!.id)).notification).to.include({ status: 'sent', enqueue_count: 2 });
      expect(await sentTo('Risen Phoenix')).to.have.length(1);
      expect(await h.notificationsOf(reminder)).to.have.length(1);
    });

    it('takes the first job id in the insert: the enqueue after the commit writes nothing more to the row', async () => {
      const ws = await h.workspace();
      const client = await h.client(ws);
      const due = justBefore();
      const reminder = await h.reminder(ws, [client], due);
      await h.pauseWorkers();
      try {
        expect((await h.scan(due)).enqueued).to.equal(1);
        const [n] = await h.notificationsOf(reminder);
        expect(n).to.include({ status: 'queued', enqueue_count: 1 });
        // Written once: updated_at is still the insert's transaction time.
        expect(n!.updated_at.getTime()).to.equal(n!.created_at.getTime());
        expect(await h.producers.queue(QUEUES.dispatchEmail).getJobState(jobIdFor(n!.id, 0))).to.equal('waiting');
      } finally {
        h.resumeWorkers();
      }
      const [n] = await h.notificationsOf(reminder);
      expect((await h.settled(ws, n!.id)).notification).to.include({ status: 'sent', enqueue_count: 1 });
    });

    it('loses nothing when Redis loses every job: the reconciler enqueues again under the next job id', async () => {
      const ws = await h.workspace();
      const client = await h.client(ws, { name: 'Flushed' });
      const due = justBefore();
      const reminder = await h.reminder(ws, [client], due, { message_template: 'Still here, {{client.name}}' });
      await h.pauseWorkers();
      let n: NotificationRow | undefined;
      try {
        expect((await h.scan(due)).enqueued).to.equal(1);
        [n] = await h.notificationsOf(reminder);
        const queue = h.producers.queue(QUEUES.dispatchEmail);
        expect(await queue.getJobState(jobIdFor(n!.id, 0))).to.equal('waiting');

        // FLUSHDB, of this test run's keys only: the Redis is shared.
        let cursor = '0';
        do {
          const [next, keys] = await h.redis.scan(cursor, 'MATCH', `${getConfig().redisPrefix}:*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await h.redis.unlink(...keys);
        } while (cursor !== '0');
        expect(await queue.getJobState(jobIdFor(n!.id, 0))).to.equal('unknown');
      } finally {
        h.resumeWorkers();
      }
      expect(await h.scan(pastReclaim(n!))).to.deep.include({ created: 0, reclaimed: 1 });
      expect((await h.settled(ws, n!.id)).notification).to.include({ status: 'sent', enqueue_count: 2 });
      expect(await sentTo('Still here, Flushed')).to.have.length(1);
    });

    it('ends a notification a vanished job left sending outcome_unknown, never sending it again', async () => {
      const ws = await h.workspace();
      const client = await h.client(ws, { name: 'Limbo' });
      const due = justBefore();
      const reminder = await h.reminder(ws, [client], due, { message_template: 'Maybe sent, {{client.name}}' });
      await h.pauseWorkers();
      let n: NotificationRow | undefined;
      try {
        expect((await h.scan(due)).enqueued).to.equal(1);
        [n] = await h.notificationsOf(reminder);
        // Its job claimed it and may have sent it; then the job was lost (Redis, or stalled past its limit).
        await h.producers.queue(QUEUES.dispatchEmail).remove(jobIdFor(n!.id, 0));
        [n] = await h
          .db<NotificationRow>('notifications')
          .where({ id: n!.id })
          .update({ status: 'sending', updated_at: h.db.fn.now() })
          .returning('*');
      } finally {
        h.resumeWorkers();
      }
      expect((await h.scan(plus(due, 119))).reclaimed).to.equal(0);
      expect((await h.notificationsOf(reminder))[0]?.status).to.equal('sending');

      expect((await h.scan(pastReclaim(n!))).reclaimed).to.equal(0);
      const { notification, attempts } = await h.settled(ws, n!.id);
      expect(notification).to.include({ status: 'failed', last_error: 'outcome_unknown' });
      expect(attempts.map((a) => [a.outcome, a.error])).to.deep.equal([['unknown', 'outcome_unknown']]);
      expect(await h.producers.queue(QUEUES.dispatchEmail).getJobState(jobIdFor(n!.id, 1))).to.equal('unknown');
      expect(await sentTo('Maybe sent, Limbo')).to.deep.equal([]);
    });

    it('leaves a notification whose job is still live alone', async () => {
      const ws = await h.workspace();
      const client = await h.client(ws);
      const due = justBefore();
      const reminder = await h.reminder(ws, [client], due);
      await h.pauseWorkers();
      try {
        await h.scan(due);
        const [n] = await h.notificationsOf(reminder);
        expect((await h.scan(pastReclaim(n!))).reclaimed).to.equal(0);
        expect(await h.producers.queue(QUEUES.dispatchEmail).getJobState(jobIdFor(n!.id, 1))).to.equal('unknown');
      } finally {
        h.resumeWorkers();
      }
      const [n] = await h.notificationsOf(reminder);
      await waitFor(async () => (await h.settled(ws, n!.id)).notification.status === 'sent');
    });
  });

  it('adds reminder email jobs through the same producer as the API', async () => {
    // The payload names its kind on dispatch-email, which also carries password resets.
    const ws = await h.workspace();
    const client = await h.client(ws, { name: 'Direct' });
    const due = justBefore();
    const reminder = await h.reminder(ws, [client], due, { message_template: 'Direct {{client.name}}' });
    await h.scan(due, { jobs: crashingJobs() });
    const [n] = await h.notificationsOf(reminder);
    await addDispatchJob(h.producers, 'email', n!.id, jobIdFor(n!.id, 0));
    expect((await h.settled(ws, n!.id)).notification.status).to.equal('sent');
  });
});
