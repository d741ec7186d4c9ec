// The channel processor skeleton is what email, SMS and WhatsApp will plug into: these tests hold its promises for
// any channel, with a minimal channel of their own (a Slack-shaped hook on the fake Slack, through the real
// adapter), a real BullMQ worker, the real Redis and the test database.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import winston from 'winston';
import { getDb, insertNotification, findNotification, listNotificationAttempts, type NotificationRow } from '@nudge/db';
import { SlackWebhookAdapter, type ProviderError } from '@nudge/channels';
import { bullPrefix, createRedis, type NotificationJob } from '@nudge/queue';
import { startFakeSlack, waitFor, type FakeSlack } from '@nudge/testing';
import { dispatchNotification, type DispatchChannel } from '../../src/dispatch/channel.processor';
import {
  backoffStrategy,
  DEFAULT_RETRY_POLICY,
  dispatchJobOptions,
  type RetryPolicy,
} from '../../src/dispatch/retry-policy';
import { redisTargetPacer } from '../../src/dispatch/target-pacer';

const FAST: RetryPolicy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 20, maxDelayMs: 200 };

describe('the channel processor skeleton', function () {
  this.timeout(20_000);
  const db = getDb();
  const name = `dispatch-test-${randomBytes(3).toString('hex')}`;
  const redis = createRedis('client');
  const queueConnection = createRedis('producer');
  const workerConnection = createRedis('worker');
  const queue = new Queue<NotificationJob>(name, { connection: queueConnection, prefix: bullPrefix() });
  const adapter = new SlackWebhookAdapter({ timeoutMs: 300 });
  let slack: FakeSlack;
  let worker: Worker<NotificationJob>;
  let workspaceId: string;
  // Where each notification is sent, and what the channel's hooks were told.
  const hooks = new Map<string, string>();
  const settled: [string, string][] = [];
  const permanent: [string, string][] = [];
  const afterPermanent: string[] = [];
  // Notifications whose first write after a successful send fails (a database error), as many times as counted.
  const failingWrites = new Map<string, number>();

  const channel: DispatchChannel<{ hook: string; text: string }> = {
    name: 'test send',
    prepare(n) {
      const hook = hooks.get(n.id);
      return Promise.resolve(hook ? { message: { hook, text: n.body ?? '' }, target: hook } : { fail: 'no_target' });
    },
    async send({ hook, text }) {
      const res = await adapter.post(hook, text);
      return { provider: 'slack', httpStatus: res.status };
    },
    onSettled(_trx, n, outcome) {
      const failures = failingWrites.get(n.id) ?? 0;
      if (outcome === 'sent' && failures > 0) {
        failingWrites.set(n.id, failures - 1);
        return Promise.reject(new Error('connection terminated unexpectedly'));
      }
      settled.push([n.id, outcome]);
      return Promise.resolve();
    },
    onPermanentFailure(_trx, n, err: ProviderError) {
      permanent.push([n.id, err.code]);
      return Promise.resolve();
    },
    afterPermanentFailure(n) {
      afterPermanent.push(n.id);
      return Promise.resolve();
    },
  };

  before(async () => {
    slack = await startFakeSlack();
    const [ws] = await db('workspaces').insert({ name: name }).returning<{ id: string }[]>('id');
    workspaceId = ws!.id;
    const deps = {
      db,
      pacer: redisTargetPacer(redis, { namespace: name, intervalMs: 50 }),
      retry: FAST,
      logger: winston.createLogger({ silent: true }),
    };
    worker = new Worker<NotificationJob>(
      name,
      (job: Job<NotificationJob>) => dispatchNotification(job, channel, deps),
      {
        connection: workerConnection,
        prefix: bullPrefix(),
        concurrency: 5,
        settings: { backoffStrategy: backoffStrategy(FAST) },
      },
    );
    worker.on('error', () => undefined);
  });
  after(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    for (const c of [redis, queueConnection, workerConnection]) c.disconnect();
    await db('workspaces').where({ id: workspaceId }).delete();
    await slack.close();
  });

  let n = 0;
  async function notification(opts: { hook?: boolean } = {}): Promise<{ row: NotificationRow; hook: string }> {
    const row = (await insertNotification(db, workspaceId, {
      kind: 'reminder',
      channel: 'slack',
      dedupe_key: `${name}:${++n}`,
      body: `hello ${n}`,
    }))!;
    const hook = slack.webhookUrl();
    if (opts.hook !== false) hooks.set(row.id, hook);
    return { row, hook };
  }
  async function run(notificationId: string, jobId: string) {
    const job = await queue.add('send', { notificationId }, dispatchJobOptions(jobId, FAST));
    return waitFor(
      async () => {
        const state = await queue.getJobState(job.id!);
        return state === 'completed' || state === 'failed'
          ? ((await queue.getJob(job.id!))! as Job<NotificationJob, unknown>)
          : undefined;
      },
      { what: `job ${jobId} to finish` },
    );
  }
  const outcomes = async (id: string) =>
    (await listNotificationAttempts(db, workspaceId, id)).map((a) => [a.outcome, a.http_status, a.error]);

  it('sends, records the attempt, and sends nothing again when a job for the same notification runs twice', async () => {
    const { row, hook } = await notification();
    const first = await run(row.id, row.id);
    expect(first.returnvalue).to.equal('sent');
    const second = await run(row.id, `${row.id}-again`);
    expect(second.returnvalue).to.equal('already-final');

    expect(slack.requestsTo(hook)).to.have.length(1);
    expect(await outcomes(row.id)).to.deep.equal([['sent', 200, null]]);
    expect(await findNotification(db, workspaceId, row.id)).to.include({
      status: 'sent',
      provider: 'slack',
      attempts: 1,
    });
    expect(settled.filter(([id]) => id === row.id)).to.deep.equal([[row.id, 'sent']]);
  });

  it('records a permanent error as a failed attempt and fails the job without a retry', async () => {
    const { row, hook } = await notification();
    slack.inject(404, 1, hook);
    const job = await run(row.id, row.id);

    expect(await job.getState()).to.equal('failed');
    expect(job.attemptsMade).to.equal(1);
    expect(job.failedReason).to.equal('no_service');
    expect(slack.requestsTo(hook)).to.have.length(1);
    expect(await outcomes(row.id)).to.deep.equal([['failed', 404, 'no_service']]);
    expect(await findNotification(db, workspaceId, row.id)).to.include({
      status: 'failed',
      last_error: 'no_service',
      attempts: 1,
    });
    expect(settled.filter(([id]) => id === row.id)).to.deep.equal([[row.id, 'failed']]);
    expect(permanent).to.deep.include([row.id, 'no_service']);
    expect(afterPermanent).to.include(row.id);
  });

  it('records a transient error as a retry, and the retry sends', async () => {
    const { row, hook } = await notification();
    slack.inject(503, 1, hook);
    const job = await run(row.id, row.id);

    expect(job.returnvalue).to.equal('sent');
    expect(slack.requestsTo(hook)).to.have.length(2);
    expect(await outcomes(row.id)).to.deep.equal([
      ['retry', 503, 'provider_unavailable'],
      ['sent', 200, null],
    ]);
    expect(permanent.map(([id]) => id)).not.to.include(row.id);
  });

  it('retries the write that records a successful send, so a passing database error leaves it sent, posted once', async () => {
    const { row, hook } = await notification();
    failingWrites.set(row.id, 2);
    const job = await run(row.id, row.id);

    expect(job.returnvalue).to.equal('sent');
    expect(job.attemptsMade).to.equal(1);
    expect(slack.requestsTo(hook)).to.have.length(1);
    expect(await outcomes(row.id)).to.deep.equal([['sent', 200, null]]);
    expect(await findNotification(db, workspaceId, row.id)).to.include({ status: 'sent', last_error: null });
  });

  it('fails a notification the channel cannot prepare, without a try', async () => {
    const { row } = await notification({ hook: false });
    const job = await run(row.id, row.id);

    expect(await job.getState()).to.equal('failed');
    expect(job.attemptsMade).to.equal(1);
    expect(await outcomes(row.id)).to.deep.equal([]);
    expect(await findNotification(db, workspaceId, row.id)).to.include({ status: 'failed', last_error: 'no_target' });
    expect(settled.filter(([id]) => id === row.id)).to.deep.equal([[row.id, 'failed']]);
  });
});
