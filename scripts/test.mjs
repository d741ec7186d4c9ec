#!/usr/bin/env node
// `npm test`: installs dependencies if needed, ensures PostgreSQL and Redis (DATABASE_URL / REDIS_URL when they
// answer, private instances otherwise), creates a throwaway database, migrates it, runs mocha, cleans up, and
// prints "N passed, N failed" as its very last line.
//
// Extra arguments go to mocha: `npm test -- --grep login`, `npm test -- apps/api/test/http/app.test.ts`.
// Plain Node only: this runs before `npm install`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, ensureInstalled, generateSecrets, readEnvFile, runInherit } from './common.mjs';
import {
  createDatabase,
  dropDatabase,
  ensureServices,
  listDatabases,
  redact,
  redisCleanup,
  withDatabase,
} from './services.mjs';

const DB_PREFIX = 'nudge_test_';
const STALE_AFTER_MS = 86400e3;
const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const REPORTER = path.join(ROOT, 'scripts', 'mocha-summary-reporter.cjs');
// Every suite, when .mocharc.json does not say (mocha expands the globs itself).
const DEFAULT_SPECS = ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'];
// The fault suite restarts servers of its own for minutes: it runs only when named (`npm run test:faults`), never
// as part of every suite or of a glob such as test/**/*.test.ts.
const FAULTS = 'test/faults/';
const faultsIgnored = (args) => (args.some((a) => a.includes(FAULTS)) ? [] : ['--ignore', `${FAULTS}**`]);

const log = (msg) => process.stdout.write(`[test] ${msg}\n`);
const warn = (msg) => process.stderr.write(`[test] ${msg}\n`);

const state = { interrupted: null, step: null };
// Ctrl-C reaches mocha too (same process group); we only make sure it stops, then clean up and report.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (state.interrupted) return;
    state.interrupted = signal;
    warn(`${signal}: stopping the tests`);
    if (state.step) state.step.kill('SIGTERM');
  });
}

// Mocha options that take a value, so that value is not mistaken for a spec file.
const VALUE_OPTIONS = new Set([
  '--grep',
  '-g',
  '--fgrep',
  '-f',
  '--reporter',
  '-R',
  '--reporter-option',
  '--reporter-options',
  '-O',
  '--timeout',
  '-t',
  '--slow',
  '-s',
  '--retries',
  '--jobs',
  '-j',
  '--require',
  '-r',
  '--config',
  '--package',
  '--ui',
  '-u',
  '--file',
  '--ignore',
  '--exclude',
  '--extension',
  '--spec',
  '--node-option',
  '-n',
  '--import',
  '--watch-files',
  '--watch-ignore',
]);

/** Whether the user named spec files/globs on the command line (mocha would add them to the config's spec). */
function namesSpecs(args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') return i < args.length - 1;
    if (arg === '--spec') return true;
    if (arg.startsWith('-')) {
      if (VALUE_OPTIONS.has(arg)) i++;
      continue;
    }
    return true;
  }
  return false;
}

/**
 * The spec arguments for mocha, with test/faults ignored unless an argument names it. With no spec named on the
 * command line, every suite: the config file's `spec`, or
 * DEFAULT_SPECS when it has none. With specs named, only those: mocha would add them to the config file's `spec`,
 * so it then gets a copy of .mocharc.json without `spec`.
 */
function specArgs(args, tmpDir) {
  const rcFile = path.join(ROOT, '.mocharc.json');
  const rc = fs.existsSync(rcFile) ? JSON.parse(fs.readFileSync(rcFile, 'utf8')) : {};
  const rcHasSpec = rc.spec !== undefined && rc.spec.length !== 0;
  if (!namesSpecs(args)) return [...(rcHasSpec ? [] : DEFAULT_SPECS), ...faultsIgnored(args)];
  if (!rcHasSpec || args.includes('--config') || args.includes('--no-config')) return faultsIgnored(args);
  delete rc.spec;
  const copy = path.join(tmpDir, 'mocharc.json');
  fs.writeFileSync(copy, JSON.stringify(rc));
  return ['--config', copy, ...faultsIgnored(args)];
}

async function dropStaleDatabases(databaseUrl) {
  for (const name of await listDatabases(databaseUrl)) {
    if (!name.startsWith(DB_PREFIX)) continue;
    // The name starts with its creation time in base 36 (8 digits until the year 2059).
    const born = parseInt(name.slice(DB_PREFIX.length, DB_PREFIX.length + 8), 36);
    if (born && Date.now() - born > STALE_AFTER_MS) {
      log(`dropping leftover database ${name}`);
      await dropDatabase(databaseUrl, name).catch((err) => warn(`could not drop ${name}: ${err.message}`));
    }
  }
}

/** Runs everything; answers { passes, failures, code }. Cleanup is registered in `cleanups`, run by the caller. */
async function runTests(cleanups, extraArgs) {
  await ensureInstalled({ log, onChild: (c) => (state.step = c) });
  if (state.interrupted) return { passes: 0, failures: 1, code: 130 };

  const fileEnv = { ...readEnvFile(path.join(ROOT, '.env')), ...process.env };
  const svc = await ensureServices({ databaseUrl: fileEnv.DATABASE_URL, redisUrl: fileEnv.REDIS_URL, log });
  cleanups.push(() => svc.stop());
  if (state.interrupted) return { passes: 0, failures: 1, code: 130 };

  const stamp = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
  const database = `${DB_PREFIX}${stamp}`;
  await dropStaleDatabases(svc.databaseUrl).catch((err) => warn(`could not list old test databases: ${err.message}`));
  await createDatabase(svc.databaseUrl, database);
  cleanups.push(() => dropDatabase(svc.databaseUrl, database));

  const redisPrefix = `nudgetest${crypto.randomBytes(4).toString('hex')}`;
  cleanups.push(() => redisCleanup(svc.redisUrl, redisPrefix));

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-test-'));
  const logDir = path.join(os.tmpdir(), `nudge-test-logs-${stamp}`);
  const summaryFile = path.join(tmpDir, 'summary.json');
  const secrets = generateSecrets();
  const env = {
    ...process.env,
    // Defaults a developer may override from the shell...
    BCRYPT_COST: process.env.BCRYPT_COST || '4',
    JWT_SECRET: process.env.JWT_SECRET || secrets.JWT_SECRET,
    ENCRYPTION_KEYS: process.env.ENCRYPTION_KEYS || secrets.ENCRYPTION_KEYS,
    ENCRYPTION_ACTIVE_KEY: process.env.ENCRYPTION_KEYS
      ? process.env.ENCRYPTION_ACTIVE_KEY || 'v1'
      : secrets.ENCRYPTION_ACTIVE_KEY,
    SEARCH_HASH_KEY: process.env.SEARCH_HASH_KEY || secrets.SEARCH_HASH_KEY,
    SLACK_WEBHOOK_HOSTS: process.env.SLACK_WEBHOOK_HOSTS || 'hooks.slack.com,127.0.0.1',
    // Every suite signs up from 127.0.0.1; the rate-limit suites build apps with their own low limits.
    RATE_LIMIT_REGISTER_PER_HOUR: process.env.RATE_LIMIT_REGISTER_PER_HOUR || '100000',
    RATE_LIMIT_FORGOT_PER_HOUR: process.env.RATE_LIMIT_FORGOT_PER_HOUR || '100000',
    RATE_LIMIT_LOGIN_IP_PER_DAY: process.env.RATE_LIMIT_LOGIN_IP_PER_DAY || '100000',
    RATE_LIMIT_RESET_PER_HOUR: process.env.RATE_LIMIT_RESET_PER_HOUR || '100000',
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
    // ...and what the run itself decides.
    ENV: 'test',
    DATABASE_URL: withDatabase(svc.databaseUrl, database),
    REDIS_URL: svc.redisUrl,
    REDIS_PREFIX: redisPrefix,
    LOG_DIR: logDir,
    NUDGE_TEST_SUMMARY: summaryFile,
  };
  log(`PostgreSQL: ${redact(env.DATABASE_URL)}${svc.started.postgres ? ' (private)' : ''}`);
  log(`Redis: ${redact(svc.redisUrl)} prefix ${redisPrefix}${svc.started.redis ? ' (private)' : ''}`);

  const migrate = await runInherit('npm', ['run', '--silent', 'db:migrate'], { env, onChild: (c) => (state.step = c) });
  if (state.interrupted) return { passes: 0, failures: 1, code: 130 };
  if (migrate !== 0) {
    warn(`npm run db:migrate failed (exit ${migrate})`);
    return { passes: 0, failures: 1, code: migrate, logDir };
  }

  const args = [MOCHA, '--reporter', REPORTER, ...specArgs(extraArgs, tmpDir), ...extraArgs];
  const code = await runInherit(process.execPath, args, { env, onChild: (c) => (state.step = c) });
  let summary = null;
  try {
    summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8'));
  } catch {
    warn('mocha ended without a summary (it crashed, or a suite failed to load): counted as a failure');
  }
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const passes = summary?.passes ?? 0;
  // A crash before the summary, or a non-zero exit with no failed test, still counts as one failure.
  const failures = Math.max(summary?.failures ?? 0, !summary || code !== 0 ? 1 : 0);
  return { passes, failures, code, logDir };
}

async function main() {
  const cleanups = [];
  let result;
  try {
    result = await runTests(cleanups, process.argv.slice(2));
  } catch (err) {
    warn(err?.stack || String(err));
    result = { passes: 0, failures: 1, code: 1 };
  }
  // Newest first: drop the database and the Redis keys before stopping the servers they live on.
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      warn(`cleanup: ${err.message}`);
    }
  }
  if (result.logDir && fs.existsSync(result.logDir)) {
    if (result.failures) log(`application logs of this run: ${result.logDir}`);
    else fs.rmSync(result.logDir, { recursive: true, force: true });
  }
  // Always the very last line.
  process.stdout.write(`${result.passes} passed, ${result.failures} failed\n`);
  process.exit(result.failures > 0 || result.code !== 0 ? 1 : 0);
}

await main();
