// The dashboard's numbers for one workspace: a handful of aggregate statements, run concurrently, each answered from
// the covering indexes of migrations 20261201007400 and 20261201007500 and, for the notifications, the per-day
// rollup (bench/dashboard.ts measures it on 100,000 notifications).
// Clients and reminders are counted as they are now; notifications and payments over a period [from, to) of
// created_at.
import type { Conn } from '../connection';
import { NOTIFICATION_STATUSES, type NotificationStatus } from './notifications.repository';
import type { ReminderStatus } from './reminders.repository';
import { failureReasonSql, utcDateSql, utcMidnightSql } from './notification-rollup.repository';
import { waitingSinceSql } from './payments-reconcile.repository';

/** The channels a reminder notification goes out on. */
export const MESSAGE_CHANNELS = ['email', 'sms', 'whatsapp'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];
export const REMINDER_STATUSES = [
  'active',
  'paused',
  'completed',
  'cancelled',
] as const satisfies readonly ReminderStatus[];

/** The channels whose providers report delivery: only there is a delivery rate meaningful. */
const DELIVERY_REPORTING: readonly MessageChannel[] = ['email', 'sms', 'whatsapp'];
/** The statuses a delivery rate counts: every notification that left, or finally failed to. */
const DELIVERY_OUTCOMES: readonly NotificationStatus[] = ['sent', 'delivered', 'failed', 'bounced', 'undeliverable'];
export const TOP_FAILURE_REASONS = 5;

/** A count and its sums per currency (upper-case ISO 4217 keys, minor units). */
export interface MoneyTally {
  count: number;
  amounts: Record<string, number>;
}

export interface DashboardSummary {
  clients: { total: number; active: number };
  reminders: { by_status: Record<ReminderStatus, number>; due_next_7_days: number };
  notifications: {
    by_status: Record<NotificationStatus, number>;
    by_channel: Record<MessageChannel, number>;
    delivery_rate: number | null;
    top_failure_reasons: { reason: string; count: number }[];
  };
  payments: { requested: MoneyTally; paid: MoneyTally; outstanding: MoneyTally; refunded: MoneyTally };
  median_seconds_to_payment: number | null;
}

export interface DashboardPeriod {
  from: Date;
  to: Date;
  /** The instant "due in the next 7 days" counts from. */
  now: Date;
}

const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** Which payments each tally counts (of those created in the period), and which amount it sums. */
const TALLIES: Record<keyof DashboardSummary['payments'], { when: string; sum: string }> = {
  // Every link sent, whatever became of it.
  requested: { when: 'true', sum: 'amount' },
  // The money arrived (later refunds included); `processing` is not paid.
  paid: { when: 'paid_at IS NOT NULL', sum: 'amount' },
  // Still payable or on its way.
  outstanding: { when: "status IN ('open', 'processing')", sum: 'amount' },
  // Refunded in part or in full: the refunded money.
  refunded: { when: 'refunded_amount > 0', sum: 'refunded_amount' },
};

async function clientsAndReminders(db: Conn, workspaceId: string, p: DashboardPeriod) {
  const { rows } = await db.raw<{
    rows: { clients: number; active: number; by_status: Record<string, number>; due: number }[];
  }>(
    `SELECT
       (SELECT count(*) FROM clients WHERE workspace_id = :w)::int AS clients,
       (SELECT count(*) FROM clients WHERE workspace_id = :w AND is_active)::int AS active,
       (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb)
          FROM (SELECT status, count(*)::int AS n FROM reminders WHERE workspace_id = :w GROUP BY status) s) AS by_status,
       (SELECT count(*) FROM reminders
         WHERE workspace_id = :w AND status = 'active'
           AND next_run_at >= :now AND next_run_at < :now::timestamptz + interval '7 days')::int AS due`,
    { w: workspaceId, now: p.now },
  );
  return rows[0]!;
}

/**
 * The period's reminder notifications by status and channel, the failed ones also by reason: the whole UTC days the
 * rollup covers and nothing has changed on since its watermark come from notification_daily_counts; the rest from
 * the live rows through the covering index, range by range: the part of the first day before midnight, the days from
 * the rollup's end (today) to `to`, and each day changed since the watermark. Exact, with no lag (see
 * notification-rollup.repository.ts). The rollup's state is read first, in a statement of its own, so that the
 * planner sees the ranges (misjudged, they cost the statement a JIT compilation); the counts read after it may come
 * from a later run, whose every change since is still at or after this older watermark.
 */
async function notificationCounts(db: Conn, workspaceId: string, p: DashboardPeriod) {
  const {
    rows: [b],
  } = await db.raw<{ rows: [{ first_day: string; until: string; since: Date | null }] }>(
    `SELECT d.first_day, greatest(d.first_day, least(d.last_day, coalesce(s.covered_until, '-infinity'))) AS until, s.watermark AS since
       FROM (SELECT ${utcDateSql(":from::timestamptz + interval '1 day' - interval '1 microsecond'")} AS first_day,
                    ${utcDateSql(':to::timestamptz')} AS last_day) d
       LEFT JOIN notification_rollup_state s ON true`,
    { from: p.from, to: p.to },
  );
  const { rows } = await db.raw<{
    rows: { status: NotificationStatus; channel: string; reason: string | null; n: number }[];
  }>(
    `WITH changed AS (
       SELECT DISTINCT ${utcDateSql('n.created_at')} AS day FROM notifications n
        WHERE n.workspace_id = :w AND n.kind = 'reminder' AND n.updated_at >= :since
          AND n.created_at >= ${utcMidnightSql(':firstDay::date')} AND n.created_at < ${utcMidnightSql(':until::date')}
     ),
     live AS (
       SELECT :from::timestamptz AS lo, least(${utcMidnightSql(':firstDay::date')}, :to::timestamptz) AS hi
       UNION ALL SELECT greatest(${utcMidnightSql(':until::date')}, :from::timestamptz), :to::timestamptz
       UNION ALL SELECT ${utcMidnightSql('day')}, ${utcMidnightSql('day + 1')} FROM changed
     ),
     counted AS (
       SELECT c.status, c.channel, c.failure_reason AS reason, c.count AS n FROM notification_daily_counts c
        WHERE c.workspace_id = :w AND c.day >= :firstDay::date AND c.day < :until::date
          AND c.day NOT IN (SELECT day FROM changed)
       UNION ALL
       SELECT n.status, n.channel, n.reason, n.n FROM live r CROSS JOIN LATERAL (
         SELECT n.status, n.channel, ${failureReasonSql('n')} AS reason, count(*) AS n FROM notifications n
          WHERE n.workspace_id = :w AND n.kind = 'reminder' AND n.created_at >= r.lo AND n.created_at < r.hi
          GROUP BY 1, 2, 3) n
     )
     SELECT status, channel, reason, sum(n)::int AS n FROM counted GROUP BY 1, 2, 3`,
    {
      w: workspaceId,
      from: p.from,
      to: p.to,
      firstDay: b.first_day,
      // Before the rollup's first run nothing is covered (until = firstDay) and no day counts as changed.
      until: b.until,
      since: b.since ?? 'infinity',
    },
  );
  return rows;
}

/** The most frequent reasons first, then by name; ties cut at TOP_FAILURE_REASONS. */
function topReasons(rows: { reason: string | null; n: number }[]): { reason: string; count: number }[] {
  const byReason = new Map<string, number>();
  for (const r of rows) if (r.reason !== null) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + r.n);
  return [...byReason]
    .map(([reason, count]) => ({ reason, count }))
    .sort((x, y) => y.count - x.count || (x.reason < y.reason ? -1 : x.reason > y.reason ? 1 : 0))
    .slice(0, TOP_FAILURE_REASONS);
}

async function paymentTallies(db: Conn, workspaceId: string, p: DashboardPeriod) {
  const columns = Object.entries(TALLIES).flatMap(([name, t]) => [
    `count(*) FILTER (WHERE ${t.when})::int AS ${name}_count`,
    `coalesce(sum(${t.sum}) FILTER (WHERE ${t.when}), 0)::bigint AS ${name}_sum`,
  ]);
  const { rows } = await db.raw<{ rows: (Record<string, number> & { currency: string })[] }>(
    `SELECT currency, ${columns.join(', ')} FROM payments
      WHERE workspace_id = :w AND created_at >= :from AND created_at < :to
      GROUP BY currency`,
    { w: workspaceId, from: p.from, to: p.to },
  );
  const out = {} as DashboardSummary['payments'];
  for (const name of Object.keys(TALLIES) as (keyof DashboardSummary['payments'])[]) {
    const tally: MoneyTally = { count: 0, amounts: {} };
    for (const r of rows) {
      const count = r[`${name}_count`] ?? 0;
      tally.count += count;
      if (count > 0) tally.amounts[r.currency.toUpperCase()] = Number(r[`${name}_sum`]);
    }
    out[name] = tally;
  }
  return out;
}

/**
 * The median, in seconds, from the first reminder a client got for a reminder (sent, or queued when it never left)
 * to the payment, over the period's paid payments; a payment with no reminder left counts from its own creation.
 * The start is stored on the payment when it is paid (waiting_since): read from the covering index, with no probe
 * per payment. A paid payment written without it (by hand) is looked up as it would have been stored.
 */
async function medianSecondsToPayment(db: Conn, workspaceId: string, p: DashboardPeriod) {
  const { rows } = await db.raw<{ rows: { median: number | null }[] }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (
              ORDER BY greatest(0, extract(epoch FROM p.paid_at - coalesce(p.waiting_since, ${waitingSinceSql('p', 'p.paid_at')})))
            )::float8 AS median
       FROM payments p
      WHERE p.workspace_id = :w AND p.created_at >= :from AND p.created_at < :to AND p.paid_at IS NOT NULL`,
    { w: workspaceId, from: p.from, to: p.to },
  );
  const median = rows[0]?.median;
  return median === null || median === undefined ? null : Math.round(median);
}

export async function workspaceDashboard(
  db: Conn,
  workspaceId: string,
  period: DashboardPeriod,
): Promise<DashboardSummary> {
  const statements = [clientsAndReminders, notificationCounts, paymentTallies, medianSecondsToPayment] as const;
  const run = <T>(statement: (db: Conn, workspaceId: string, p: DashboardPeriod) => Promise<T>) =>
    statement(db, workspaceId, period);
  // Concurrently on the pool; one after another on a transaction, whose one connection takes a query at a time.
  const [cr, counts, payments, median] = db.isTransaction
    ? [await run(statements[0]), await run(statements[1]), await run(statements[2]), await run(statements[3])]
    : await Promise.all([run(statements[0]), run(statements[1]), run(statements[2]), run(statements[3])]);
  const byStatus = zeros(NOTIFICATION_STATUSES);
  const byChannel = zeros(MESSAGE_CHANNELS);
  let delivered = 0;
  let outcomes = 0;
  for (const r of counts) {
    byStatus[r.status] += r.n;
    if (r.channel in byChannel) byChannel[r.channel as MessageChannel] += r.n;
    if (!DELIVERY_REPORTING.includes(r.channel as MessageChannel) || !DELIVERY_OUTCOMES.includes(r.status)) continue;
    outcomes += r.n;
    if (r.status === 'delivered') delivered += r.n;
  }
  const reminderStatuses = zeros(REMINDER_STATUSES);
  for (const [s, n] of Object.entries(cr.by_status))
    if (s in reminderStatuses) reminderStatuses[s as ReminderStatus] = n;
  return {
    clients: { total: cr.clients, active: cr.active },
    reminders: { by_status: reminderStatuses, due_next_7_days: cr.due },
    notifications: {
      by_status: byStatus,
      by_channel: byChannel,
      delivery_rate: outcomes === 0 ? null : delivered / outcomes,
      top_failure_reasons: topReasons(counts),
    },
    payments,
    median_seconds_to_payment: median,
  };
}
