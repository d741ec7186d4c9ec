import { expect } from 'chai';
import { findWorkspaceById, setWorkspaceSlackWebhook } from '@nudge/db';
import { QUEUES, appKey, createRedis } from '@nudge/queue';
import { waitFor } from '@nudge/testing';
import { startBirthdayHarness, type BirthdayHarness } from '../helpers/birthday-harness';

describe('the Slack post processor (dispatch-slack)', function () {
  let h: BirthdayHarness;
  const redis = createRedis('client');
  before(async function () {
    this.timeout(60_000);
    h = await startBirthdayHarness({ slackTimeoutMs: 300 });
  });
  after(async () => {
    await h.close();
    redis.disconnect();
  });
  afterEach(() => h.clear());

  // One workspace with a birthday on 1 December, posted at 09:00 New York time.
  const DAY = '2027-12-01';
  const NOON = '2027-12-01T17:00:00Z';
  async function dueWorkspace(webhook?: string) {
    const ws = await h.workspace(webhook ? { webhook } : {});
    await h.birthday(ws.id, 'Ada', '1990-12-01');
    return ws;
  }
  const outcomes = (attempts: { outcome: string; http_status: number | null; error: string | null }[]) =>
    attempts.map((a) => [a.outcome, a.http_status, a.error]);

  it('posts, records the attempt and marks the notification and the post sent', async () => {
    const ws = await dueWorkspace();
    await h.scan(NOON);
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification).to.include({ status: 'sent', provider: 'slack', attempts: 1, last_error: null });
    expect(notification.sent_at).to.be.instanceOf(Date);
    expect(outcomes(attempts)).to.deep.equal([['sent', 200, null]]);
    expect(attempts[0]!.duration_ms).to.be.a('number');
    expect((await h.post(ws.id, DAY))?.status).to.equal('sent');
    expect(h.slack.requestsTo(ws.hook!)).to.have.length(1);
  });

  it('retries a 429, waiting out its Retry-After, and then posts', async function () {
    this.timeout(15_000);
    const ws = await dueWorkspace();
    h.slack.inject({ status: 429, retryAfterSeconds: 2 }, 1, ws.hook!);
    await h.scan(NOON);
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification).to.include({ status: 'sent', attempts: 2 });
    expect(outcomes(attempts)).to.deep.equal([
      ['retry', 429, 'rate_limited'],
      ['sent', 200, null],
    ]);
    const [first, second] = h.slack.requestsTo(ws.hook!);
    // The configured backoff is 20 ms and the pacing 1 s: only Retry-After explains two seconds.
    expect(second!.at - first!.at).to.be.at.least(2000);
  });

  it('retries a hook that hangs past the timeout, and then posts', async () => {
    const ws = await dueWorkspace();
    h.slack.inject('hang', 1, ws.hook!);
    await h.scan(NOON);
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification.status).to.equal('sent');
    expect(outcomes(attempts)).to.deep.equal([
      ['retry', null, 'timeout'],
      ['sent', 200, null],
    ]);
    expect(attempts[0]!.duration_ms).to.be.at.least(250);
  });

  it('fails after the last of 5 attempts at a 5xx, without flagging the workspace', async function () {
    this.timeout(15_000);
    const ws = await dueWorkspace();
    h.slack.inject(503, 10, ws.hook!);
    await h.scan(NOON);
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification).to.include({ status: 'failed', attempts: 5, last_error: 'provider_unavailable' });
    expect(outcomes(attempts)).to.deep.equal([
      ...Array(4).fill(['retry', 503, 'provider_unavailable']),
      ['failed', 503, 'provider_unavailable'],
    ]);
    expect(h.slack.requestsTo(ws.hook!)).to.have.length(5);
    expect((await h.post(ws.id, DAY))?.status).to.equal('failed');
    expect((await findWorkspaceById(h.db, ws.id))?.slack_status).to.equal('ok');
  });

  it('fails at once when Retry-After asks for more than 15 minutes', async () => {
    const ws = await dueWorkspace();
    h.slack.inject({ status: 429, retryAfterSeconds: 901 }, 1, ws.hook!);
    await h.scan(NOON);
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification.status).to.equal('failed');
    expect(notification.last_error).to.match(/^rate_limited: Retry-After 901 s/);
    expect(attempts.map((a) => a.outcome)).to.deep.equal(['failed']);
    expect(h.slack.requestsTo(ws.hook!)).to.have.length(1);
  });

  for (const [status, reason] of [
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ] as const) {
    it(`fails a ${status} ${reason} without retrying, records the reason and flags the workspace broken`, async () => {
      const ws = await dueWorkspace();
      // A listing the API cached before the failure shows slack_status: ok. It must not outlive the change.
      const listing = appKey('cache', 'workspaces', ws.id);
      await redis.set(listing, JSON.stringify({ data: [{ id: ws.id, slack_status: 'ok' }] }), 'EX', 300);
      h.slack.inject(status, 1, ws.hook!);
      await h.scan(NOON);
      const { notification, attempts } = await h.settled(ws.id, DAY);
      expect(await redis.exists(listing)).to.equal(0);
      expect(notification).to.include({ status: 'failed', last_error: reason, attempts: 1 });
      expect(outcomes(attempts)).to.deep.equal([['failed', status, reason]]);
      expect(h.slack.requestsTo(ws.hook!)).to.have.length(1);
      expect((await h.post(ws.id, DAY))?.status).to.equal('failed');
      expect((await findWorkspaceById(h.db, ws.id))?.slack_status).to.equal('broken');

      // Broken, it is skipped the next day; a new webhook sets it back to ok.
      await h.birthday(ws.id, 'Bo', '1990-12-02');
      expect((await h.scan('2027-12-02T17:00:00Z')).claimed).to.equal(0);
      await setWorkspaceSlackWebhook(h.db, ws.id, h.slack.webhookUrl());
      expect((await h.scan('2027-12-02T17:00:00Z')).claimed).to.equal(1);
      expect((await h.settled(ws.id, '2027-12-02')).notification.status).to.equal('sent');
    });
  }

  it('does not follow a redirect: one request, and the post fails with redirect_not_followed', async () => {
    const ws = await dueWorkspace();
    h.slack.inject(302, 1, ws.hook!);
    await h.scan(NOON);
    const { notification } = await h.settled(ws.id, DAY);
    expect(notification).to.include({ status: 'failed', last_error: 'redirect_not_followed' });
    expect(h.slack.requestsTo(ws.hook!)).to.have.length(1);
    expect(h.slack.requests.filter((r) => r.path === h.slack.redirectPath)).to.have.length(0);
  });

  it('paces posts to one webhook at one a second across workers, even from different workspaces', async () => {
    const shared = h.slack.webhookUrl();
    const a = await dueWorkspace(shared);
    const b = await dueWorkspace(shared);
    const c = await dueWorkspace(shared);
    expect((await h.scan(NOON)).enqueued).to.equal(3);
    await Promise.all([a, b, c].map((ws) => h.settled(ws.id, DAY)));
    const times = h.slack
      .requestsTo(shared)
      .map((r) => r.at)
      .sort((x, y) => x - y);
    expect(times).to.have.length(3);
    expect(times[1]! - times[0]!).to.be.at.least(1000);
    expect(times[2]! - times[1]!).to.be.at.least(1000);
  });

  it('does nothing for a notification that is already final', async () => {
    const ws = await dueWorkspace();
    await h.scan(NOON);
    const { notification } = await h.settled(ws.id, DAY);
    const queue = h.producers.queue(QUEUES.dispatchSlack);
    const job = await queue.add('again', { notificationId: notification.id }, { jobId: `${notification.id}-again` });
    await waitFor(async () => (await queue.getJobState(job.id!)) === 'completed', { what: 'the repeated job' });
    expect((await queue.getJob(job.id!))?.returnvalue).to.equal('already-final');
    expect(h.slack.requestsTo(ws.hook!)).to.have.length(1);
  });

  it('never posts again a post its job finds sending: an unknown attempt, outcome_unknown, the day failed', async () => {
    const ws = await dueWorkspace();
    await Promise.all(h.dispatchWorkers.map((w) => w.pause()));
    try {
      await h.scan(NOON);
      // A try before this job claimed it and died before recording how the post ended.
      const nid = (await h.post(ws.id, DAY))!.notification_id!;
      await h.db('notifications').where({ id: nid }).update({ status: 'sending' });
    } finally {
      await Promise.all(h.dispatchWorkers.map((w) => w.resume()));
    }
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification).to.include({ status: 'failed', last_error: 'outcome_unknown' });
    expect(outcomes(attempts)).to.deep.equal([['unknown', null, 'outcome_unknown']]);
    expect((await h.post(ws.id, DAY))?.status).to.equal('failed');
    expect(h.slack.requestsTo(ws.hook!)).to.deep.equal([]);
  });

  it('fails a post whose workspace lost its webhook between the claim and the job, without a try', async () => {
    const ws = await dueWorkspace();
    await Promise.all(h.dispatchWorkers.map((w) => w.pause()));
    try {
      expect((await h.scan(NOON)).enqueued).to.equal(1);
      await setWorkspaceSlackWebhook(h.db, ws.id, null);
    } finally {
      await Promise.all(h.dispatchWorkers.map((w) => w.resume()));
    }
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification).to.include({ status: 'failed', last_error: 'no_webhook' });
    expect(attempts).to.deep.equal([]);
    expect((await h.post(ws.id, DAY))?.status).to.equal('failed');
    expect(h.slack.requestsTo(ws.hook!)).to.have.length(0);
  });
  it('fails a post whose stored webhook cannot be decrypted, and flags the workspace until the webhook is saved again', async () => {
    const ws = await dueWorkspace();
    await Promise.all(h.dispatchWorkers.map((w) => w.pause()));
    try {
      expect((await h.scan(NOON)).enqueued).to.equal(1);
      // A ciphertext copied from another workspace is bound to that row and does not decrypt here.
      const other = await h.workspace();
      const foreign = (
        await h.db('workspaces').where({ id: other.id }).first<{ slack_webhook: string }>('slack_webhook')
      ).slack_webhook;
      await h.db('workspaces').where({ id: ws.id }).update({ slack_webhook: foreign });
    } finally {
      await Promise.all(h.dispatchWorkers.map((w) => w.resume()));
    }
    const { notification, attempts } = await h.settled(ws.id, DAY);
    expect(notification).to.include({ status: 'failed', last_error: 'webhook_unreadable' });
    expect(attempts).to.deep.equal([]);
    expect((await findWorkspaceById(h.db, ws.id))?.slack_status).to.equal('undecryptable');
    expect(h.slack.requestsTo(ws.hook!)).to.have.length(0);
  });
});
