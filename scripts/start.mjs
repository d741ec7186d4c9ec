#!/usr/bin/env node
// `npm start`: checks PORT, makes sure of development secrets, installs dependencies, builds dist/ when it is missing
// or older than a source, ensures PostgreSQL and Redis, runs the Procfile's `release` step (the compiled migrations)
// and the admin seed, then runs one child process per other Procfile entry (the bundles) with its output prefixed by
// its name. If a child dies, the others are stopped and we exit non-zero. On SIGINT/SIGTERM every
// child gets SIGTERM, then SIGKILL after 10 s, and we are gone within 15 s.
//
// Plain Node only: this runs before `npm install`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT, ensureBuilt, ensureInstalled, ensureSecretsFile, readEnvFile, runInherit } from './common.mjs';
import { canConnect, createDatabase, databaseOf, ensureServices, redact, withDatabase } from './services.mjs';

const STOP_GRACE_MS = 10000; // SIGTERM, then SIGKILL after this
const HARD_DEADLINE_MS = 14500; // whatever happens, we exit this long after a signal (the contract is 15 s)
const SERVICES_STOP_MS = 3500; // most we spend stopping private PostgreSQL/Redis on the way out
const DEFAULT_DATABASE = 'nudge';
// Used only when there is no Procfile; the Procfile is the source of truth.
const DEFAULT_RELEASE = 'node dist/migrate.js';
const DEFAULT_PROCESSES = [
  { name: 'web', command: 'node --max-old-space-size=128 --heap-growing-percent=100 dist/web.js' },
  { name: 'birthdays', command: 'node dist/birthdays.js' },
  { name: 'reminders', command: 'node dist/reminders.js' },
  { name: 'billing', command: 'node dist/billing.js' },
];
const SEED = 'node dist/seed-admin.js';

const log = (msg) => process.stdout.write(`[start] ${msg}\n`);
const warn = (msg) => process.stderr.write(`[start] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const state = {
  stopping: null, // the signal (or 'crash') that started the shutdown
  services: null, // what ensureServices returned, so we can stop private instances
  step: null, // the one-shot child running now (npm install, migrate, seed)
  children: [], // the long-running Procfile processes: { name, child, exited, done }
  supervising: false,
  exiting: false,
};

// ---------------------------------------------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------------------------------------------

/** Stops the private services we started (bounded in time), then exits. Runs once. */
async function finish(code) {
  if (state.exiting) return;
  state.exiting = true;
  if (state.services) await Promise.race([state.services.stop(), sleep(SERVICES_STOP_MS)]);
  process.exit(code);
}

/** SIGTERM to every child still running, SIGKILL after the grace period, then finish(code). */
async function stopChildren(code) {
  const live = state.children.filter((c) => !c.done);
  for (const c of live) signalChild(c.child, 'SIGTERM');
  const killer = setTimeout(() => {
    for (const c of state.children.filter((x) => !x.done)) {
      warn(`${c.name} did not stop within ${STOP_GRACE_MS / 1000} s: SIGKILL`);
      signalChild(c.child, 'SIGKILL');
    }
  }, STOP_GRACE_MS);
  await Promise.all(state.children.map((c) => c.exited));
  clearTimeout(killer);
  await finish(code);
}

function signalChild(child, signal) {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

// Ctrl-C in a terminal (or the smoke test's kill of our process group) delivers SIGINT to every child as well as
// to us, so children may already be stopping; everything here is idempotent.
function onSignal(signal) {
  if (state.stopping) return;
  state.stopping = signal;
  log(`${signal}: stopping`);
  // A safety net for anything that hangs (a service that will not stop, a step that ignores SIGTERM).
  setTimeout(() => {
    for (const c of state.children) if (!c.done) signalChild(c.child, 'SIGKILL');
    if (state.step) signalChild(state.step, 'SIGKILL');
    process.exit(1);
  }, HARD_DEADLINE_MS);
  if (state.supervising) {
    void stopChildren(0);
  } else if (state.step) {
    // The main flow notices `state.stopping` when the step returns, and finishes.
    signalChild(state.step, 'SIGTERM');
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => onSignal(signal));

function fail(message, code = 1) {
  warn(message);
  if (state.supervising) {
    state.stopping ??= 'failure';
    return stopChildren(code);
  }
  return finish(code);
}

// ---------------------------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------------------------

function parsePort(value) {
  const port = Number(value);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

// 'EADDRINUSE', 'EACCES', ... or null when we could listen (and closed again at once).
function tryListen(port, host) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) => resolve(err.code || 'error'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** Whether something already holds the port, on any address the API might listen on. */
async function portProblem(port) {
  if (await canConnect('127.0.0.1', port, 500)) return 'in use';
  for (const host of ['0.0.0.0', '127.0.0.1', '::']) {
    const code = await tryListen(port, host);
    if (code === 'EADDRINUSE') return 'in use';
    if (code === 'EACCES') return 'not allowed (permission denied)';
    // EAFNOSUPPORT / EADDRNOTAVAIL: no IPv6 here, which is fine.
  }
  return null;
}

/** Runs a one-shot command (a Procfile-style line) with inherited output; false when it failed. */
async function runStep(command, env) {
  const [file, args] = commandLine(command);
  const code = await runInherit(file, args, { env, onChild: (c) => (state.step = c) });
  if (state.stopping) return true; // interrupted: the caller stops anyway
  if (code !== 0) {
    warn(`${command} failed (exit ${code})`);
    return false;
  }
  return true;
}

/** The Procfile's entries, in order, or null when there is no Procfile. */
function procfile() {
  let text;
  try {
    text = fs.readFileSync(path.join(ROOT, 'Procfile'), 'utf8');
  } catch {
    return null;
  }
  const entries = [];
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^([A-Za-z0-9_-]+):\s*(.+?)\s*$/);
    if (m) entries.push({ name: m[1], command: m[2] });
  }
  return entries;
}

/** Procfile entries other than `release`. */
function processes() {
  return procfile()?.filter((e) => e.name !== 'release') ?? DEFAULT_PROCESSES;
}

/** The Procfile's `release` command. */
function releaseCommand() {
  const entries = procfile();
  if (!entries) return DEFAULT_RELEASE;
  return entries.find((e) => e.name === 'release')?.command ?? null;
}

/**
 * [file, args] for a Procfile command. Plain words are split and run directly (`node` as this very Node), so the
 * child gets our signals itself; anything shell-like goes through `sh -c exec ...` for the same reason.
 */
function commandLine(command) {
  if (/^[\w@%+=:,./-]+(\s+[\w@%+=:,./-]+)*$/.test(command)) {
    const [bin, ...args] = command.split(/\s+/);
    return [bin === 'node' ? process.execPath : bin, args];
  }
  return ['/bin/sh', ['-c', `exec ${command}`]];
}

// Copies a child's stream line by line, each line prefixed with `[name] `.
function prefixLines(stream, out, name) {
  readline
    .createInterface({ input: stream, crlfDelay: Infinity })
    .on('line', (line) => out.write(`[${name}] ${line}\n`));
}

function startChild({ name, command }, env) {
  const [file, args] = commandLine(command);
  const entry = { name, child: null, done: false, exited: null };
  entry.exited = new Promise((resolve) => {
    const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    entry.child = child;
    prefixLines(child.stdout, process.stdout, name);
    prefixLines(child.stderr, process.stderr, name);
    const exited = (code, signal) => {
      if (entry.done) return;
      entry.done = true;
      resolve();
      onChildExit(entry, code, signal);
    };
    child.on('exit', exited);
    child.on('error', (err) => {
      warn(`${name}: ${err.message}`);
      if (child.pid === undefined) exited(127, null); // never started: no 'exit' will come
    });
  });
  return entry;
}

function onChildExit(entry, code, signal) {
  if (state.stopping) return;
  // A Ctrl-C reaches the children and us at the same moment; give our own SIGINT handler a moment to run so a
  // child that stopped on that Ctrl-C is not reported as a crash.
  setTimeout(() => {
    if (state.stopping) return;
    state.stopping = 'crash';
    warn(`${entry.name} exited (${signal ? `signal ${signal}` : `code ${code}`}): stopping the others`);
    void stopChildren(1);
  }, 300);
}

async function announceWhenHealthy(port) {
  const base = `http://127.0.0.1:${port}`;
  const since = Date.now();
  let hinted = false;
  while (!state.stopping) {
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (!hinted && Date.now() - since > 60000) {
      warn(`still waiting for ${base}/health to answer 200`);
      hinted = true;
    }
    await sleep(500);
  }
  if (state.stopping) return;
  log(`Nudge API: ${base}`);
  log(`  API docs:        ${base}/docs`);
  log(`  Health:          ${base}/health`);
  log(`  Queue dashboard: ${base}/admin/queues`);
}

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

async function main() {
  // The real environment wins over .env; the result is what every child gets.
  const env = { ...readEnvFile(path.join(ROOT, '.env')), ...process.env };
  const production = env.ENV === 'production';

  // PORT first, so a taken port fails at once, before anything is installed, started or migrated.
  const port = parsePort(env.PORT ?? '8000');
  if (!port) return fail(`PORT ${JSON.stringify(env.PORT)} is not a port number`);
  const problem = await portProblem(port);
  if (problem === 'in use') {
    process.stderr.write(`PORT ${port} is already in use\n`);
    process.exit(1);
  }
  if (problem) return fail(`PORT ${port} is ${problem}`);

  // Secrets before anything that reads the configuration is spawned.
  if (!production && (!env.JWT_SECRET || !env.ENCRYPTION_KEYS || !env.SEARCH_HASH_KEY)) ensureSecretsFile(log);

  await ensureInstalled({ log, onChild: (c) => (state.step = c) });
  if (state.stopping) return finish(0);
  // Every process below runs from dist/: the same JavaScript as the Docker image, no TypeScript loader.
  try {
    await ensureBuilt({ log, onChild: (c) => (state.step = c) });
  } catch (err) {
    if (state.stopping) return finish(0); // the build was interrupted, not broken
    throw err;
  }
  if (state.stopping) return finish(0);

  if (production && (!env.DATABASE_URL || !env.REDIS_URL))
    return fail('DATABASE_URL and REDIS_URL are required in production');
  state.services = await ensureServices({ databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL, log, production });
  if (state.stopping) return finish(0);
  const svc = state.services;

  // A DATABASE_URL that answers is used as is (its database is created if missing, outside production). Otherwise
  // (unset, or we started a private server) the app gets its own `nudge` database on whatever server we use.
  let databaseUrl;
  if (env.DATABASE_URL && !svc.started.postgres) {
    databaseUrl = env.DATABASE_URL;
    if (svc.missingDatabase && !production) {
      await createDatabase(databaseUrl, databaseOf(databaseUrl));
      log(`created database ${databaseOf(databaseUrl)}`);
    }
  } else {
    databaseUrl = withDatabase(svc.databaseUrl, DEFAULT_DATABASE);
    if (await createDatabase(svc.databaseUrl, DEFAULT_DATABASE)) log(`created database ${DEFAULT_DATABASE}`);
  }
  env.DATABASE_URL = databaseUrl;
  env.REDIS_URL = svc.redisUrl;
  log(`PostgreSQL: ${redact(databaseUrl)}${svc.started.postgres ? ' (private, removed on exit)' : ''}`);
  log(`Redis: ${redact(svc.redisUrl)}${svc.started.redis ? ' (private, removed on exit)' : ''}`);

  // The Procfile's `release` step, then the admin seed.
  const release = releaseCommand();
  if (release && !(await runStep(release, env))) return finish(1);
  if (state.stopping) return finish(0);
  if (!(await runStep(SEED, env))) return finish(1);
  if (state.stopping) return finish(0);

  const list = processes();
  if (!list.length) return fail('the Procfile has no processes to run');
  state.supervising = true;
  for (const p of list) state.children.push(startChild(p, env));
  log(`started ${list.map((p) => p.name).join(', ')}`);
  void announceWhenHealthy(port);
}

process.on('unhandledRejection', (err) => void fail(`unexpected error: ${err?.stack || err}`));
main().catch((err) => fail(err?.message || String(err)));
