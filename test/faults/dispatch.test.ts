// The fault suite, dispatch side: a real `reminders` process mails due reminders through the fake SendGrid while the
// suite kills it, restarts or empties its Redis, or makes the provider fail. Everything runs on a PostgreSQL and a
// redis-server of the suite's own (never the machine's), with short locks, ticks and backoff so each test ends in
// seconds. The tests share one database and one fake, each with a workspace (and a due reminder) of its own, and the
// worker the first test leaves running, since spawning one costs seconds on a busy machine. Each prints its figures
// on one `[fault]` line.
import { expect } from 'chai';
import type { Db } from '@nudge/db';
import { startFakeSendgrid, waitFor, type FakeSendgrid, type Spawned } from '@nudge/testing';
import { startPrivateServices, type PrivateServices } from '../support/private-services';
import {
  dispatchVerdict,
  openNotifications,
  seedDueReminder,
  startRemindersWorker,
  stopAll,
  waitAllFinal,
  type DispatchVerdict,
} from '../support/reminder-dispatch';

const seconds = (ms: number) => (ms / 1000).toFixed(1);

describe('reminder dispatch under faults', function () {
  let services: PrivateServices;
  let sendgrid: FakeSendgrid;
  let db: Db;
  let workerEnv: Record<string, string>;
  const spawned: Spawned[] = [];
  /** The worker running now. */
  let worker: Spawned | undefined;

  before(async function () {
    this.timeout(120_000);
    services = await startPrivateServices();
    const database = await services.database('nudge_faults_dispatch');
    db = database.db;
    sendgrid = await startFakeSendgrid();
    // The scan ticks every 2 s; its reconciler re-enqueues a notification still queued with no live job 3 s after
    // its last enqueue; a dead worker's jobs are taken up again once their 5 s lock runs out.
    workerEnv = {
      DATABASE_URL: database.url,
      REDIS_URL: services.redisUrl,
      REDIS_PREFIX: 'nudgefaults',
      REMINDER_SCAN_INTERVAL_SECONDS: '2',
      RECLAIM_AFTER_SECONDS: '3',
      WORKER_LOCK_SECONDS: '5',
      DISPATCH_BACKOFF_BASE_MS: '100',
    };
  });

  beforeEach(() => sendgrid.reset());

  after(async function () {
    this.timeout(60_000);
    await stopAll(spawned);
    await sendgrid?.close();
    await services?.close();
  });

  const startWorker = async (env: Record<string, string> = {}) =>
    (worker = await startRemindersWorker(sendgrid, { ...workerEnv, ...env }, spawned));

  /** A workspace with a reminder due for `count` clients, once the worker's scan has made every notification. */
  async function dueReminder(count: number): Promise<string> {
    const { workspaceId } = await seedDueReminder(db, count);
    await waitFor(
      async () =>
        Number((await db('notifications').where({ workspace_id: workspaceId }).count({ n: '*' }))[0]?.n) === count,
      { timeoutMs: 60_000, everyMs: 200, what: 'the scan to make every notification' },
    );
    return workspaceId;
  }

  const expectNoneLost = (v: DispatchVerdict, count: number) => {
    expect(v.rows, 'notifications').to.have.length(count);
    expect(v.lost, 'notifications lost').to.equal(0);
    expect(v.duplicates, 'notifications the provider accepted twice').to.equal(0);
  };

  it('loses no notification and sends none twice when a worker dispatching 5,000 is killed and started again', async function () {
    this.timeout(300_000);
    const COUNT = 5000;
    const first = await startWorker();
    const ws = await dueReminder(COUNT);
    await waitFor(() => sendgrid.requests.length >= 500, { timeoutMs: 90_000, everyMs: 50, what: '500 sends' });
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const atKill = sendgrid.requests.length;
    expect(atKill, 'the kill came after the last send').to.be.below(COUNT);

    await startWorker();
    await waitFor(() => sendgrid.requests.length > atKill, { timeoutMs: 60_000, everyMs: 50, what: 'a send again' });
    const recovery = Date.now() - killedAt;
    await waitAllFinal(db, 200_000, ws);
    const drained = Date.now() - killedAt;
    const v = await dispatchVerdict(db, sendgrid, ws);
    console.log(
      `[fault] sigkill-5000: lost=${v.lost} duplicates=${v.duplicates} outcome_unknown=${v.outcomeUnknown} ` +
        `killed_after=${atKill} recovery_s=${seconds(recovery)} all_final_s=${seconds(drained)}`,
    );
    expectNoneLost(v, COUNT);
    expect(v.failed, 'notifications failed').to.equal(0);
  });

  it('loses no notification and sends none twice when Redis (AOF on) restarts during dispatch', async function () {
    this.timeout(150_000);
    const COUNT = 800;
    if (!worker) await startWorker();
    const ws = await dueReminder(COUNT);
    await waitFor(() => sendgrid.requests.length >= 200, { timeoutMs: 60_000, everyMs: 50, what: '200 sends' });
    const stoppedAt = Date.now();
    await services.stopRedis();
    const atStop = sendgrid.requests.length;
    await services.startRedis();
    const down = Date.now() - stoppedAt;
    await waitAllFinal(db, 120_000, ws);
    const v = await dispatchVerdict(db, sendgrid, ws);
    console.log(
      `[fault] redis-restart: lost=${v.lost} duplicates=${v.duplicates} outcome_unknown=${v.outcomeUnknown} ` +
        `stopped_after=${atStop} redis_down_s=${seconds(down)} all_final_s=${seconds(Date.now() - stoppedAt)}`,
    );
    expectNoneLost(v, COUNT);
    expect(v.failed, 'notifications failed').to.equal(0);
  });

  it('re-enqueues from PostgreSQL what a Redis emptied by FLUSHALL lost, and loses nothing', async function () {
    this.timeout(150_000);
    const COUNT = 800;
    if (!worker) await startWorker();
    const ws = await dueReminder(COUNT);
    await waitFor(() => sendgrid.requests.length >= 200, { timeoutMs: 60_000, everyMs: 50, what: '200 sends' });
    const flushedAt = Date.now();
    await services.redis('FLUSHALL');
    const atFlush = sendgrid.requests.length;
    const openAtFlush = await openNotifications(db, ws);
    await waitAllFinal(db, 120_000, ws);
    const v = await dispatchVerdict(db, sendgrid, ws);
    console.log(
      `[fault] redis-flush: lost=${v.lost} duplicates=${v.duplicates} outcome_unknown=${v.outcomeUnknown} ` +
        `flushed_after=${atFlush} open_at_flush=${openAtFlush} all_final_s=${seconds(Date.now() - flushedAt)}`,
    );
    expect(openAtFlush, 'notifications still to send when Redis was emptied').to.be.above(0);
    expectNoneLost(v, COUNT);
    expect(v.failed, 'notifications failed').to.equal(0);
  });

  it('ends every notification final within the tries allowed when the provider answers 30% 5xx and leaves 10% hanging', async function () {
    this.timeout(150_000);
    const COUNT = 200;
    const ATTEMPTS = 3;
    // A worker whose SendGrid requests give up after 2 s, so a hanging one is retried soon.
    await stopAll(spawned);
    await startWorker({ EMAIL_TIMEOUT_MS: '2000', DISPATCH_MAX_ATTEMPTS: String(ATTEMPTS) });
    sendgrid.setMode({
      mix: [
        [503, 0.3],
        ['hang', 0.1],
      ],
    });
    const started = Date.now();
    const ws = await dueReminder(COUNT);
    await waitAllFinal(db, 120_000, ws);
    const v = await dispatchVerdict(db, sendgrid, ws);
    const most = Math.max(0, ...v.requests.values());
    const tries = await db.raw<{ rows: { n: number }[] }>(
      `SELECT coalesce(max(c), 0)::int AS n FROM (
         SELECT count(*) AS c FROM notification_attempts a JOIN notifications n ON n.id = a.notification_id
         WHERE n.workspace_id = ? GROUP BY a.notification_id) t`,
      [ws],
    );
    const attemptRows = tries.rows[0]?.n ?? 0;
    console.log(
      `[fault] flaky-provider: lost=${v.lost} duplicates=${v.duplicates} sent=${v.sent} failed=${v.failed} ` +
        `outcome_unknown=${v.outcomeUnknown} requests=${[...v.requests.values()].reduce((a, b) => a + b, 0)} ` +
        `max_tries=${most} all_final_s=${seconds(Date.now() - started)}`,
    );
    expectNoneLost(v, COUNT);
    expect(most, 'requests for one notification').to.be.at.most(ATTEMPTS);
    expect(attemptRows, 'attempt rows of one notification').to.be.at.most(ATTEMPTS);
    expect(v.sent, 'notifications sent').to.be.above(COUNT / 2);
  });
});
