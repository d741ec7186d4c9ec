// Birthdays at scale, in a private database of its own (created, seeded in SQL and dropped by the bench): W
// workspaces in 40 timezones, the same D of them due a post now (a birthday on their local day, post time passed),
// and the rest of the birthdays on days that cannot be today anywhere. At two table sizes (by default 10,000 and
// 1,000,000 birthdays, the "users"), it times:
//   - the scheduler's tick (`runBirthdayScan`, what the birthdays process runs on every interval): the first tick,
//     which claims the D days and enqueues D Slack posts, and the steady tick that follows (nothing new to claim:
//     candidates, taken days, stale claims), the median of --runs; both are database round trips almost entirely;
//   - its candidates query alone (`findBirthdayCandidates`, the birth_md index) and the same query with index scans
//     turned off (a sequential scan: the ceiling the index avoids).
// Then, at the large size, the real birthdays process (apps/worker/src/processes/birthdays.ts, spawned) posts the D
// enqueued days to the fake Slack (one hook a workspace): the time until every notification is final, and the
// process's peak RSS (VmHWM). Prints one JSON line.
//
// Usage: npx tsx bench/birthday-scan.ts [--small 10000] [--large 1000000] [--workspaces 10000] [--due 100] [--runs 25]
import crypto from 'node:crypto';
import winston from 'winston';
import { findBirthdayCandidates, setWorkspaceSlackWebhook, closeDb, type Db } from '@nudge/db';
import { candidateBirthMds, localDateAt } from '@nudge/domain';
import { Producers } from '@nudge/queue';
import { createPrivateDatabase, spawnTs, startFakeSlack, waitFor } from '@nudge/testing';
import { runBirthdayScan, slackJobsOn } from '../apps/worker/src/birthdays/birthday-scan.service';
import { peakRssOfPid, printResult, round } from './support';

const arg = (name: string, def: number, max: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return Math.min(max, i >= 0 ? Number(process.argv[i + 1]) : def);
};
const SMALL = arg('small', 10_000, 2_000_000);
const LARGE = arg('large', 1_000_000, 5_000_000);
const WORKSPACES = arg('workspaces', 10_000, 100_000);
const DUE = Math.min(arg('due', 100, 5_000), WORKSPACES);
const RUNS = arg('runs', 25, 200);
const TICK_TARGET_MS = 30;

const TIMEZONES = [
  'UTC', 'Europe/London', 'Europe/Paris', 'Europe/Berlin', 'Europe/Athens', 'Europe/Moscow', 'Europe/Istanbul',
  'Africa/Lagos', 'Africa/Cairo', 'Africa/Johannesburg', 'Africa/Nairobi', 'Asia/Dubai', 'Asia/Karachi',
  'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Shanghai', 'Asia/Singapore', 'Asia/Tokyo',
  'Asia/Seoul', 'Australia/Perth', 'Australia/Adelaide', 'Australia/Sydney', 'Pacific/Auckland', 'Pacific/Fiji',
  'Pacific/Honolulu', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/Anchorage', 'America/Los_Angeles',
  'America/Denver', 'America/Chicago', 'America/New_York', 'America/Halifax', 'America/St_Johns',
  'America/Sao_Paulo', 'America/Argentina/Buenos_Aires', 'Atlantic/Azores', 'Atlantic/Cape_Verde',
]; // prettier-ignore

// The spawned birthdays process and this bench share a queue namespace of their own; set before anything reads
// the configuration.
process.env.REDIS_PREFIX = `${process.env.REDIS_PREFIX ?? 'nudge'}-benchbday${crypto.randomBytes(3).toString('hex')}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const silent = winston.createLogger({ silent: true });

async function seedWorkspaces(db: Db, now: Date): Promise<string[]> {
  await db.raw(
    `INSERT INTO workspaces (name, timezone, slack_webhook, birthday_post_time)
     SELECT 'bench-' || g, (?::text[])[1 + g % ?], 'v1:x', '09:00' FROM generate_series(1, ?) g`,
    [TIMEZONES, TIMEZONES.length, WORKSPACES],
  );
  // D of them, spread over the timezones, post at midnight: always due once their local day has a birthday.
  const due = (
    await db.raw<{ rows: { id: string; timezone: string }[] }>(
      `UPDATE workspaces SET birthday_post_time = '00:00'
     WHERE id IN (SELECT id FROM workspaces ORDER BY name LIMIT ?) RETURNING id, timezone`,
      [DUE],
    )
  ).rows;
  // One birthday each on its workspace's local today.
  const mds = due.map((w) => localDateAt(now, w.timezone)!.slice(5));
  await db.raw(
    `INSERT INTO birthdays (workspace_id, name, date_of_birth)
     SELECT w, 'due-' || w, ('1992-' || md)::date FROM unnest(?::uuid[], ?::text[]) AS t(w, md)`,
    [due.map((w) => w.id), mds],
  );
  return due.map((w) => w.id);
}

/** Birthdays up to `total` rows, spread over every workspace and the year, on no month-day that can be today. */
async function growBirthdays(db: Db, total: number, avoid: number[]): Promise<number> {
  const have = Number((await db('birthdays').count<{ count: string }[]>('* as count'))[0]?.count ?? 0);
  // Slices of 100,000 rows: one statement for a million would outlast the statement timeout. Each row's workspace
  // comes from a join on its ordinal (indexing an array of 10,000 ids would copy the array for every row), and the
  // foreign-key triggers are off for the slice: every id is taken from workspaces, and a million key checks would
  // be most of the seeding time.
  for (let from = have + 1; from <= total; from += 100_000)
    await db.transaction(async (trx) => {
      await trx.raw('SET LOCAL session_replication_role = replica');
      await trx.raw(
        `WITH ws AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS n FROM workspaces),
         days AS (SELECT array_agg(d::date ORDER BY d) AS a
                  FROM generate_series(date '1980-01-01', date '1980-12-31', '1 day') d
                  WHERE (extract(month from d) * 100 + extract(day from d))::int <> ALL(?::int[]))
         INSERT INTO birthdays (workspace_id, name, date_of_birth)
         SELECT ws.id, 'p' || g, days.a[1 + (g * 37) % array_length(days.a, 1)]
         FROM days, generate_series(?::int, ?::int) g JOIN ws ON ws.n = g % ?`,
        [avoid, from, Math.min(total, from + 99_999), WORKSPACES],
      );
    });
  await db.raw('ANALYZE birthdays; ANALYZE workspaces');
  return Number((await db('birthdays').count<{ count: string }[]>('* as count'))[0]?.count ?? 0);
}

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * The time `db`'s statements spend between being sent and answered (summed, from knex's query events): a tick's
 * database time, apart from its JavaScript (local dates, post times) and the Redis enqueues.
 */
function databaseClock(db: Db): { ms: () => number } {
  const sent = new Map<string, bigint>();
  let ns = 0n;
  const done = (_: unknown, q: { __knexQueryUid: string }) => {
    const t = sent.get(q.__knexQueryUid);
    if (t !== undefined) ns += process.hrtime.bigint() - t;
    sent.delete(q.__knexQueryUid);
  };
  db.on('query', (q: { __knexQueryUid: string }) => sent.set(q.__knexQueryUid, process.hrtime.bigint()));
  db.on('query-response', done);
  db.on('query-error', done);
  return { ms: () => Number(ns) / 1e6 };
}

/** Wall and database time of one call, in ms. */
async function timeDb(clock: { ms: () => number }, fn: () => Promise<unknown>): Promise<{ wall: number; db: number }> {
  const before = clock.ms();
  const wall = await timeMs(fn);
  return { wall, db: clock.ms() - before };
}

async function candidatesMs(db: Db, mds: number[], seqScan: boolean): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i += 1)
    samples.push(
      await timeMs(() =>
        db.transaction(async (trx) => {
          if (seqScan) await trx.raw('SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off');
          await findBirthdayCandidates(trx, mds);
        }),
      ),
    );
  return median(samples);
}

const priv = await createPrivateDatabase('nudge_bench');
const producers = new Producers();
const slack = await startFakeSlack();
const clock = databaseClock(priv.db);
const deps = { db: priv.db, jobs: slackJobsOn(producers), reclaimAfterSeconds: 3600, logger: silent };
try {
  const now = new Date();
  const mds = candidateBirthMds(now);
  const dueIds = await seedWorkspaces(priv.db, now);
  const hooks = new Map(dueIds.map((id) => [id, slack.webhookUrl()]));
  for (const [id, hook] of hooks) await setWorkspaceSlackWebhook(priv.db, id, hook);

  const sizes: Record<string, Record<string, number>> = {};
  let seedSeconds = 0;
  for (const [label, size] of [
    ['small', SMALL],
    ['large', LARGE],
  ] as const) {
    const seeded = performance.now();
    const rows = await growBirthdays(priv.db, size, mds);
    seedSeconds += (performance.now() - seeded) / 1000;
    // Every size starts with no day claimed, so its first tick claims the same D days.
    await priv.db.raw('TRUNCATE birthday_posts, notifications CASCADE');
    await producers.queue('dispatch-slack').obliterate({ force: true });
    let claimed = 0;
    const claiming = await timeDb(clock, async () => {
      claimed = (await runBirthdayScan(deps, { now: new Date() })).claimed;
    });
    const steady: { wall: number; db: number }[] = [];
    for (let i = 0; i < RUNS; i += 1)
      steady.push(await timeDb(clock, () => runBirthdayScan(deps, { now: new Date() })));
    sizes[label] = {
      rows,
      claimed,
      claiming_tick_ms: round(claiming.wall),
      claiming_tick_db_ms: round(claiming.db),
      steady_tick_ms: round(median(steady.map((t) => t.wall))),
      steady_tick_db_ms: round(median(steady.map((t) => t.db))),
      candidates_index_ms: round(await candidatesMs(priv.db, mds, false)),
      candidates_seqscan_ms: round(await candidatesMs(priv.db, mds, true)),
    };
  }

  // The real birthdays process posts what the large size's tick enqueued.
  const started = performance.now();
  const worker = spawnTs('apps/worker/src/processes/birthdays.ts', {
    ...process.env,
    DATABASE_URL: priv.url,
    // info: its start-up line says when it consumes.
    LOG_LEVEL: 'info',
    // Its own scheduler would only repeat the steady tick; keep it out of the way.
    BIRTHDAY_SCAN_INTERVAL_SECONDS: '3600',
    SLACK_WEBHOOK_HOSTS: '127.0.0.1',
  });
  let postSeconds = NaN;
  let startSeconds = NaN;
  let workerRssMb = NaN;
  try {
    await waitFor(() => worker.output().includes('birthdays worker consuming'), {
      timeoutMs: 60_000,
      what: 'the birthdays process',
    });
    startSeconds = (performance.now() - started) / 1000;
    const final = async () =>
      Number(
        (
          await priv
            .db('notifications')
            .whereIn('status', ['sent', 'delivered', 'failed'])
            .count<{ count: string }[]>('* as count')
        )[0]?.count ?? 0,
      );
    await waitFor(async () => (await final()) >= (sizes.large?.claimed ?? 0) || undefined, {
      timeoutMs: 300_000,
      everyMs: 100,
      what: 'every due workspace posted',
    });
    postSeconds = (performance.now() - started) / 1000 - startSeconds;
    workerRssMb = peakRssOfPid(worker.child.pid as number);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  const sent = Number(
    (await priv.db('notifications').where({ status: 'sent' }).count<{ count: string }[]>('* as count'))[0]?.count,
  );
  const small = sizes.small!;
  const large = sizes.large!;
  const r = (a: number, b: number) => round(a / b);
  printResult({
    bench: 'birthday-scan',
    workspaces: WORKSPACES,
    timezones: TIMEZONES.length,
    due_workspaces: DUE,
    runs: RUNS,
    seed_seconds: round(seedSeconds, 1),
    small,
    large,
    // ≈ 1: the tick's cost follows the workspaces due, not the table; the seq-scan ratio shows what it would be.
    steady_tick_large_over_small: r(large.steady_tick_ms!, small.steady_tick_ms!),
    steady_tick_db_large_over_small: r(large.steady_tick_db_ms!, small.steady_tick_db_ms!),
    candidates_index_large_over_small: r(large.candidates_index_ms!, small.candidates_index_ms!),
    candidates_seqscan_large_over_small: r(large.candidates_seqscan_ms!, small.candidates_seqscan_ms!),
    post: {
      // From the birthdays process consuming until every due notification is final; its start-up (tsx) apart.
      process_start_seconds: round(startSeconds),
      seconds: round(postSeconds),
      sent,
      fake_slack_received: slack.requests.length,
      per_second: round(sent / postSeconds),
    },
    process_peak_rss_mb: { birthdays: workerRssMb },
    headlines: [
      {
        metric: `steady tick's database time at ${large.rows!.toLocaleString('en-US')} birthdays (vs ${small.rows!.toLocaleString('en-US')})`,
        value: large.steady_tick_db_ms!,
        unit: 'ms',
        ceiling: small.steady_tick_db_ms!,
        ratio: r(large.steady_tick_db_ms!, small.steady_tick_db_ms!),
        target: `< ${TICK_TARGET_MS} ms at both sizes`,
        meets_target: Math.max(large.steady_tick_db_ms!, small.steady_tick_db_ms!) < TICK_TARGET_MS,
      },
      {
        metric: `claiming tick, ${DUE} workspaces due, at ${large.rows!.toLocaleString('en-US')} (vs ${small.rows!.toLocaleString('en-US')})`,
        value: large.claiming_tick_ms!,
        unit: 'ms',
        ceiling: small.claiming_tick_ms!,
        ratio: r(large.claiming_tick_ms!, small.claiming_tick_ms!),
        target: null,
        meets_target: null,
      },
      {
        metric: `candidates query at ${large.rows!.toLocaleString('en-US')}, index vs sequential scan`,
        value: large.candidates_index_ms!,
        unit: 'ms',
        ceiling: large.candidates_seqscan_ms!,
        ratio: r(large.candidates_index_ms!, large.candidates_seqscan_ms!),
        target: null,
        meets_target: null,
      },
      {
        metric: `post ${DUE} due workspaces through the fake Slack (birthdays process)`,
        value: round(postSeconds),
        unit: 's',
        ceiling: null,
        ratio: null,
        target: `all ${large.claimed} sent`,
        meets_target: sent === large.claimed,
      },
    ],
  });
} finally {
  await producers
    .queue('dispatch-slack')
    .obliterate({ force: true })
    .catch(() => undefined);
  // The pacing keys the birthdays process left in the namespace.
  const keys = await producers.connection.keys(`${process.env.REDIS_PREFIX}:*`);
  if (keys.length) await producers.connection.del(...keys);
  await producers.close();
  await slack.close();
  await priv.drop();
  await closeDb();
}
process.exit(0);
