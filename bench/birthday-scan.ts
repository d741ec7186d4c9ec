// How the scheduler's "who is due today" query scales: the same number of birthdays due, among 10× more rows.
// Prints one JSON line: the median time of the real query (the birth_md index) at two table sizes, and of the
// same query with index scans disabled (a sequential scan: the ceiling it avoids), measured in the same run.
// Usage: npx tsx bench/birthday-scan.ts [--small 20000] [--large 200000] [--due 50] [--runs 25]
import { findBirthdayCandidates, type Db } from '@nudge/db';
import { candidateBirthMds } from '@nudge/domain';
import { closeDb } from '@nudge/db';
import { createPrivateDatabase } from '@nudge/testing';

const arg = (name: string, def: number, max: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return Math.min(max, i >= 0 ? Number(process.argv[i + 1]) : def);
};
const SMALL = arg('small', 20_000, 1_000_000);
const LARGE = arg('large', 200_000, 2_000_000);
const DUE = arg('due', 50, 10_000);
const RUNS = arg('runs', 25, 200);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function fill(db: Db, total: number, dueMds: number[]): Promise<void> {
  await db.raw('TRUNCATE birthdays, workspaces CASCADE');
  // 1 workspace per 100 birthdays, every one able to post.
  await db.raw(
    `INSERT INTO workspaces (name, slack_webhook) SELECT 'bench-' || g, 'v1:x' FROM generate_series(1, ?) g`,
    [Math.max(1, Math.ceil(total / 100))],
  );
  // Birthdays spread over the year, avoiding every month-day that can be "today" anywhere right now...
  await db.raw(
    `WITH ws AS (SELECT array_agg(id ORDER BY id) AS a FROM workspaces)
     INSERT INTO birthdays (workspace_id, name, date_of_birth)
     SELECT ws.a[1 + g % array_length(ws.a, 1)], 'p' || g, d
     FROM ws, generate_series(1, ?) g, LATERAL (SELECT date '1980-01-01' + ((g * 37) % 365) AS d) dd
     WHERE (extract(month from d) * 100 + extract(day from d))::int <> ALL(?::int[])`,
    [total, dueMds],
  );
  // ...then exactly DUE birthdays on one of today's month-days.
  const md = dueMds[0] ?? 101;
  await db.raw(
    `WITH ws AS (SELECT array_agg(id ORDER BY id) AS a FROM workspaces)
     INSERT INTO birthdays (workspace_id, name, date_of_birth)
     SELECT ws.a[1 + g % array_length(ws.a, 1)], 'due' || g, make_date(1992, ?, ?)
     FROM ws, generate_series(1, ?) g`,
    [Math.floor(md / 100), md % 100, DUE],
  );
  await db.raw('ANALYZE birthdays; ANALYZE workspaces');
}

async function time(db: Db, mds: number[], seqScan: boolean): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t = process.hrtime.bigint();
    await db.transaction(async (trx) => {
      if (seqScan) await trx.raw('SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off');
      await findBirthdayCandidates(trx, mds);
    });
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

const priv = await createPrivateDatabase('nudge_bench');
try {
  const mds = candidateBirthMds(new Date());
  const out: Record<string, number> = {};
  for (const [label, size] of [
    ['small', SMALL],
    ['large', LARGE],
  ] as const) {
    await fill(priv.db, size, mds);
    out[`${label}_rows`] = Number((await priv.db('birthdays').count<{ count: number }[]>('* as count'))[0]?.count ?? 0);
    out[`${label}_index_ms`] = await time(priv.db, mds, false);
    out[`${label}_seqscan_ms`] = await time(priv.db, mds, true);
  }
  const r = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  console.log(
    JSON.stringify({
      bench: 'birthday-scan',
      due: DUE,
      runs: RUNS,
      ...Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v * 100) / 100])),
      // ≈ 1 means the query's cost does not grow with the table; the seq-scan ratio shows what it would be.
      index_large_over_small: r(out.large_index_ms ?? 0, out.small_index_ms ?? 1),
      seqscan_large_over_small: r(out.large_seqscan_ms ?? 0, out.small_seqscan_ms ?? 1),
      large_index_over_seqscan: r(out.large_index_ms ?? 0, out.large_seqscan_ms ?? 1),
    }),
  );
} finally {
  await priv.drop();
  await closeDb();
}
