// Login latency during a flood of bogus password resets, next to a quiet baseline. A reset with an unknown token is
// refused after one indexed read and before any bcrypt work, and the hashing pool keeps a lane for logins, so a flood
// of resets (from as many addresses as an attacker likes: the bench puts the per-address limit out of reach) must not
// make logins wait for bcrypt, nor answer 503. Prints one JSON object.
//
//   npx tsx bench/reset-flood.ts [--samples=40] [--connections=64] [--seconds=60]
//                                   (at most 500 samples, 256 connections and 300 s)
//
// The flood comes from autocannon (bench/load.ts, a worker thread) for --seconds, each connection sending bogus resets
// back to back; the main thread logs in with the right password one request at a time, first --samples times with no
// flood, then for as long as the flood lasts (at most --samples times).
import crypto from 'node:crypto';
import { startApi, postJson, summary, intOption, printResult, BENCH_PASSWORD } from './support';
import { loadTest } from './load';

const samples = intOption('samples', 40, 500);
const connections = intOption('connections', 64, 256);
const seconds = intOption('seconds', 60, 300);
const WARMUP = 5;
/** The flood's ramp-up, and a margin before its end: logins are sampled only while it runs at full rate. */
const MARGIN_MS = 1000;

const api = await startApi();
try {
  const statuses: Record<string, number> = {};
  /** Up to `n` logins with the right password, one at a time, until `until` (ms); the time of each in ms. */
  const logins = async (n: number, until = Infinity, warmup = WARMUP): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < warmup + n && performance.now() < until; i += 1) {
      const started = performance.now();
      const res = await postJson(`${api.url}/auth/jwt/login`, { username: api.user.email, password: BENCH_PASSWORD });
      const ms = performance.now() - started;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (i >= warmup) times.push(ms);
    }
    return times;
  };

  const quiet = await logins(samples);

  // One bogus token for every reset: each is refused after the same indexed read, as a random one would be.
  const floodStarted = performance.now();
  const flooding = loadTest({
    url: `${api.url}/auth/reset-password`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: crypto.randomBytes(32).toString('base64url'), password: 'flood-password-1' }),
    connections,
    seconds,
  });
  await new Promise((resolve) => setTimeout(resolve, MARGIN_MS));
  // The API is warm by now: every login during the flood counts.
  const during = await logins(samples, floodStarted + seconds * 1000 - MARGIN_MS, 0);
  const flood = await flooding;

  const q = summary(quiet);
  const f = summary(during);
  const medianRatio = Math.round((f.median_ms / q.median_ms) * 100) / 100;
  printResult({
    bench: 'reset-flood',
    bcrypt_cost: api.config.bcryptCost,
    samples,
    samples_during_flood: during.length,
    connections,
    flood_seconds: seconds,
    login_quiet: q,
    login_during_flood: f,
    median_ratio: medianRatio,
    p95_ratio: Math.round((f.p95_ms / q.p95_ms) * 100) / 100,
    login_statuses: statuses,
    flood: {
      resets: flood.requests,
      p99_ms: flood.p99_ms,
      resets_per_second: flood.rps,
      statuses: flood.statuses,
      errors: flood.errors + flood.timeouts,
    },
    headlines: [
      {
        metric: `login median during a reset flood (${connections} connections) vs quiet`,
        value: f.median_ms,
        unit: 'ms',
        ceiling: q.median_ms,
        ratio: medianRatio,
        // A flood of bogus tokens must not make a login fail or answer 503.
        target: 'every login 200',
        meets_target: Object.keys(statuses).every((s) => s === '200'),
      },
    ],
  });
} finally {
  await api.shutdown();
}
process.exit(0);
