// The dashboard's notification counts from the per-day rollup (rollUpNotificationCounts) and its median from the
// payments' stored waiting_since: both answer exactly what the live rows answer, whatever the period's boundaries,
// after status changes on old days, and for a write whose transaction straddles a run.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  applyDeliveryOutcome,
  failNotification,
  lockPaymentById,
  paymentStateOf,
  requeueNotificationForResend,
  rollUpNotificationCounts,
  workspaceDashboard,
  writePaymentState,
  type Db,
  type DashboardPeriod,
} from '@nudge/db';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';

const DAY = 86400_000;
const HOUR = 3600_000;
const CHANNELS = ['email', 'sms', 'whatsapp'];
const STATUSES = ['queued', 'sending', 'sent', 'delivered', 'failed', 'bounced', 'undeliverable', 'cancelled'];
const REASONS = [null, 'invalid_number', 'hard_bounce', 'timeout'];

describe('the dashboard rollup', () => {
  // A database of its own: the rollup covers every workspace, and its state is one row.
  let pdb: PrivateDatabase;
  let db: Db;
  let ws: string;
  let backfilled: Date | null;
  /** Midnight UTC today. */
  const today = Math.floor(Date.now() / DAY) * DAY;
  const now = () => new Date();
  const period = (from: number, to: number): DashboardPeriod => ({
    from: new Date(from),
    to: new Date(to),
    now: now(),
  });
  /** Periods that start and end mid-day, on midnight, within one day, and run up to now. */
  const periods = () => [
    period(today - 10 * DAY - 5 * HOUR, Date.now()),
    period(today - 8 * DAY, today - 2 * DAY),
    period(today - 5 * DAY + 3 * HOUR, today - 5 * DAY + 20 * HOUR),
    period(today - 30 * DAY, Date.now() + 1000),
    period(today - 9 * DAY + 1, today - 1),
  ];

  const insertWorkspace = async () =>
    (
      (await db('workspaces')
        .insert({ name: `dash-${randomUUID()}` })
        .returning('id')) as [{ id: string }]
    )[0].id;

  async function insertPaymentReminder(workspaceId: string) {
    const [{ id: client }] = (await db('clients')
      .insert({ workspace_id: workspaceId, name: 'Ada', email: 'ada@example.com', timezone: 'UTC' })
      .returning('id')) as [{ id: string }];
    const [{ id: reminder }] = (await db('reminders')
      .insert({
        workspace_id: workspaceId,
        title: 'Invoice',
        type: 'payment',
        amount: 1500,
        currency: 'USD',
        message_template: 'Pay',
        channels: ['email'],
        schedule: JSON.stringify({ kind: 'recurring' }),
        schedule_kind: 'recurring',
        rrule: 'FREQ=MONTHLY',
        timezone: 'UTC',
      })
      .returning('id')) as [{ id: string }];
    return { client, reminder };
  }

  /** A reminder notification of `reminder` for `client`, created and sent when given. */
  const insertReminderNotification = (
    workspaceId: string,
    r: { client: string; reminder: string },
    created: Date,
    sent: Date | null,
  ) =>
    db('notifications').insert({
      workspace_id: workspaceId,
      kind: 'reminder',
      channel: 'email',
      status: sent ? 'delivered' : 'queued',
      dedupe_key: `dash:${randomUUID()}`,
      reminder_id: r.reminder,
      client_id: r.client,
      created_at: created,
      sent_at: sent,
    });

  /** `count` reminder notifications of `workspaceId` spread over `days` days before now, every status and channel. */
  async function seed(workspaceId: string, count: number, days: number, { writtenNow = false } = {}) {
    const rows = Array.from({ length: count }, (_, i) => {
      const status = STATUSES[i % STATUSES.length]!;
      const failed = ['failed', 'bounced', 'undeliverable'].includes(status);
      // Spread evenly over the days (the golden ratio's multiples), whatever the status; some a second off a minute.
      const minutes = Math.floor(((i * 0.6180339887) % 1) * days * 24 * 60);
      const created = new Date(Date.now() - minutes * 60_000 - (i % 3) * 1000);
      return {
        workspace_id: workspaceId,
        kind: 'reminder',
        channel: CHANNELS[i % CHANNELS.length],
        status,
        dedupe_key: `dash:${randomUUID()}`,
        last_error: failed ? REASONS[i % REASONS.length] : null,
        sent_at: ['sent', 'delivered'].includes(status) ? created : null,
        created_at: created,
        // Written when they were created, as old rows were (before the rollup's first run), or just now.
        updated_at: writtenNow ? new Date() : created,
      };
    });
    // A birthday post is no reminder notification: counted nowhere.
    rows.push({ ...rows[0]!, kind: 'birthday', channel: 'slack', dedupe_key: `dash:${randomUUID()}` });
    await db('notifications').insert(rows);
  }

  /** The summary read from the live rows alone: the same function with the rollup's state cleared, rolled back. */
  async function live(p: DashboardPeriod) {
    const trx = await db.transaction();
    try {
      await trx('notification_rollup_state').update({ covered_until: null, watermark: null });
      await trx('payments').update({ waiting_since: null });
      return await workspaceDashboard(trx, ws, p);
    } finally {
      await trx.rollback();
    }
  }

  async function expectLiveAnswers() {
    for (const p of periods()) {
      const [got, want] = [await workspaceDashboard(db, ws, p), await live(p)];
      const what = `${p.from.toISOString()} – ${p.to.toISOString()}`;
      expect(got, what).to.deep.equal(want);
      // And the live answer is every reminder notification of the period, counted here another way.
      const [{ n }] = (await db('notifications')
        .where({ workspace_id: ws, kind: 'reminder' })
        .where('created_at', '>=', p.from)
        .where('created_at', '<', p.to)
        .count({ n: '*' })) as [{ n: number }];
      expect(
        Object.values(want.notifications.by_status).reduce((a, b) => a + b, 0),
        what,
      ).to.equal(Number(n));
    }
  }

  async function rollUp() {
    for (;;) {
      const run = await rollUpNotificationCounts(db);
      expect(run.skipped).to.equal(false);
      if (run.caught_up) return run;
    }
  }

  /** An old notification of `ws` in `status`, created `daysAgo` days ago. */
  async function oldNotification(status: string, daysAgo: number) {
    const row = await db('notifications')
      .where({ workspace_id: ws, kind: 'reminder', status })
      .where('created_at', '>=', new Date(today - daysAgo * DAY))
      .where('created_at', '<', new Date(today - (daysAgo - 1) * DAY))
      .first<{ id: string } | undefined>('id');
    if (!row) throw new Error(`no ${status} notification ${daysAgo} days ago`);
    return row.id;
  }

  before(async function () {
    this.timeout(60_000);
    pdb = await createPrivateDatabase('nudge_dash', { migrate: false });
    db = pdb.db;
    await db.migrate.latest();
    // A payment paid before migration 20261201007500: its backfill stores when the wait began.
    await db.migrate.down();
    const earlier = await insertWorkspace();
    const r = await insertPaymentReminder(earlier);
    await insertReminderNotification(earlier, r, new Date(today - 3 * DAY), new Date(today - 2 * DAY));
    await db('payments').insert({
      workspace_id: earlier,
      reminder_id: r.reminder,
      client_id: r.client,
      occurrence_at: new Date(),
      amount: 1000,
      currency: 'USD',
      status: 'paid',
      paid_at: new Date(today - DAY),
    });
    await db.migrate.up();
    backfilled = (
      await db('payments').where({ workspace_id: earlier }).first<{ waiting_since: Date | null }>('waiting_since')
    ).waiting_since;
    ws = await insertWorkspace();
    await seed(ws, 1500, 12);
    await seed(await insertWorkspace(), 300, 12);
  });
  after(() => pdb.drop());

  it('answers as the live rows do before the rollup has ever run', async () => {
    const state = (await db('notification_rollup_state').first()) as { covered_until: string | null };
    expect(state.covered_until).to.equal(null);
    const p = periods()[0]!;
    const s = await workspaceDashboard(db, ws, p);
    expect(Object.values(s.notifications.by_status).reduce((a, b) => a + b, 0)).to.be.greaterThan(1000);
    await expectLiveAnswers();
  });

  it('counts the whole days before today, then reads them from the rollup with the same answers', async function () {
    this.timeout(30_000);
    const run = await rollUp();
    expect(run.covered_until).to.equal(new Date(today).toISOString().slice(0, 10));
    const { rows } = await db.raw<{ rows: [{ rolled: number; rows: number }] }>(
      `SELECT (SELECT sum(count) FROM notification_daily_counts WHERE workspace_id = :ws)::int AS rolled,
              (SELECT count(*) FROM notifications WHERE workspace_id = :ws AND kind = 'reminder'
                  AND created_at < :today)::int AS rows`,
      { ws, today: new Date(today) },
    );
    expect(rows[0].rolled).to.equal(rows[0].rows);
    await expectLiveAnswers();
    // The whole days do come from the rollup: a count changed there (and rolled back) shows in the answer.
    const trx = await db.transaction();
    try {
      const changed = await trx('notification_daily_counts')
        .where({ workspace_id: ws, day: new Date(today - 4 * DAY).toISOString().slice(0, 10), status: 'cancelled' })
        .increment('count', 1000);
      expect(changed).to.be.greaterThan(0);
      const s = await workspaceDashboard(trx, ws, periods()[0]!);
      expect(s.notifications.by_status.cancelled).to.equal(
        (await workspaceDashboard(db, ws, periods()[0]!)).notifications.by_status.cancelled + 1000 * changed,
      );
    } finally {
      await trx.rollback();
    }
  });

  it('answers as the live rows do after status changes on old days, before the next run and after it', async function () {
    this.timeout(30_000);
    await applyDeliveryOutcome(db, await oldNotification('sent', 4), 'delivered');
    await applyDeliveryOutcome(db, await oldNotification('sending', 6), 'bounced', 'hard_bounce');
    await failNotification(db, ws, await oldNotification('queued', 7), 'no_channel');
    await requeueNotificationForResend(db, ws, await oldNotification('failed', 3));
    await expectLiveAnswers();
    const run = await rollUp();
    expect(run.recounted).to.be.at.least(4);
    await expectLiveAnswers();
  });

  it('counts a change whose transaction began before a run and committed after it', async function () {
    this.timeout(30_000);
    const id = await oldNotification('sent', 5);
    const trx = await db.transaction();
    try {
      // updated_at is the transaction's start: older than the run's own start by more than the watermark's slack.
      await applyDeliveryOutcome(trx, id, 'undeliverable', 'carrier_rejected');
      await new Promise((resolve) => setTimeout(resolve, 6000));
      await rollUp();
      await trx.commit();
    } catch (err) {
      await trx.rollback();
      throw err;
    }
    const p = periods()[0]!;
    const reasons = (await workspaceDashboard(db, ws, p)).notifications.top_failure_reasons.map((r) => r.reason);
    expect(reasons).to.include('carrier_rejected');
    await expectLiveAnswers();
    expect((await rollUp()).recounted).to.be.at.least(1);
    await expectLiveAnswers();
  });

  it('goes with its workspace', async () => {
    const gone = await insertWorkspace();
    await seed(gone, 50, 3, { writtenNow: true });
    await rollUp();
    expect(await db('notification_daily_counts').where({ workspace_id: gone })).to.not.have.length(0);
    await db('workspaces').where({ id: gone }).delete();
    expect(await db('notification_daily_counts').where({ workspace_id: gone })).to.have.length(0);
  });

  describe('the median time to payment', () => {
    const at = (ms: number) => new Date(ms);
    let reminder: string;
    let client: string;

    before(async () => {
      ({ client, reminder } = await insertPaymentReminder(ws));
      // Queued 6 days ago, sent 5 days ago: the wait counts from the send.
      await insertReminderNotification(ws, { client, reminder }, at(today - 6 * DAY), at(today - 5 * DAY));
    });

    it('is backfilled by the migration for the payments paid before it', () => {
      expect(backfilled).to.deep.equal(at(today - 2 * DAY));
    });

    async function pay(fields: Record<string, unknown>, paidAt: Date) {
      const [{ id }] = (await db('payments')
        .insert({ workspace_id: ws, occurrence_at: new Date(), amount: 1000, currency: 'USD', ...fields })
        .returning('id')) as [{ id: string }];
      await db.transaction(async (trx) => {
        const before = (await lockPaymentById(trx, id))!;
        await writePaymentState(trx, before, { ...paymentStateOf(before), status: 'paid', paidAt });
      });
      return (await db('payments').where({ id }).first<{ waiting_since: Date | null }>('waiting_since')).waiting_since;
    }

    it('stores when the wait began as the payment is paid, and reads it with the same answer as the lookup', async () => {
      // 1 hour after the first reminder's send; 3 hours after its own creation (no reminder); 2 days after the send.
      expect(await pay({ reminder_id: reminder, client_id: client }, at(today - 5 * DAY + HOUR))).to.deep.equal(
        at(today - 5 * DAY),
      );
      expect(await pay({ created_at: at(today - 2 * DAY) }, at(today - 2 * DAY + 3 * HOUR))).to.deep.equal(
        at(today - 2 * DAY),
      );
      expect(
        await pay({ reminder_id: reminder, client_id: client, created_at: at(today - 4 * DAY) }, at(today - 3 * DAY)),
      ).to.deep.equal(at(today - 5 * DAY));
      const p = period(today - 10 * DAY, Date.now());
      expect((await workspaceDashboard(db, ws, p)).median_seconds_to_payment).to.equal(3 * 3600);
      await expectLiveAnswers();
      // Refunded later: paid_at stays, and so does the start of the wait.
      const [{ id }] = (await db('payments').where({ workspace_id: ws, created_at: at(today - 2 * DAY) })) as [
        { id: string },
      ];
      await db.transaction(async (trx) => {
        const before = (await lockPaymentById(trx, id))!;
        await writePaymentState(trx, before, { ...paymentStateOf(before), status: 'refunded', refundedAmount: 1000 });
      });
      expect(await db('payments').where({ id }).first('waiting_since')).to.deep.equal({
        waiting_since: at(today - 2 * DAY),
      });
    });
  });
});
