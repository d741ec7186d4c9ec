// The cached read path at its ceiling. Starts the real stack with `npm start` (scripts/start.mjs: the built bundles,
// the API and every worker) on a private database and Redis prefix, registers a user who founds a workspace, adds 50
// birthdays and 50 clients through the API, then loads, with autocannon (bench/load.ts):
//   - GET /birthdays/ (the cached listing),
//   - GET /clients/?limit=50,
//   - the ceiling: a bare Express app in this process doing the same passport-jwt check (HS256, KeyObject) and one
//     indexed Knex SELECT (the user row by primary key), answering it as JSON.
// Each target gets a warm-up, then `runs` rounds of `seconds` each, the three targets interleaved within a round so
// that the machine's other work weighs on them alike; the median of each figure over the rounds is reported. Also
// times jsonwebtoken's verify alone, with the KeyObject and with the secret as a string. Prints one JSON object.
//
//   node --import tsx bench/read-path.ts [--seconds=10] [--runs=3] [--connections=50] [--cpu-prof-dir=DIR]
//
// --cpu-prof-dir: the two API routes are loaded on a second web process (the same dist/web.js, on the stack's
// database and Redis) started with `node --cpu-prof`, which writes its profile into DIR when it stops. Node refuses
// --cpu-prof in NODE_OPTIONS, so the stack's own web process cannot be profiled from here.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import jwt from 'jsonwebtoken';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import Redis from 'ioredis';
import { getConfig } from '@nudge/config';
import { createDb } from '@nudge/db';
import { listen, postJson, intOption, peakRssOfPid, printResult } from './support';
import { loadTest, type LoadResult } from './load';

const seconds = intOption('seconds', 10, 60);
const runs = intOption('runs', 3, 9);
const connections = intOption('connections', 50, 256);
const WARMUP_SECONDS = Math.min(3, seconds);
const BIRTHDAYS = 50;
const CLIENTS = 50;
const profileDir = process.argv.find((a) => a.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = `${Date.now().toString(36)}${crypto.randomBytes(2).toString('hex')}`;
const base = getConfig();
const databaseUrl = (() => {
  const u = new URL(base.databaseUrl);
  u.pathname = `/nudge_readpath_${stamp}`;
  return u.toString();
})();
const redisPrefix = `nudgereadpath${stamp}`;
const jwtSecret = crypto.randomBytes(32).toString('hex');
const encryptionKeys = `v1:${crypto.randomBytes(32).toString('base64')}`;
const searchHashKey = crypto.randomBytes(32).toString('hex');
const password = `Bench-${crypto.randomBytes(6).toString('hex')}`;

async function freePort(): Promise<number> {
  const probe = await listen((_req, res) => res.end());
  const port = Number(new URL(probe.url).port);
  await probe.close();
  return port;
}

interface Stack {
  url: string;
  child: ChildProcess;
  logFile: string;
  stop: () => Promise<void>;
}

function stackEnv(port: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    // Passed on, so that a run can try V8 or allocator settings on the stack's processes.
    NODE_OPTIONS: process.env.NODE_OPTIONS,
    HOME: process.env.HOME,
    ENV: 'development',
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    REDIS_URL: base.redisUrl,
    REDIS_PREFIX: redisPrefix,
    LOG_LEVEL: 'warn',
    JWT_SECRET: jwtSecret,
    ENCRYPTION_KEYS: encryptionKeys,
    SEARCH_HASH_KEY: searchHashKey,
    ADMIN_EMAIL: `admin-${stamp}@example.com`,
    ADMIN_PASSWORD: `Admin-${crypto.randomBytes(8).toString('hex')}`,
    ADMIN_DOB: '1980-01-02',
    BCRYPT_COST: '10',
    // On a loaded machine 50 connections can keep a query waiting over the default 1 s for one of the pool's 10
    // connections, which answers 503: the bench measures throughput, not that limit. The ceiling gets the same.
    DB_ACQUIRE_TIMEOUT_MS: '10000',
  };
}

async function waitForHealth(url: string, exited: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (exited()) throw new Error(`the process exited; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer /health within 300 s; see ${logFile}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function startStack(): Promise<Stack> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(os.tmpdir(), `read-path-stack-${stamp}.log`);
  const out = fs.openSync(logFile, 'w');
  const env = stackEnv(port);
  // Its own process group, so that stopping it reaches every process it started (as Ctrl-C would).
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
    cwd: root,
    env,
    stdio: ['ignore', out, out],
    detached: true,
  });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  await waitForHealth(url, () => exited, logFile);
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), s);
    } catch {
      // already gone
    }
  };
  return {
    url,
    child,
    logFile,
    stop: async () => {
      if (exited) return;
      signal('SIGINT');
      const timer = setTimeout(() => signal('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** A second web process, the stack's own bundle, under `node --cpu-prof`; stopping it writes the profile. */
async function startProfiledWeb(dir: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(os.tmpdir(), `read-path-web-${stamp}.log`);
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`, 'dist/web.js'], {
    cwd: root,
    env: stackEnv(port),
    stdio: ['ignore', out, out],
  });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  await waitForHealth(url, () => exited, logFile);
  return {
    url,
    pid: child.pid as number,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await gone;
    },
  };
}

async function call(method: string, url: string, token: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** Registers a user founding a workspace, logs in, adds the birthdays and clients; answers the access token. */
async function seed(api: string): Promise<string> {
  const email = `reader-${stamp}@example.com`;
  const reg = await postJson(`${api}/auth/register`, {
    email,
    password,
    date_of_birth: '1990-05-17',
    workspace_name: `Read path ${stamp}`,
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.json)}`);
  const login = await postJson(`${api}/auth/jwt/login`, { username: email, password });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.json)}`);
  const token = (login.json as { access_token: string }).access_token;
  // The founder's own date of birth may already be one of the workspace's birthdays.
  const have = ((await call('GET', `${api}/birthdays/`, token)) as unknown[]).length;
  for (let i = have; i < BIRTHDAYS; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const month = String((i % 12) + 1).padStart(2, '0');
    await call('POST', `${api}/birthdays/`, token, { name: `Person ${i}`, date_of_birth: `1985-${month}-${day}` });
  }
  for (let i = 0; i < CLIENTS; i++) {
    await call('POST', `${api}/clients/`, token, {
      name: `Client ${i}`,
      email: `client-${i}@example.com`,
      timezone: 'Europe/Paris',
    });
  }
  const listed = (await call('GET', `${api}/birthdays/`, token)) as unknown[];
  if (listed.length !== BIRTHDAYS) throw new Error(`expected ${BIRTHDAYS} birthdays, got ${listed.length}`);
  return token;
}

/**
 * The ceiling: the same bearer check as the API's (passport-jwt, HS256, KeyObject) and one indexed SELECT. It runs
 * in a process of its own (this file with --serve-ceiling), in a session of its own like the stack: with the
 * scheduler's autogroups, a server sharing this process's session would share its CPU with autocannon.
 */
async function serveCeiling(databaseUrl: string, jwtSecret: string) {
  const db = createDb(databaseUrl);
  const auth = new passport.Passport();
  auth.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // passport-jwt hands this to jsonwebtoken, which accepts a KeyObject.
        secretOrKey: crypto.createSecretKey(Buffer.from(jwtSecret, 'utf8')) as unknown as string,
        algorithms: ['HS256'],
        audience: 'nudge:auth',
      },
      (payload: { sub: string }, done: (err: unknown, user?: unknown) => void) => {
        db('users')
          .where({ id: payload.sub })
          .first()
          .then((user: unknown) => done(null, user ?? false), done);
      },
    ),
  );
  const app = express();
  app.disable('x-powered-by');
  app.get('/me', auth.authenticate('jwt', { session: false }) as express.RequestHandler, (req, res) => {
    const u = req.user as { id: string; email: string; workspace_id: string | null; role: string };
    res.json({ id: u.id, email: u.email, workspace_id: u.workspace_id, role: u.role });
  });
  const server = await listen(app);
  return {
    url: `${server.url}/me`,
    close: async () => {
      await server.close();
      // Requests autocannon gave up on at the end of a run may still wait for a connection: let them finish.
      const pool = (db.client as { pool: { numPendingAcquires(): number; numUsed(): number } }).pool;
      for (let i = 0; i < 100 && pool.numPendingAcquires() + pool.numUsed() > 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      await db.destroy();
    },
  };
}

/** Verifications per second of one token, for up to 1 s or 20 000 verifies. */
function verifiesPerSecond(token: string, secret: string | crypto.KeyObject): number {
  const started = performance.now();
  let n = 0;
  while (n < 20_000 && performance.now() - started < 1000) {
    jwt.verify(token, secret, { algorithms: ['HS256'], audience: 'nudge:auth' });
    n += 1;
  }
  return Math.round(n / ((performance.now() - started) / 1000));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** A process's CPU time so far (user + system), in µs, from /proc (Linux); NaN elsewhere. */
function cpuMicros(pid: number): number {
  try {
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in clock ticks.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * (1e6 / CLOCK_TICKS);
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100;

/** The stack's processes (children of npm start running a bundle, as the Procfile names them), by name. */
function stackPids(startPid: number): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]?.split(' ')[1]);
      const bundle = /dist\/(web|birthdays|reminders|billing)\.js/.exec(
        fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8'),
      )?.[1];
      if (ppid === startPid && bundle) pids[bundle] = Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

interface Measured extends LoadResult {
  /** The server process's CPU time per request answered, in µs. */
  cpu_us: number;
}

function summarise(results: Measured[]) {
  return {
    rps: Math.round(median(results.map((r) => r.rps))),
    p50_ms: median(results.map((r) => r.p50_ms)),
    p99_ms: median(results.map((r) => r.p99_ms)),
    server_cpu_us_per_request: Math.round(median(results.map((r) => r.cpu_us))),
    rps_runs: results.map((r) => r.rps),
  };
}

async function dropEverything(): Promise<void> {
  const admin = createDb((() => ((u) => ((u.pathname = '/postgres'), u.toString()))(new URL(databaseUrl)))());
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ${`nudge_readpath_${stamp}`} WITH (FORCE)`);
  } finally {
    await admin.destroy();
  }
  const redis = new Redis(base.redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const load1m = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
async function startCeiling(): Promise<{ url: string; pid: number; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-ceiling'], {
    cwd: root,
    env: {
      ...process.env,
      DB_ACQUIRE_TIMEOUT_MS: '10000',
      READ_PATH_DATABASE_URL: databaseUrl,
      READ_PATH_JWT_SECRET: jwtSecret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the ceiling server exited (${code})`)));
  });
  return {
    url,
    pid: child.pid as number,
    close: async () => {
      child.kill('SIGTERM');
      await gone;
    },
  };
}

if (process.argv.includes('--serve-ceiling')) {
  const server = await serveCeiling(
    process.env.READ_PATH_DATABASE_URL as string,
    process.env.READ_PATH_JWT_SECRET as string,
  );
  process.stdout.write(`${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
  await new Promise(() => undefined);
}

const stack = await startStack();
let ceiling: Awaited<ReturnType<typeof startCeiling>> | undefined;
let profiled: Awaited<ReturnType<typeof startProfiledWeb>> | undefined;
try {
  const token = await seed(stack.url);
  if (profileDir) profiled = await startProfiledWeb(profileDir);
  const api = profiled?.url ?? stack.url;
  const headers = { authorization: `Bearer ${token}` };
  // Before any load: these block the event loop, which would time out the ceiling's queued pool acquisitions.
  const withKey = verifiesPerSecond(token, crypto.createSecretKey(Buffer.from(jwtSecret, 'utf8')));
  const withString = verifiesPerSecond(token, jwtSecret);
  ceiling = await startCeiling();
  const targets = {
    birthdays: `${api}/birthdays/`,
    clients: `${api}/clients/?limit=50`,
    ceiling: ceiling.url,
  };
  const stackProcesses = stackPids(stack.child.pid as number);
  const webPid = stackProcesses.web ?? NaN;
  const servers = {
    birthdays: profiled?.pid ?? webPid,
    clients: profiled?.pid ?? webPid,
    ceiling: ceiling.pid,
  };
  const once = async (name: keyof typeof targets, duration: number): Promise<Measured> => {
    const cpuBefore = cpuMicros(servers[name]);
    const r = await loadTest({ url: targets[name], connections, seconds: duration, headers });
    const cpu = cpuMicros(servers[name]) - cpuBefore;
    if (r.non2xx || r.errors || r.timeouts)
      throw new Error(`${targets[name]}: ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts`);
    return { ...r, cpu_us: cpu / r.requests };
  };
  for (const name of Object.keys(targets) as (keyof typeof targets)[]) await once(name, WARMUP_SECONDS);
  const loadBefore = load1m();
  const measured: Record<keyof typeof targets, Measured[]> = { birthdays: [], clients: [], ceiling: [] };
  for (let i = 0; i < runs; i++)
    for (const name of Object.keys(targets) as (keyof typeof targets)[]) measured[name].push(await once(name, seconds));
  const birthdays = summarise(measured.birthdays);
  const clients = summarise(measured.clients);
  const bare = summarise(measured.ceiling);
  const ratio = (x: number) => Math.round((x / bare.rps) * 1000) / 1000;
  const cpuRatio = (x: number) => Math.round((bare.server_cpu_us_per_request / x) * 1000) / 1000;
  // The stack's peak memory over the whole run: the API under the load above, the workers idle beside it.
  const processPeakRss = Object.fromEntries(
    Object.entries(stackProcesses).map(([name, pid]) => [name === 'web' ? 'api' : name, peakRssOfPid(pid)]),
  );
  const headline = (name: 'birthdays' | 'clients', s: ReturnType<typeof summarise>) => [
    {
      metric: `GET /${name === 'birthdays' ? 'birthdays/ (cached)' : 'clients/?limit=50'} vs bare Express + passport-jwt + one SELECT`,
      value: s.rps,
      unit: 'req/s',
      ceiling: bare.rps,
      ratio: ratio(s.rps),
      target: name === 'birthdays' ? '≥ 0.8 of the ceiling' : null,
      meets_target: name === 'birthdays' ? ratio(s.rps) >= 0.8 : null,
    },
    {
      metric: `GET /${name}/ p99`,
      value: s.p99_ms,
      unit: 'ms',
      ceiling: bare.p99_ms,
      ratio: Math.round((s.p99_ms / bare.p99_ms) * 100) / 100,
      target: name === 'birthdays' ? '< 50 ms' : null,
      meets_target: name === 'birthdays' ? s.p99_ms < 50 : null,
    },
  ];
  printResult({
    bench: 'read-path',
    seconds,
    runs,
    connections,
    load_average_1m: [loadBefore, load1m()],
    birthdays: {
      ...birthdays,
      ratio: ratio(birthdays.rps),
      cpu_ratio: cpuRatio(birthdays.server_cpu_us_per_request),
    },
    clients: { ...clients, ratio: ratio(clients.rps), cpu_ratio: cpuRatio(clients.server_cpu_us_per_request) },
    ceiling: bare,
    meets_target: ratio(birthdays.rps) >= 0.8 && birthdays.p99_ms < 50,
    verify_only: {
      key_object_per_s: withKey,
      string_secret_per_s: withString,
      speedup: Math.round((withKey / withString) * 10) / 10,
    },
    process_peak_rss_mb: processPeakRss,
    headlines: [...headline('birthdays', birthdays), ...headline('clients', clients)],
  });
} finally {
  await ceiling?.close();
  await profiled?.stop();
  await stack.stop();
  await dropEverything();
}
process.exit(0);
