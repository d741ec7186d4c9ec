// Logins: what they cost and what they cost everyone else. Prints one JSON object.
//
// 1. Timing: a wrong password, an unknown email and the right password should each cost one bcrypt compare at
//    BCRYPT_COST, so that timing cannot tell an attacker which emails have accounts. Sends the three kinds one at a
//    time, interleaved, to the real API listening on 127.0.0.1: the median and p95 of each.
// 2. Under load, at the production cost (a user whose hash has PRODUCTION_BCRYPT_COST): GET /health's p99 from a
//    light fixed-rate probe, alone and then while ten connections log in continuously (the target: at most 3× the
//    unloaded p99), and the logins per second of those ten connections against raw bcryptjs compares at the same
//    cost on as many threads as the password pool has (the ceiling). Both loads come from autocannon (bench/load.ts).
//
//   npx tsx bench/login-timing.ts [--samples=40] [--seconds=15]      (at most 500 per kind, 60 s a phase)
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { PRODUCTION_BCRYPT_COST } from '@nudge/config';
import { getDb, insertUser, deleteUserById } from '@nudge/db';
import { defaultPoolThreads, hashPassword } from '@nudge/crypto';
import { startApi, postJson, summary, intOption, printResult, round, BENCH_PASSWORD } from './support';
import { loadTest, type LoadOptions } from './load';

const samples = intOption('samples', 40, 500);
const seconds = intOption('seconds', 15, 60);
const WARMUP = 5;
const LOGINS = 10;
const P99_TARGET = 3;

/** Raw bcryptjs compares per second on `threads` threads: plain JavaScript threads, no pool and no HTTP. */
async function rawComparesPerSecond(threads: number, hash: string): Promise<number> {
  const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
  // Warmed up first (a cheap hash, so that bcryptjs is compiled, as the pool's long-lived threads are), and timed
  // inside the thread over whole compares, so that neither start-up nor a compare cut short is counted.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const bcrypt = require(workerData.bcryptjs);
    bcrypt.compareSync(workerData.password, bcrypt.hashSync(workerData.password, 4));
    const started = performance.now();
    const end = started + workerData.seconds * 1000;
    let n = 0;
    while (performance.now() < end) { bcrypt.compareSync(workerData.password, workerData.hash); n++; }
    parentPort.postMessage(n / ((performance.now() - started) / 1000));`;
  const rates = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { bcryptjs, seconds, password: BENCH_PASSWORD, hash } });
          w.once('message', (perSecond: number) => void w.terminate().then(() => resolve(perSecond)));
          w.once('error', reject);
        }),
    ),
  );
  return rates.reduce((a, b) => a + b, 0);
}

const api = await startApi();
const db = getDb();
const costly = await insertUser(db, {
  email: `bench-cost-${crypto.randomBytes(5).toString('hex')}@example.com`,
  password_hash: await hashPassword(BENCH_PASSWORD, PRODUCTION_BCRYPT_COST),
  date_of_birth: '1990-01-01',
});
try {
  const kinds = {
    wrong_password: () => ({ body: { username: api.user.email, password: 'not-the-password' }, expect: 400 }),
    unknown_email: () => ({
      body: { username: `nobody-${crypto.randomBytes(6).toString('hex')}@example.com`, password: BENCH_PASSWORD },
      expect: 400,
    }),
    right_password: () => ({ body: { username: api.user.email, password: BENCH_PASSWORD }, expect: 200 }),
  };
  const times: Record<keyof typeof kinds, number[]> = { wrong_password: [], unknown_email: [], right_password: [] };
  const names = Object.keys(kinds) as (keyof typeof kinds)[];
  for (let round = 0; round < WARMUP + samples; round += 1) {
    // Rotate the order each round, so that no kind always follows another.
    for (let k = 0; k < names.length; k += 1) {
      const name = names[(round + k) % names.length] as keyof typeof kinds;
      const { body, expect } = kinds[name]();
      const started = performance.now();
      const res = await postJson(`${api.url}/auth/jwt/login`, body);
      const ms = performance.now() - started;
      if (res.status !== expect)
        throw new Error(`${name}: expected ${expect}, got ${res.status} ${JSON.stringify(res.json)}`);
      if (round >= WARMUP) times[name].push(ms);
    }
  }
  const result = Object.fromEntries(names.map((n) => [n, summary(times[n])])) as Record<
    keyof typeof kinds,
    ReturnType<typeof summary>
  >;
  const medians = names.map((n) => result[n].median_ms);
  const failures = [result.wrong_password.median_ms, result.unknown_email.median_ms];
  // How far apart the medians are, relative to the smallest: near 0 means the three do the same work.
  const medianSpreadPct = round(((Math.max(...medians) - Math.min(...medians)) / Math.min(...medians)) * 100, 1);

  // A light probe (100 requests a second on 4 connections), so that its p99 shows the wait the logins add rather
  // than the probe's own queue.
  const probe: LoadOptions = { url: `${api.url}/health`, connections: 4, overallRate: 100, seconds };
  await loadTest({ ...probe, seconds: 1 });
  const unloaded = await loadTest(probe);
  const loginLoad: LoadOptions = {
    url: `${api.url}/auth/jwt/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: costly.email, password: BENCH_PASSWORD }),
    connections: LOGINS,
    seconds,
    // Ten logins queued behind one or two bcrypt threads at cost 12 take seconds each: that is the load, not a fault.
    timeoutSeconds: 60,
  };
  const threads = defaultPoolThreads();
  // Raw compares before and after the logins, and their mean as the ceiling: on a shared machine a thread's share of
  // a core swings from one phase to the next.
  const rawBefore = await rawComparesPerSecond(threads, costly.password_hash);
  const [loaded, logins] = await Promise.all([loadTest(probe), loadTest(loginLoad)]);
  const rawAfter = await rawComparesPerSecond(threads, costly.password_hash);
  const rawPerSecond = (rawBefore + rawAfter) / 2;
  const p99Ratio = round(loaded.p99_ms / unloaded.p99_ms);
  const loginsPerSecond = logins.requests / logins.seconds;

  printResult({
    bench: 'login-timing',
    bcrypt_cost: api.config.bcryptCost,
    samples_per_kind: samples,
    ...result,
    median_spread_pct: medianSpreadPct,
    // The pair that matters most for account enumeration.
    unknown_vs_wrong_pct: round(((Math.max(...failures) - Math.min(...failures)) / Math.min(...failures)) * 100, 1),
    under_load: {
      bcrypt_cost: PRODUCTION_BCRYPT_COST,
      seconds,
      concurrent_logins: LOGINS,
      health_probe: { rate_per_second: probe.overallRate, connections: probe.connections },
      health_unloaded: unloaded,
      health_during_logins: loaded,
      health_p99_ratio: p99Ratio,
      logins,
      logins_per_second: round(loginsPerSecond),
      pool_threads: threads,
      raw_bcryptjs_compares_per_second: round(rawPerSecond),
      raw_before_and_after: [round(rawBefore), round(rawAfter)],
      logins_over_raw: round(loginsPerSecond / rawPerSecond),
    },
    headlines: [
      {
        metric: `GET /health p99 during ${LOGINS} logins (cost ${PRODUCTION_BCRYPT_COST})`,
        value: loaded.p99_ms,
        unit: 'ms',
        ceiling: unloaded.p99_ms,
        ratio: p99Ratio,
        target: `≤ ${P99_TARGET}× unloaded p99`,
        meets_target: p99Ratio <= P99_TARGET && loaded.non2xx === 0 && loaded.errors === 0,
      },
      {
        metric: `logins/s at cost ${PRODUCTION_BCRYPT_COST}, vs raw bcryptjs on ${threads} thread(s)`,
        value: round(loginsPerSecond),
        unit: 'req/s',
        ceiling: round(rawPerSecond),
        ratio: round(loginsPerSecond / rawPerSecond),
        target: null,
        meets_target: null,
      },
      {
        metric: `login median spread (wrong, unknown, right; cost ${api.config.bcryptCost})`,
        value: medianSpreadPct,
        unit: '%',
        ceiling: null,
        ratio: null,
        target: null,
        meets_target: null,
      },
    ],
  });
} finally {
  await deleteUserById(db, costly.id);
  await api.shutdown();
}
process.exit(0);
