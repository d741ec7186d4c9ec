// GET /dashboard/summary on a workspace with 100,000 reminder notifications and their payments, through the real API
// (JWT, user row, validation, the four aggregate statements), in a private database of its own (created, migrated,
// rolled up, vacuumed and dropped by the bench), and the statements alone. The ceiling, measured in the same run through the same stack, is a trivial
// indexed read: GET /payments/?limit=1. Prints one JSON line: p50/p95 of each and their ratio; the target is a
// summary p95 under 100 ms.
// Usage: npx tsx bench/dashboard.ts [--notifications=100000] [--calls=200]
import crypto from 'node:crypto';
import winston from 'winston';
import { getConfig, type Config } from '@nudge/config';
import {
  closeDb,
  insertUser,
  rollUpNotificationCounts,
  waitingSinceSql,
  workspaceDashboard,
  type Conn,
} from '@nudge/db';
import { closePasswordPool, hashPassword } from '@nudge/crypto';
import { Producers, createRedis } from '@nudge/queue';
import { createPrivateDatabase } from '@nudge/testing';
import { createApp } from '../apps/api/src/index';
import { BENCH_PASSWORD, intOption, listen, percentile, printResult } from './support';

const NOTIFICATIONS = intOption('notifications', 100_000, 1_000_000);
const CALLS = intOption('calls', 200, 2_000);
const CLIENTS = 2_000;
const REMINDERS = 50;
/** One payment per 10 notifications: the payment reminders among them. */
const PAYMENTS = Math.ceil(NOTIFICATIONS / 10);
/** Another workspace of the same size, so that the target's numbers come from its own rows only. */
const NOISE = Math.ceil(NOTIFICATIONS / 5);

async function seed(db: Conn, ws: string, notifications: number, payments: number): Promise<void> {
  await db.raw(
    `INSERT INTO clients (workspace_id, name, email, timezone, is_active)
     SELECT ?, 'client ' || g, 'client' || g || '@example.com', 'UTC', g % 10 <> 0 FROM generate_series(1, ?) g`,
    [ws, CLIENTS],
  );
  await db.raw(
    `INSERT INTO reminders (workspace_id, title, type, message_template, channels, schedule, schedule_kind, rrule,
                            timezone, status, amount, currency, next_run_at)
     SELECT ?, 'reminder ' || g, 'payment', 'Pay {{payment_link}}', '{email,sms}', '{"kind":"recurring"}',
            'recurring', 'FREQ=MONTHLY', 'UTC', (ARRAY['active','active','paused','completed'])[1 + g % 4], 1000 + g,
            'USD', now() + (g % 20) * interval '1 day'
     FROM generate_series(1, ?) g`,
    [ws, REMINDERS],
  );
  // Spread over the last 40 days (so the default 30-day period holds about three quarters), every status and channel.
  await db.raw(
    `WITH c AS (SELECT array_agg(id ORDER BY id) AS a FROM clients WHERE workspace_id = :ws),
          r AS (SELECT array_agg(id ORDER BY id) AS a FROM reminders WHERE workspace_id = :ws)
     INSERT INTO notifications (workspace_id, kind, channel, status, dedupe_key, reminder_id, client_id, occurrence_at,
                                last_error, sent_at, created_at, updated_at)
     SELECT :ws, 'reminder', (ARRAY['email','email','sms','whatsapp'])[1 + g % 4],
            s.status, 'bench:' || :ws || ':' || g, r.a[1 + g % array_length(r.a, 1)],
            c.a[1 + (g / 7) % array_length(c.a, 1)], t.at,
            CASE WHEN s.status IN ('failed','bounced','undeliverable')
                 THEN (ARRAY['invalid_number','hard_bounce','timeout','rate_limited','opted_out','blocked'])[1 + g % 6] END,
            CASE WHEN s.status IN ('sent','delivered') THEN t.at + interval '5 seconds' END, t.at,
            t.at + interval '5 seconds'
     FROM c, r, generate_series(1, :n) g,
          LATERAL (SELECT now() - (g % 57600) * interval '1 minute' AS at) t,
          LATERAL (SELECT (ARRAY['delivered','delivered','delivered','delivered','sent','sent','failed','bounced',
                                 'undeliverable','queued','cancelled','sending'])[1 + g % 12] AS status) s`,
    { ws, n: notifications },
  );
  await db.raw(
    `WITH n AS (SELECT id, reminder_id, client_id, created_at, row_number() OVER (ORDER BY id) AS k
                FROM notifications WHERE workspace_id = :ws AND kind = 'reminder' LIMIT :p)
     INSERT INTO payments (workspace_id, reminder_id, client_id, notification_id, occurrence_at, amount, currency,
                           status, paid_at, refunded_amount, created_at)
     SELECT :ws, n.reminder_id, n.client_id, n.id, n.created_at + k * interval '1 microsecond', 500 + k % 5000,
            (ARRAY['USD','USD','EUR','GBP'])[1 + k % 4], s.status,
            CASE WHEN s.status IN ('paid','refunded') THEN n.created_at + (k % 72) * interval '1 hour' END,
            CASE WHEN s.status = 'refunded' THEN 500 + k % 5000 ELSE 0 END, n.created_at
     FROM n, LATERAL (SELECT (ARRAY['paid','paid','paid','open','open','processing','expired','refunded','failed',
                                    'cancelled'])[1 + k % 10] AS status) s`,
    { ws, p: payments },
  );
  // What the billing worker stores as it records a payment paid.
  await db.raw(
    `UPDATE payments p SET waiting_since = ${waitingSinceSql('p', 'p.paid_at')}
      WHERE p.workspace_id = ? AND p.paid_at IS NOT NULL`,
    [ws],
  );
}

const base = getConfig();
// Its own Redis namespace (the API's cache and rate limits), removed at the end.
const config: Config = { ...base, redisPrefix: `${base.redisPrefix}:bench${crypto.randomBytes(4).toString('hex')}` };
const priv = await createPrivateDatabase('nudge_bench_dashboard');
const redis = createRedis('client');
const producers = new Producers();
try {
  const db = priv.db;
  const [target, noise] = await db('workspaces')
    .insert([{ name: 'bench dashboard' }, { name: 'bench noise' }])
    .returning<{ id: string }[]>('id');
  const seedStart = Date.now();
  // Seeding is bulk work, not what is measured: no statement timeout for it.
  await db.transaction(async (trx) => {
    await trx.raw('SET LOCAL statement_timeout = 0');
    await seed(trx, target!.id, NOTIFICATIONS, PAYMENTS);
    await seed(trx, noise!.id, NOISE, Math.ceil(NOISE / 10));
  });
  const seedSeconds = (Date.now() - seedStart) / 1000;
  // As the reminders process's dashboard-rollup job would have by now: every whole day before today counted.
  const rollupStart = Date.now();
  while (!(await rollUpNotificationCounts(db)).caught_up);
  const rollupSeconds = (Date.now() - rollupStart) / 1000;
  // As autovacuum would have by now: the visibility map makes the covering indexes' scans index-only.
  await db.raw('VACUUM ANALYZE');

  const app = createApp({ config, logger: winston.createLogger({ silent: true }), db, redis, producers });
  const email = `bench-${crypto.randomBytes(5).toString('hex')}@example.com`;
  await insertUser(db, {
    email,
    password_hash: await hashPassword(BENCH_PASSWORD, 4),
    date_of_birth: '1990-01-01',
    workspace_id: target!.id,
    role: 'owner',
  });
  const server = await listen(app);
  try {
    const login = await fetch(`${server.url}/auth/jwt/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: email, password: BENCH_PASSWORD }),
    });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const headers = { Authorization: `Bearer ${token}` };

    const time = async (path: string): Promise<{ p50_ms: number; p95_ms: number; body: unknown }> => {
      let body: unknown;
      for (let i = 0; i < 10; i += 1) await (await fetch(`${server.url}${path}`, { headers })).arrayBuffer();
      const samples: number[] = [];
      for (let i = 0; i < CALLS; i += 1) {
        const t = process.hrtime.bigint();
        const res = await fetch(`${server.url}${path}`, { headers });
        body = await res.json();
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
        samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      samples.sort((a, b) => a - b);
      const r = (n: number) => Math.round(n * 100) / 100;
      return { p50_ms: r(percentile(samples, 50)), p95_ms: r(percentile(samples, 95)), body };
    };

    const ceiling = await time('/payments/?limit=1');
    const summary = await time('/dashboard/summary');
    // The statements alone (no HTTP, no authentication): what the indexes decide.
    const sqlSamples: number[] = [];
    for (let i = 0; i < Math.min(CALLS, 50); i += 1) {
      const now = new Date();
      const t = process.hrtime.bigint();
      await workspaceDashboard(db, target!.id, { from: new Date(now.getTime() - 30 * 86400_000), to: now, now });
      sqlSamples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    sqlSamples.sort((a, b) => a - b);
    const answer = summary.body as { notifications: { by_status: Record<string, number> } };
    const inPeriod = Object.values(answer.notifications.by_status).reduce((a, b) => a + b, 0);
    printResult({
      bench: 'dashboard',
      notifications: NOTIFICATIONS,
      payments: PAYMENTS,
      other_workspace_notifications: NOISE,
      notifications_in_default_period: inPeriod,
      calls: CALLS,
      seed_seconds: Math.round(seedSeconds * 10) / 10,
      rollup_seconds: Math.round(rollupSeconds * 10) / 10,
      summary: { p50_ms: summary.p50_ms, p95_ms: summary.p95_ms },
      statements_only: {
        p50_ms: Math.round(percentile(sqlSamples, 50) * 100) / 100,
        p95_ms: Math.round(percentile(sqlSamples, 95) * 100) / 100,
      },
      ceiling: { route: 'GET /payments/?limit=1', p50_ms: ceiling.p50_ms, p95_ms: ceiling.p95_ms },
      p50_over_ceiling: Math.round((summary.p50_ms / ceiling.p50_ms) * 100) / 100,
      target_p95_ms: 100,
      meets_target: summary.p95_ms < 100,
      headlines: [
        {
          metric: `GET /dashboard/summary p95, ${NOTIFICATIONS.toLocaleString('en-US')} notifications, vs GET /payments/?limit=1`,
          value: summary.p95_ms,
          unit: 'ms',
          ceiling: ceiling.p95_ms,
          ratio: Math.round((summary.p95_ms / ceiling.p95_ms) * 100) / 100,
          target: '< 100 ms',
          meets_target: summary.p95_ms < 100,
        },
      ],
    });
  } finally {
    await server.close();
  }
} finally {
  const keys = await redis.keys(`${config.redisPrefix}:*`).catch(() => []);
  if (keys.length) await redis.del(...keys);
  await Promise.allSettled([producers.close(), redis.quit(), closePasswordPool()]);
  await priv.drop();
  await closeDb();
}
