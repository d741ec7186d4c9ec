// The fault suite, dispatch side: a real `reminders` process mails due reminders through the fake SendGrid while the
// suite kills it, restarts or empties its Redis, or makes the provider fail. Everything runs on a PostgreSQL and a
// redis-server of the suite's own (never the machine's), one database and Redis namespace per test, with short
// locks, ticks, timeouts and backoff so each test ends in seconds. Each prints its figures on one `[fault]` line.
import { expect } from 'chai';
import {
  startFakeSendgrid,
  startPrivateServices,
  waitFor,
  type FakeMode,
  type FakeSendgrid,
  type PrivateServices,
  type Spawned,
} from '@nudge/testing';
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
  let spawned: Spawned[] = [];
  let run = 0;

  before(async function () {
    this.timeout(120_000);
    services = await startPrivateServices();
  });

  beforeEach(() => {
    spawned = [];
  });

  afterEach(async function () {
    this.timeout(30_000);
    await stopAll(spawned);
    await sendgrid?.close();
  });

  after(async function () {
    this.timeout(30_000);
    await services?.close();
  });

  /**
   * A database with `count` due notifications-to-be and a worker on it: its first scan tick (every 2 s) claims them
   * and enqueues them; its reconciler re-enqueues a queued notification with no live job 3 s after its last enqueue.
   */
  async function dispatchRun(
    count: number,
    { env = {}, provider }: { env?: Record<string, string>; provider?: FakeMode } = {},
  ) {
    run += 1;
    const { db, url } = await services.database(`nudge_faults_${run}`);
    await seedDueReminder(db, count);
    sendgrid = await startFakeSendgrid();
    // Set before the worker's first tick, so no request escapes it.
    if (provider) sendgrid.setMode(provider);
    const workerEnv = {
      DATABASE_URL: url,
      REDIS_URL: services.redisUrl,
      REDIS_PREFIX: `nudgefaults${run}`,
      REMINDER_SCAN_INTERVAL_SECONDS: '2',
      RECLAIM_AFTER_SECONDS: '3',
      EMAIL_TIMEOUT_MS: '1000',
      DISPATCH_BACKOFF_BASE_MS: '100',
      ...env,
    };
    const start = () => startRemindersWorker(sendgrid, workerEnv, spawned);
    const first = await start();
    await waitFor(async () => Number((await db('notifications').count({ n: '*' }))[0]?.n) === count, {
      timeoutMs: 60_000,
      everyMs: 200,
      what: 'the first scan to make every notification',
    });
    return { db, start, first };
  }

  const expectNoneLost = (v: DispatchVerdict, count: number) => {
    expect(v.rows, 'notifications').to.have.length(count);
    expect(v.lost, 'notifications lost').to.equal(0);
    expect(v.duplicates, 'notifications the provider accepted twice').to.equal(0);
  };

  it('loses no notification and sends none twice when a worker dispatching 5,000 is killed and started again', async function () {
    this.timeout(210_000);
    const COUNT = 5000;
    const { db, start, first } = await dispatchRun(COUNT);
    await waitFor(() => sendgrid.requests.length >= 500, { timeoutMs: 90_000, everyMs: 50, what: '500 sends' });
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const atKill = sendgrid.requests.length;
    expect(atKill, 'the kill came after the last send').to.be.below(COUNT);

    await start();
    await waitFor(() => sendgrid.requests.length > atKill, { timeoutMs: 60_000, everyMs: 50, what: 'a send again' });
    const recovery = Date.now() - killedAt;
    await waitAllFinal(db, 150_000);
    const drained = Date.now() - killedAt;
    const v = await dispatchVerdict(db, sendgrid);
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
    const { db } = await dispatchRun(COUNT);
    await waitFor(() => sendgrid.requests.length >= 200, { timeoutMs: 60_000, everyMs: 50, what: '200 sends' });
    const stoppedAt = Date.now();
    await services.stopRedis();
    const atStop = sendgrid.requests.length;
    await services.startRedis();
    const down = Date.now() - stoppedAt;
    await waitAllFinal(db, 120_000);
    const v = await dispatchVerdict(db, sendgrid);
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
    const { db } = await dispatchRun(COUNT);
    await waitFor(() => sendgrid.requests.length >= 200, { timeoutMs: 60_000, everyMs: 50, what: '200 sends' });
    const flushedAt = Date.now();
    await services.redis('FLUSHALL');
    const atFlush = sendgrid.requests.length;
    const openAtFlush = await openNotifications(db);
    await waitAllFinal(db, 120_000);
    const v = await dispatchVerdict(db, sendgrid);
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
    const ATTEMPTS = 5;
    const { db } = await dispatchRun(COUNT, {
      env: { DISPATCH_MAX_ATTEMPTS: String(ATTEMPTS) },
      provider: {
        mix: [
          [503, 0.3],
          ['hang', 0.1],
        ],
      },
    });
    const started = Date.now();
    await waitAllFinal(db, 120_000);
    const v = await dispatchVerdict(db, sendgrid);
    const most = Math.max(...v.requests.values());
    const tries = await db.raw<{ rows: { n: number }[] }>(
      'SELECT coalesce(max(c), 0)::int AS n FROM (SELECT count(*) AS c FROM notification_attempts GROUP BY notification_id) a',
    );
    const attemptRows = tries.rows[0]?.n ?? 0;
    console.log(
      `[fault] flaky-provider: lost=${v.lost} duplicates=${v.duplicates} sent=${v.sent} failed=${v.failed} ` +
        `outcome_unknown=${v.outcomeUnknown} requests=${sendgrid.requests.length} max_tries=${most} ` +
        `all_final_s=${seconds(Date.now() - started)}`,
    );
    expectNoneLost(v, COUNT);
    expect(most, 'requests for one notification').to.be.at.most(ATTEMPTS);
    expect(attemptRows, 'attempt rows of one notification').to.be.at.most(ATTEMPTS);
    expect(v.sent, 'notifications sent').to.be.above(COUNT / 2);
  });
});
