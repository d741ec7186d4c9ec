// The per-day rollup of reminder notifications that GET /dashboard/summary reads instead of scanning a period's rows
// (migration 20261201007500). A periodic job (rollUpNotificationCounts, the reminders process's dashboard-rollup queue)
// counts whole UTC days before the current one and recounts the (workspace, day) pairs whose notifications changed
// since its last run; it never touches a row the dispatch workers write, so it serialises none of them.
//
// Exactness rests on one invariant, kept in notification_rollup_state: the counts of every day before covered_until
// are those of the job's snapshot, and every reminder notification written after that snapshot has
// updated_at >= watermark. Every write of a notification's status or last_error sets updated_at = now() (its
// transaction's start), and notifications are never deleted but with their workspace (whose counts go with it), so
// the dashboard takes from the live rows every day with a notification updated at or after the watermark, and from
// the rollup only the days nothing has touched since: the numbers are exact, with no lag.
import type { Db } from '../connection';

/** The days a run newly covers at most, so that catching up on a long history is spread over several runs. */
export const ROLLUP_DAYS_PER_RUN = 31;
/** (workspace, day) pairs recounted per statement, which the statement timeout bounds. */
const PAIRS_PER_STATEMENT = 500;
/**
 * A transaction's now() is taken a moment before pg_stat_activity shows its start: a margin for that moment. It only
 * makes a few more days count as changed.
 */
const WATERMARK_SLACK = "interval '5 seconds'";

const FAILED_STATUSES = "'failed', 'bounced', 'undeliverable'";

/** The failure reason a notification is counted under: its last error when it failed, bounced or was undeliverable. */
export const failureReasonSql = (n: string) =>
  `CASE WHEN ${n}.status IN (${FAILED_STATUSES}) THEN coalesce(${n}.last_error, 'unknown') END`;

/** The instant a UTC date (a SQL expression) begins. */
export const utcMidnightSql = (day: string) => `((${day})::timestamp AT TIME ZONE 'UTC')`;

/** The UTC date of an instant (a SQL expression). */
export const utcDateSql = (at: string) => `((${at}) AT TIME ZONE 'UTC')::date`;

export interface RollupRun {
  /** The first UTC day not counted in the rollup after this run (YYYY-MM-DD), null when nothing is. */
  covered_until: string | null;
  /** The (workspace, day) pairs recounted: changed since the last run, or newly covered. */
  recounted: number;
  /** Whether the rollup reaches the current day; false while a long history is being caught up on. */
  caught_up: boolean;
  /** Another run held the rollup: this one did nothing. */
  skipped: boolean;
}

interface Pair {
  workspace_id: string;
  day: string;
}

/**
 * One run of the rollup: recounts, as of one snapshot, the days changed since the last run and up to
 * ROLLUP_DAYS_PER_RUN new whole days, then moves the watermark. Takes the pool, not a transaction: it opens its own
 * (REPEATABLE READ, so that every statement reads the snapshot the watermark was taken before).
 */
export async function rollUpNotificationCounts(
  db: Db,
  { maxDays = ROLLUP_DAYS_PER_RUN }: { maxDays?: number } = {},
): Promise<RollupRun> {
  // Read before the snapshot is taken: a write the snapshot misses belongs to a transaction open now or begun later,
  // whose now() (its rows' updated_at) is no earlier than the oldest start open now. That needs every session that
  // writes notifications to be visible here: Nudge's processes share one database role.
  const {
    rows: [{ watermark }],
  } = await db.raw<{ rows: [{ watermark: Date }] }>(
    `SELECT min(xact_start) - ${WATERMARK_SLACK} AS watermark FROM pg_stat_activity WHERE datname = current_database()`,
  );
  try {
    return await db.transaction(
      async (trx) => {
        const state = await trx('notification_rollup_state')
          .forUpdate()
          .first<{ covered_until: string | null; watermark: Date | null } | undefined>('covered_until', 'watermark');
        if (!state) throw new Error('notification_rollup_state has no row: run the migrations');
        const {
          rows: [bounds],
        } = await trx.raw<{ rows: [{ today: string; start: string | null }] }>(
          `SELECT ${utcDateSql('now()')} AS today,
                  coalesce(:covered::date, (
                    SELECT min(f.day) FROM workspaces w CROSS JOIN LATERAL (
                      SELECT ${utcDateSql('min(n.created_at)')} AS day FROM notifications n
                       WHERE n.workspace_id = w.id AND n.kind = 'reminder') f)) AS start`,
          { covered: state.covered_until },
        );
        const start = bounds.start ?? bounds.today;
        const until = addDays(start, maxDays) < bounds.today ? addDays(start, maxDays) : bounds.today;
        const coveredUntil = until > start ? until : start;

        // Changed since the last run on a day already covered, or on a day this run covers for the first time.
        const { rows: pairs } = await trx.raw<{ rows: Pair[] }>(
          `SELECT w.id AS workspace_id, d.day FROM workspaces w CROSS JOIN LATERAL (
             SELECT ${utcDateSql('n.created_at')} AS day FROM notifications n
              WHERE n.workspace_id = w.id AND n.kind = 'reminder' AND n.updated_at >= :since
                AND n.created_at < ${utcMidnightSql(':covered::date')}
             UNION
             SELECT ${utcDateSql('n.created_at')} FROM notifications n
              WHERE n.workspace_id = w.id AND n.kind = 'reminder'
                AND n.created_at >= ${utcMidnightSql(':start::date')} AND n.created_at < ${utcMidnightSql(':until::date')}
           ) d`,
          {
            since: state.watermark ?? 'infinity',
            covered: state.covered_until ?? '-infinity',
            start,
            until: coveredUntil,
          },
        );

        for (let i = 0; i < pairs.length; i += PAIRS_PER_STATEMENT) {
          const chunk = JSON.stringify(pairs.slice(i, i + PAIRS_PER_STATEMENT));
          const v = 'jsonb_to_recordset(?::jsonb) AS v(workspace_id uuid, day date)';
          await trx.raw(
            `DELETE FROM notification_daily_counts c USING ${v} WHERE c.workspace_id = v.workspace_id AND c.day = v.day`,
            [chunk],
          );
          await trx.raw(
            `INSERT INTO notification_daily_counts (workspace_id, day, channel, status, failure_reason, count)
             SELECT v.workspace_id, v.day, n.channel, n.status, ${failureReasonSql('n')}, count(*)::int
               FROM ${v}
               JOIN notifications n ON n.workspace_id = v.workspace_id AND n.kind = 'reminder'
                AND n.created_at >= ${utcMidnightSql('v.day')} AND n.created_at < ${utcMidnightSql('v.day + 1')}
              GROUP BY 1, 2, 3, 4, 5`,
            [chunk],
          );
        }
        await trx('notification_rollup_state').update({
          covered_until: coveredUntil,
          watermark,
          updated_at: trx.fn.now(),
        });
        return {
          covered_until: coveredUntil,
          recounted: pairs.length,
          caught_up: coveredUntil >= bounds.today,
          skipped: false,
        };
      },
      { isolationLevel: 'repeatable read' },
    );
  } catch (err) {
    // Another run updated the state after this one's snapshot: it has done the work.
    if ((err as { code?: string }).code === '40001')
      return { covered_until: null, recounted: 0, caught_up: false, skipped: true };
    throw err;
  }
}

/** A YYYY-MM-DD date `n` days later. */
function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
