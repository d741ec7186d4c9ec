import { expect } from 'chai';
import { createDb, requeueNotificationForResend, type Db } from '@nudge/db';
import { createWorker, jobIdFor, QUEUES, type Worker } from '@nudge/queue';
import { waitFor } from '@nudge/testing';
import { slackJobsOn } from '../../src/birthdays/birthday-scan.service';
import { createBirthdayScanProcessor } from '../../src/processors/birthday-scan.processor';
import { startBirthdayHarness, type BirthdayHarness } from '../helpers/birthday-harness';

const at = (iso: string, plusSeconds = 0) => new Date(new Date(iso).getTime() + plusSeconds * 1000);

describe('the birthday scan', function () {
  let h: BirthdayHarness;
  before(async function () {
    this.timeout(60_000);
    h = await startBirthdayHarness();
  });
  after(() => h.close());
  afterEach(() => h.clear());

  const texts = (hook: string | null) =>
    h.slack.requestsTo(hook as string).map((r) => (r.body as { text: string }).text);

  describe('local day and post time', () => {
    it('posts only once the local post time has passed, on both sides of UTC', async () => {
      const auckland = await h.workspace({ timezone: 'Pacific/Auckland' });
      await h.birthday(auckland.id, 'Kiri', '1990-06-16');
      await h.birthday(auckland.id, 'Yesterday', '1990-06-15');
      const la = await h.workspace({ timezone: 'America/Los_Angeles' });
      await h.birthday(la.id, 'Lou', '1985-06-15');

      // 08:59 in Los Angeles (15 June), 03:59 in Auckland (16 June).
      expect(await h.scan('2027-06-15T15:59:00Z')).to.deep.equal({ claimed: 0, enqueued: 0, reclaimed: 0 });
      expect(await h.post(la.id, '2027-06-15')).to.equal(undefined);

      // 09:00 in Los Angeles.
      expect((await h.scan('2027-06-15T16:00:00Z')).claimed).to.equal(1);
      expect((await h.settled(la.id, '2027-06-15')).notification.status).to.equal('sent');
      expect(texts(la.hook)).to.deep.equal([':partying_face: Happy Birthday, *Lou*! :tada:']);
      expect(texts(auckland.hook)).to.deep.equal([]);

      // 09:00 on 16 June in Auckland; Los Angeles is done for its day.
      expect((await h.scan('2027-06-15T21:00:00Z')).claimed).to.equal(1);
      await h.settled(auckland.id, '2027-06-16');
      expect(texts(auckland.hook)).to.deep.equal([':partying_face: Happy Birthday, *Kiri*! :tada:']);
      expect(texts(la.hook)).to.have.length(1);
      expect((await h.post(auckland.id, '2027-06-16'))?.status).to.equal('sent');
    });

    it('posts late the same local day when the workers were down at the post time, but not the day after', async () => {
      const late = await h.workspace({ timezone: 'America/Los_Angeles' });
      await h.birthday(late.id, 'Night Owl', '1980-06-15');
      const missed = await h.workspace({ timezone: 'America/Los_Angeles' });
      await h.birthday(missed.id, 'Missed', '1980-06-14');

      // 23:59 on 15 June in Los Angeles: the first tick since before 09:00.
      expect((await h.scan('2027-06-16T06:59:00Z')).claimed).to.equal(1);
      await h.settled(late.id, '2027-06-15');
      expect(texts(late.hook)).to.have.length(1);
      expect(texts(missed.hook)).to.deep.equal([]);
      expect(await h.post(missed.id, '2027-06-14')).to.equal(undefined);
    });

    it('fires a post time that the spring-forward gap skips at the first instant after it (New York, 14 March 2027, 02:30)', async () => {
      const ny = await h.workspace({ timezone: 'America/New_York', postTime: '02:30' });
      await h.birthday(ny.id, 'Gap', '1999-03-14');
      expect((await h.scan('2027-03-14T06:59:59Z')).claimed).to.equal(0);
      expect((await h.scan('2027-03-14T07:00:00Z')).claimed).to.equal(1);
      await h.settled(ny.id, '2027-03-14');
      expect(texts(ny.hook)).to.have.length(1);
    });

    it('fires a post time that the fall-back repeats the first time only (New York, 7 November 2027, 01:30)', async () => {
      const ny = await h.workspace({ timezone: 'America/New_York', postTime: '01:30' });
      await h.birthday(ny.id, 'Twice', '1999-11-07');
      expect((await h.scan('2027-11-07T05:29:00Z')).claimed).to.equal(0);
      expect((await h.scan('2027-11-07T05:30:00Z')).claimed).to.equal(1);
      await h.settled(ny.id, '2027-11-07');
      // 01:30 again, an hour later, in EST.
      expect((await h.scan('2027-11-07T06:30:00Z')).claimed).to.equal(0);
      expect(texts(ny.hook)).to.have.length(1);
    });
  });

  describe('29 February', () => {
    it('is celebrated on 28 February (feb28) or 1 March (mar1) in common years, and on the day in leap years', async () => {
      const feb28 = await h.workspace({ timezone: 'Europe/London', leapDayRule: 'feb28' });
      const mar1 = await h.workspace({ timezone: 'Europe/London', leapDayRule: 'mar1' });
      await h.birthday(feb28.id, 'Leaper', '2000-02-29');
      await h.birthday(mar1.id, 'Leaper', '2000-02-29');

      const claimedOn = async (date: string) => (await h.scan(`${date}T09:00:00Z`)).claimed;
      expect(await claimedOn('2027-02-28')).to.equal(1);
      expect(await claimedOn('2027-03-01')).to.equal(1);
      expect(await claimedOn('2028-02-28')).to.equal(0);
      expect(await claimedOn('2028-02-29')).to.equal(2);
      expect(await claimedOn('2028-03-01')).to.equal(0);

      const dates = async (id: string) =>
        (await h
          .db('birthday_posts')
          .where({ workspace_id: id })
          .orderBy('local_date')
          .pluck('local_date')) as string[];
      expect(await dates(feb28.id)).to.deep.equal(['2027-02-28', '2028-02-29']);
      expect(await dates(mar1.id)).to.deep.equal(['2027-03-01', '2028-02-29']);
      for (const [ws, date] of [
        [feb28, '2027-02-28'],
        [mar1, '2027-03-01'],
        [feb28, '2028-02-29'],
        [mar1, '2028-02-29'],
      ] as const) {
        expect((await h.settled(ws.id, date)).notification.status).to.equal('sent');
      }
      expect(texts(feb28.hook)).to.have.length(2);
      expect(texts(mar1.hook)).to.have.length(2);
    });
  });

  describe('the message', () => {
    it('is one post per workspace naming everyone, in bold, ordered by name, escaped', async () => {
      const ws = await h.workspace();
      const ids = [
        await h.birthday(ws.id, 'Zoë', '1990-07-04'),
        await h.birthday(ws.id, 'adam', '1991-07-04'),
        await h.birthday(ws.id, 'Tom & <Jerry>', '1992-07-04'),
      ];
      await h.birthday(ws.id, 'Not Today', '1990-07-05');
      expect((await h.scan('2027-07-04T13:00:00Z')).claimed).to.equal(1);
      const { notification } = await h.settled(ws.id, '2027-07-04');
      const expected = ':partying_face: Happy Birthday, *adam*, *Tom &amp; &lt;Jerry&gt;* and *Zoë*! :tada:';
      expect(texts(ws.hook)).to.deep.equal([expected]);
      expect(notification).to.include({
        kind: 'birthday',
        channel: 'slack',
        body: expected,
        dedupe_key: `birthday:${ws.id}:2027-07-04`,
      });
      expect((await h.post(ws.id, '2027-07-04'))?.birthday_ids).to.have.members(ids);
    });

    it("uses the workspace's template", async () => {
      const ws = await h.workspace({ template: '{count} birthdays today: {names} :cake:' });
      await h.birthday(ws.id, 'Bea', '1990-07-04');
      await h.birthday(ws.id, 'Al', '1990-07-04');
      await h.scan('2027-07-04T13:00:00Z');
      await h.settled(ws.id, '2027-07-04');
      expect(texts(ws.hook)).to.deep.equal(['2 birthdays today: *Al* and *Bea* :cake:']);
    });
  });

  describe('claims', () => {
    it('posts once when two ticks run at the same instant on separate connections, and a rerun adds nothing', async () => {
      const ws = await h.workspace();
      await h.birthday(ws.id, 'Dup', '1990-08-01');
      const db1: Db = createDb(h.url);
      const db2: Db = createDb(h.url);
      try {
        const now = at('2027-08-01T13:05:00Z');
        const [a, b] = await Promise.all([h.scan(now, {}, { db: db1 }), h.scan(now, {}, { db: db2 })]);
        expect(a.claimed + b.claimed).to.equal(1);
        await h.settled(ws.id, '2027-08-01');
        expect(await h.scan(now, { manual: true, workspaceId: ws.id })).to.deep.equal({
          claimed: 0,
          enqueued: 0,
          reclaimed: 0,
        });
        expect(await h.scan(at('2027-08-01T20:00:00Z'))).to.deep.equal({ claimed: 0, enqueued: 0, reclaimed: 0 });
        expect(texts(ws.hook)).to.have.length(1);
        expect(await h.db('notifications').where({ workspace_id: ws.id })).to.have.length(1);
      } finally {
        await db1.destroy();
        await db2.destroy();
      }
    });

    it('re-enqueues a claim left without a job by a crash between the commit and the enqueue', async () => {
      const ws = await h.workspace();
      await h.birthday(ws.id, 'Phoenix', '1990-08-02');
      const t0 = '2027-08-02T13:00:00Z';
      const crashing = { ...slackJobsOn(h.producers), add: () => Promise.reject(new Error('process died')) };
      expect(await h.scan(at(t0), {}, { jobs: crashing })).to.deep.equal({ claimed: 1, enqueued: 0, reclaimed: 0 });
      expect(await h.post(ws.id, '2027-08-02')).to.include({ status: 'claimed', enqueue_count: 0 });

      // Not yet RECLAIM_AFTER_SECONDS (120).
      expect((await h.scan(at(t0, 119))).reclaimed).to.equal(0);
      expect(texts(ws.hook)).to.deep.equal([]);

      expect((await h.scan(at(t0, 121))).reclaimed).to.equal(1);
      await h.settled(ws.id, '2027-08-02');
      expect(texts(ws.hook)).to.have.length(1);
      expect(await h.post(ws.id, '2027-08-02')).to.include({ status: 'sent', enqueue_count: 1 });
    });

    it('leaves a claim whose job is still waiting alone, and re-enqueues one whose job Redis lost under the next id', async () => {
      const ws = await h.workspace();
      await h.birthday(ws.id, 'Patience', '1990-08-03');
      const t0 = '2027-08-03T13:00:00Z';
      await Promise.all(h.dispatchWorkers.map((w) => w.pause()));
      try {
        expect((await h.scan(at(t0))).enqueued).to.equal(1);
        const nid = (await h.post(ws.id, '2027-08-03'))!.notification_id!;
        const queue = h.producers.queue(QUEUES.dispatchSlack);
        expect(await queue.getJobState(jobIdFor(nid, 0))).to.equal('waiting');

        expect((await h.scan(at(t0, 121))).reclaimed).to.equal(0);
        expect(await queue.getJobState(jobIdFor(nid, 1))).to.equal('unknown');

        await queue.remove(jobIdFor(nid, 0));
        expect((await h.scan(at(t0, 250))).reclaimed).to.equal(1);
        expect(await queue.getJobState(jobIdFor(nid, 1))).to.equal('waiting');
        expect((await h.post(ws.id, '2027-08-03'))?.enqueue_count).to.equal(2);
      } finally {
        await Promise.all(h.dispatchWorkers.map((w) => w.resume()));
      }
      await h.settled(ws.id, '2027-08-03');
      expect(texts(ws.hook)).to.have.length(1);
    });

    it('never posts again a claim a dead job left sending: it ends outcome_unknown, and only a resend posts it', async () => {
      const ws = await h.workspace();
      await h.birthday(ws.id, 'Schrodinger', '1990-08-06');
      const t0 = '2027-08-06T13:00:00Z';
      const crashing = { ...slackJobsOn(h.producers), add: () => Promise.reject(new Error('process died')) };
      await h.scan(at(t0), {}, { jobs: crashing });
      // Its job took it and posted, and its process died before recording how the post ended; the job is gone.
      const post = (await h.post(ws.id, '2027-08-06'))!;
      const nid = post.notification_id!;
      await h.db('birthday_posts').where({ id: post.id }).update({ enqueue_count: 1 });
      await h.db('notifications').where({ id: nid }).update({ status: 'sending' });

      expect((await h.scan(at(t0, 121))).reclaimed).to.equal(0);
      const queue = h.producers.queue(QUEUES.dispatchSlack);
      expect(await queue.getJobState(jobIdFor(nid, 1))).to.equal('unknown');
      expect(await h.post(ws.id, '2027-08-06')).to.include({ status: 'failed' });
      const { notification, attempts } = await h.settled(ws.id, '2027-08-06');
      expect(notification).to.include({ status: 'failed', last_error: 'outcome_unknown' });
      expect(attempts.map((a) => [a.attempt, a.outcome, a.error])).to.deep.equal([[1, 'unknown', 'outcome_unknown']]);
      expect((await h.scan(at(t0, 400))).reclaimed).to.equal(0);
      expect(texts(ws.hook)).to.deep.equal([]);

      // Sent again on purpose, as POST /notifications/{id}/resend does: under the post's next job id, posted once.
      const requeued = await requeueNotificationForResend(h.db, ws.id, nid);
      expect(requeued).to.include({ status: 'queued', enqueue_count: 1 });
      await queue.add(QUEUES.dispatchSlack, { notificationId: nid }, { jobId: jobIdFor(nid, requeued!.enqueue_count) });
      const again = await h.settled(ws.id, '2027-08-06');
      expect(again.notification.status).to.equal('sent');
      expect(again.attempts.map((a) => [a.attempt, a.outcome])).to.deep.equal([
        [1, 'unknown'],
        [2, 'sent'],
      ]);
      expect(texts(ws.hook)).to.have.length(1);
      expect(await h.post(ws.id, '2027-08-06')).to.include({ status: 'sent' });
    });

    it('fails a stale claim once its local day is over instead of posting it a day late', async () => {
      const ws = await h.workspace();
      await h.birthday(ws.id, 'Too Late', '1990-08-04');
      const crashing = { ...slackJobsOn(h.producers), add: () => Promise.reject(new Error('process died')) };
      await h.scan(at('2027-08-04T13:00:00Z'), {}, { jobs: crashing });
      expect((await h.scan(at('2027-08-05T13:00:00Z'))).reclaimed).to.equal(0);
      expect((await h.post(ws.id, '2027-08-04'))?.status).to.equal('failed');
      expect(await h.notification(ws.id, '2027-08-04')).to.include({ status: 'failed', last_error: 'expired' });
      expect(texts(ws.hook)).to.deep.equal([]);
    });
  });

  describe('workspaces that cannot post', () => {
    it('skips a workspace with no webhook or a broken one, on schedule and on a manual run', async () => {
      const none = await h.workspace({ webhook: null });
      const broken = await h.workspace({ broken: true });
      for (const ws of [none, broken]) await h.birthday(ws.id, 'Nobody Hears', '1990-09-01');
      expect((await h.scan('2027-09-01T14:00:00Z')).claimed).to.equal(0);
      for (const ws of [none, broken]) {
        expect((await h.scan('2027-09-01T14:00:00Z', { manual: true, workspaceId: ws.id })).claimed).to.equal(0);
        expect(await h.post(ws.id, '2027-09-01')).to.equal(undefined);
      }
      expect(await h.db('notifications').whereIn('workspace_id', [none.id, broken.id])).to.have.length(0);
      expect(texts(broken.hook)).to.deep.equal([]);
    });
  });

  describe('a manual run', () => {
    let scanWorker: Worker | undefined;
    afterEach(async () => {
      await scanWorker?.close();
      scanWorker = undefined;
    });

    it('posts today at once whatever the post time, through the birthday-scan queue, and only once', async () => {
      const ws = await h.workspace();
      await h.birthday(ws.id, 'Eager', '1990-10-01');
      // 01:00 in New York: hours before the 09:00 post time.
      const now = at('2027-10-01T05:00:00Z');
      expect((await h.scan(now)).claimed).to.equal(0);

      const process = createBirthdayScanProcessor({ db: h.db, clock: () => now });
      // Ticks and manual runs other suites left in the shared queue are not this test's to run.
      scanWorker = createWorker(
        QUEUES.birthdayScan,
        (job) => (job.data.workspaceId === ws.id ? process(job, h.ctx) : Promise.resolve(undefined)),
        { concurrency: 1 },
      );
      const queue = h.producers.queue(QUEUES.birthdayScan);
      const run = async () => {
        const job = await queue.add('manual', { manual: true, workspaceId: ws.id });
        await waitFor(async () => (await queue.getJobState(job.id!)) === 'completed', { what: 'the manual run' });
        return (await queue.getJob(job.id!))?.returnvalue as unknown;
      };

      expect(await run()).to.deep.equal({ claimed: 1, enqueued: 1, reclaimed: 0 });
      await h.settled(ws.id, '2027-10-01');
      expect(await run()).to.deep.equal({ claimed: 0, enqueued: 0, reclaimed: 0 });
      expect(texts(ws.hook)).to.have.length(1);
    });

    it('posts nothing and leaves no row when nobody has a birthday today', async () => {
      const ws = await h.workspace();
      await h.birthday(ws.id, 'Tomorrow', '1990-10-02');
      expect((await h.scan('2027-10-01T14:00:00Z', { manual: true, workspaceId: ws.id })).claimed).to.equal(0);
      expect(await h.post(ws.id, '2027-10-01')).to.equal(undefined);
      expect(texts(ws.hook)).to.deep.equal([]);
    });
  });
});
