// Login timing: a wrong password, an unknown email and the right password should each cost one bcrypt compare at
// BCRYPT_COST, so that timing cannot tell an attacker which emails have accounts. Sends the three kinds one at a time,
// interleaved, to the real API listening on 127.0.0.1, and prints one JSON object with the median and p95 of each.
//
//   npx tsx bench/login-timing.ts [--samples=40]      (at most 500 per kind)
import crypto from 'node:crypto';
import { startApi, postJson, summary, intOption, BENCH_PASSWORD } from './support';

const samples = intOption('samples', 40, 500);
const WARMUP = 5;

const api = await startApi();
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
  console.log(
    JSON.stringify({
      bench: 'login-timing',
      bcrypt_cost: api.config.bcryptCost,
      samples_per_kind: samples,
      ...result,
      // How far apart the medians are, relative to the smallest: near 0 means the three do the same work.
      median_spread_pct: Math.round(((Math.max(...medians) - Math.min(...medians)) / Math.min(...medians)) * 1000) / 10,
      // The pair that matters most for account enumeration.
      unknown_vs_wrong_pct:
        Math.round(((Math.max(...failures) - Math.min(...failures)) / Math.min(...failures)) * 1000) / 10,
    }),
  );
} finally {
  await api.shutdown();
}
process.exit(0);
