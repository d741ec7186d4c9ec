#!/usr/bin/env node
// PostgreSQL and Redis for `npm start` and `npm test`: use the ones DATABASE_URL / REDIS_URL point at when they
// answer, otherwise start private instances from the machine's packages (installing them with apt-get when we are
// root), on free ports, in folders under the system temp directory.
//
// Plain Node on purpose: this runs before `npm install`, so it may import nothing from node_modules (the one
// exception is a lazy `pg` fallback for machines without psql, used only after the install has happened).
//
// CLI: `node scripts/services.mjs --check` prints what it found or started, as JSON, then stops what it started.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const PRIVATE_DIR = /^nudge-(pg|redis)-\d+$/;
const OWNER_FILE = 'nudge-owner.pid';
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const defaultLog = (msg) => process.stderr.write(`[services] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Small process and network helpers
// ---------------------------------------------------------------------------------------------------------------

/**
 * Runs a command and collects its output. Never rejects: a missing binary comes back as code 127.
 * `asUser` runs it through runuser (we only do that as root, for PostgreSQL, which refuses to run as root).
 */
export function run(cmd, args = [], { env = process.env, timeout = 120000, asUser = null, cwd } = {}) {
  const [file, argv] = asUser ? ['runuser', ['-u', asUser, '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    let child;
    const done = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout, stderr, ...result });
    };
    try {
      child = spawn(file, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: 127, signal: null, stdout, stderr: String(err.message) });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ code: null, signal: 'SIGKILL', timedOut: true });
    }, timeout);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => done({ code: 127, signal: null, error: err, stderr: stderr + String(err.message) }));
    // A daemonising command (pg_ctl start, redis-server --daemonize) can leave a grandchild holding our pipes, so
    // 'close' may never come: settle on 'exit' and give the pipes a moment to drain.
    child.on('exit', (code, signal) => setTimeout(() => done({ code, signal }), 300));
    child.on('close', (code, signal) => done({ code, signal }));
  });
}

/** The first executable called `name` on PATH, or null. */
export function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** A port nothing listens on right now (the kernel picks it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to host:port succeeds within `timeout` ms. */
export function canConnect(host, port, timeout = 1500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const finish = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeout, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function waitUntil(fn, { timeout = 15000, every = 100 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await sleep(every);
  }
}

/** The URL with its password replaced, for messages. */
export function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

const tail = (text, lines = 15) =>
  String(text || '')
    .trim()
    .split('\n')
    .slice(-lines)
    .join('\n');
const hostOf = (u) => (u.hostname || '127.0.0.1').replace(/^\[(.*)\]$/, '$1');

// ---------------------------------------------------------------------------------------------------------------
// Installing binaries
// ---------------------------------------------------------------------------------------------------------------

let aptUpdated = null; // one `apt-get update` per process, shared by both services

async function aptInstall(pkg, log) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    aptUpdated = run('apt-get', ['update'], { env, timeout: 600000 });
  }
  const update = await aptUpdated;
  if (update.code !== 0) throw new Error(`apt-get update failed:\n${tail(update.stderr || update.stdout)}`);
  log(`apt-get install -y ${pkg}`);
  const r = await run('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env, timeout: 900000 });
  if (r.code !== 0) throw new Error(`apt-get install ${pkg} failed:\n${tail(r.stderr || r.stdout)}`);
}

/**
 * Finds a binary with `find()`, installing Debian's `pkg` when it is missing and we may (root, not production).
 * Otherwise the error names the package to install.
 */
async function requireBinary(what, pkg, find, { production, log }) {
  const found = find();
  if (found) return found;
  if (production) throw new Error(`${what} is not available, and in production nothing is installed or started`);
  if (!isRoot() || !which('apt-get')) {
    throw new Error(
      `${what} is not installed: install the Debian package "${pkg}" (sudo apt-get install ${pkg}), or point the URL variable at a running server`,
    );
  }
  await aptInstall(pkg, log);
  const after = find();
  if (!after) throw new Error(`${what} is still missing after apt-get install ${pkg}`);
  return after;
}

/** initdb, pg_ctl and psql from the newest /usr/lib/postgresql/<version>/bin, else from PATH. */
function findPostgresBinaries() {
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))
      .sort((a, b) => parseFloat(b) - parseFloat(a));
    if (versions.length) {
      const bin = `/usr/lib/postgresql/${versions[0]}/bin`;
      return { initdb: `${bin}/initdb`, pg_ctl: `${bin}/pg_ctl`, psql: which('psql') || `${bin}/psql` };
    }
  } catch {
    // not a Debian layout
  }
  const initdb = which('initdb');
  const pgCtl = which('pg_ctl');
  return initdb && pgCtl ? { initdb, pg_ctl: pgCtl, psql: which('psql') } : null;
}

function findPsql() {
  const own = which('psql');
  if (own) return own;
  const bins = findPostgresBinaries();
  return bins && bins.psql && fs.existsSync(bins.psql) ? bins.psql : null;
}

const findRedisServer = () =>
  which('redis-server') || ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((f) => fs.existsSync(f)) || null;

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL queries (psql when present; the `pg` package as a fallback once node_modules exists)
// ---------------------------------------------------------------------------------------------------------------

/** libpq takes the password from PGPASSWORD, so it does not show in `ps`. */
function psqlTarget(url) {
  const u = new URL(url);
  const password = decodeURIComponent(u.password || '');
  u.password = '';
  const env = { ...process.env, PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT || '5' };
  if (password) env.PGPASSWORD = password;
  return { conninfo: u.toString(), env };
}

/**
 * Runs one SQL statement and returns the output lines (unaligned, tuples only: columns joined by "|").
 * Throws with the server's message on failure.
 */
export async function sql(databaseUrl, query) {
  const psql = findPsql();
  if (psql) {
    const { conninfo, env } = psqlTarget(databaseUrl);
    const r = await run(psql, ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', query], {
      env,
      timeout: 60000,
    });
    if (r.code !== 0) throw new Error(tail(r.stderr) || `psql exited with ${r.code}`);
    return r.stdout.split('\n').filter((line) => line !== '');
  }
  let pg;
  try {
    pg = (await import('pg')).default;
  } catch {
    throw new Error(
      'psql is not installed (Debian package "postgresql-client") and the pg package is not installed yet',
    );
  }
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const result = await client.query({ text: query, rowMode: 'array' });
    return (result.rows || []).map((row) => row.map((v) => (v === null ? '' : String(v))).join('|'));
  } finally {
    await client.end();
  }
}

/** The URL with its database (path) replaced; query parameters and credentials are kept. */
export function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** The database name in a PostgreSQL URL (libpq's default is the user name; we default to "postgres"). */
export function databaseOf(url) {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name || 'postgres';
}

// Database names are interpolated into SQL, so only plain identifiers are accepted.
function identifier(name) {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name))
    throw new Error(`not a plain database name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export async function listDatabases(databaseUrl) {
  return sql(
    withDatabase(databaseUrl, 'postgres'),
    'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1',
  );
}

/** Creates the database unless it exists. Answers whether it created it. */
export async function createDatabase(databaseUrl, name) {
  const admin = withDatabase(databaseUrl, 'postgres');
  if ((await listDatabases(admin)).includes(name)) return false;
  try {
    await sql(admin, `CREATE DATABASE ${identifier(name)}`);
    return true;
  } catch (err) {
    if (/already exists/.test(err.message)) return false; // a concurrent creator won
    throw err;
  }
}

/** Drops the database if it exists, disconnecting its sessions (PostgreSQL 13+; plain DROP before that). */
export async function dropDatabase(databaseUrl, name) {
  const admin = withDatabase(databaseUrl, 'postgres');
  try {
    await sql(admin, `DROP DATABASE IF EXISTS ${identifier(name)} WITH (FORCE)`);
  } catch (err) {
    if (!/syntax error/.test(err.message)) throw err;
    await sql(admin, `DROP DATABASE IF EXISTS ${identifier(name)}`);
  }
}

/**
 * Whether PostgreSQL at `url` answers: TCP first, then `SELECT 1` through psql when psql exists.
 * `answered` says the server was reached even if it refused us (credentials); `missingDatabase` says the server
 * works but the URL's database does not exist yet.
 */
export async function probePostgres(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, answered: false, reason: 'not a URL' };
  }
  const host = hostOf(u);
  const port = Number(u.port || 5432);
  if (!(await canConnect(host, port)))
    return { ok: false, answered: false, reason: `nothing answers on ${host}:${port}` };
  if (!findPsql()) return { ok: true, checked: 'tcp' };
  try {
    await sql(url, 'SELECT 1');
    return { ok: true, checked: 'psql' };
  } catch (err) {
    if (/database ".*" does not exist/.test(err.message)) return { ok: true, checked: 'psql', missingDatabase: true };
    return { ok: false, answered: true, reason: err.message };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A minimal Redis (RESP2) client: enough for PING, AUTH, SELECT, SCAN, DEL and SHUTDOWN
// ---------------------------------------------------------------------------------------------------------------

class RedisError extends Error {}

// Parses one reply at `at`; null when the buffer does not hold all of it yet. Bulk strings stay Buffers, so binary
// key names survive a SCAN-then-DEL round trip.
function parseReply(buf, at) {
  if (at >= buf.length) return null;
  const end = buf.indexOf('\r\n', at);
  if (end < 0) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new RedisError(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.subarray(next, next + n), next: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      const items = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return null;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new RedisError(`unexpected reply type ${JSON.stringify(type)}`);
  }
}

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const b = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * Opens a connection to `url` (redis:// or rediss://), authenticates and selects the URL's database.
 * Returns { command(...args) -> reply, close() }. Error replies reject with RedisError.
 */
export async function redisConnect(url, { timeout = 5000 } = {}) {
  const u = new URL(url);
  const host = hostOf(u);
  const port = Number(u.port || 6379);
  const socket = await new Promise((resolve, reject) => {
    const options = { host, port, servername: net.isIP(host) ? undefined : host };
    const s = u.protocol === 'rediss:' ? tls.connect(options) : net.connect(options);
    s.setTimeout(timeout, () => s.destroy(new Error(`Redis at ${host}:${port} timed out`)));
    s.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => resolve(s));
    s.once('error', reject);
  });
  let buffer = Buffer.alloc(0);
  const pending = [];
  let failure = null;
  const failAll = (err) => {
    failure = failure || err;
    while (pending.length) pending.shift().reject(failure);
  };
  socket.on('data', (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    try {
      for (;;) {
        const reply = parseReply(buffer, 0);
        if (!reply) break;
        buffer = buffer.subarray(reply.next);
        const waiter = pending.shift();
        if (!waiter) continue;
        if (reply.value instanceof RedisError) waiter.reject(reply.value);
        else waiter.resolve(reply.value);
      }
    } catch (err) {
      socket.destroy(err);
    }
  });
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error('Redis connection closed')));

  const command = (...args) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      pending.push({ resolve, reject });
      socket.write(encodeCommand(args));
    });
  const close = () => {
    failure = failure || new Error('closed');
    socket.destroy();
  };
  try {
    const user = decodeURIComponent(u.username || '');
    const password = decodeURIComponent(u.password || '');
    if (password) await (user ? command('AUTH', user, password) : command('AUTH', password));
    const db = Number(u.pathname.replace(/^\//, '') || 0);
    if (db) await command('SELECT', db);
  } catch (err) {
    close();
    throw err;
  }
  return { command, close };
}

/** Whether Redis at `url` answers PING with PONG (after AUTH/SELECT from the URL). */
export async function probeRedis(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, answered: false, reason: 'not a URL' };
  }
  const host = hostOf(u);
  const port = Number(u.port || 6379);
  if (!(await canConnect(host, port)))
    return { ok: false, answered: false, reason: `nothing answers on ${host}:${port}` };
  let conn;
  try {
    conn = await redisConnect(url);
    const pong = await conn.command('PING');
    return pong === 'PONG'
      ? { ok: true, checked: 'ping' }
      : { ok: false, answered: true, reason: `PING answered ${pong}` };
  } catch (err) {
    return { ok: false, answered: true, reason: err.message };
  } finally {
    conn?.close();
  }
}

/** Deletes every key starting with `prefix` (SCAN + DEL). Answers how many were deleted. */
export async function redisCleanup(redisUrl, prefix) {
  if (!prefix) throw new Error('redisCleanup needs a non-empty prefix');
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const conn = await redisConnect(redisUrl);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await conn.command('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = String(next);
      if (keys.length) deleted += await conn.command('DEL', ...keys);
    } while (cursor !== '0');
  } finally {
    conn.close();
  }
  return deleted;
}

// ---------------------------------------------------------------------------------------------------------------
// Private instances
// ---------------------------------------------------------------------------------------------------------------

let privateRootCache = null;

/**
 * Where private folders go: the system temp directory, unless we are root and the postgres user cannot reach it
 * (TMPDIR inside /root, say), then /tmp.
 */
async function privateRoot() {
  if (privateRootCache) return privateRootCache;
  let dir = os.tmpdir();
  if (isRoot() && dir !== '/tmp') {
    const r = await run('test', ['-w', dir, '-a', '-x', dir], { asUser: 'postgres', timeout: 10000 });
    if (r.code !== 0) dir = '/tmp';
  }
  privateRootCache = dir;
  return dir;
}

function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const readPid = (file) => {
  try {
    return parseInt(fs.readFileSync(file, 'utf8').split('\n')[0], 10);
  } catch {
    return NaN;
  }
};

/**
 * Stops and removes private instances whose owning process is gone (a run that was killed with SIGKILL), so they
 * do not pile up in the temp directory. Instances of a live owner are left alone.
 */
async function sweepOrphans(log) {
  const root = await privateRoot();
  let entries = [];
  try {
    entries = fs.readdirSync(root).filter((name) => PRIVATE_DIR.test(name));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = path.join(root, name);
    const owner = readPid(path.join(dir, OWNER_FILE));
    if (pidAlive(owner)) continue;
    if (Number.isNaN(owner)) {
      // No owner file yet: maybe a run that is creating it right now. Only old ones are orphans.
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs < 3600e3) continue;
      } catch {
        continue;
      }
    }
    log(`removing orphaned ${dir}`);
    if (name.startsWith('nudge-pg-')) {
      const bins = findPostgresBinaries();
      if (bins && fs.existsSync(path.join(dir, 'data', 'postmaster.pid'))) {
        await run(bins.pg_ctl, ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', '-t', '10', 'stop'], {
          asUser: isRoot() ? 'postgres' : null,
          timeout: 20000,
        });
      }
    } else {
      const pid = readPid(path.join(dir, 'redis.pid'));
      if (pidAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function makePrivateDir(root, kind, port) {
  const dir = path.join(root, `nudge-${kind}-${port}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, OWNER_FILE), `${process.pid}\n`);
  return dir;
}

// Durability settings are off: this cluster is thrown away when we stop, and tests run much faster.
function pgCtlStart(pg) {
  const options = `-p ${pg.port} -k ${pg.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const logFile = path.join(pg.dir, 'log');
  return run(pg.bins.pg_ctl, ['-D', pg.data, '-o', options, '-l', logFile, '-w', '-t', '60', 'start'], {
    asUser: pg.asUser,
    timeout: 90000,
  });
}

/**
 * Starts a private PostgreSQL (initdb in a new folder, on a free port). Answers the instance that stopPostgres and
 * resumePostgres take.
 */
export async function startPostgres({ production = false, log = defaultLog } = {}) {
  const bins = await requireBinary('PostgreSQL (initdb, pg_ctl)', 'postgresql', findPostgresBinaries, {
    production,
    log,
  });
  const root = await privateRoot();
  const asUser = isRoot() ? 'postgres' : null; // initdb and postgres refuse to run as root
  let lastError;
  // Up to three ports: another process may take the free port between our probe and the server's bind.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = makePrivateDir(root, 'pg', port);
    const data = path.join(dir, 'data');
    if (asUser) {
      const chown = await run('chown', ['-R', asUser, dir]);
      if (chown.code !== 0) throw new Error(`chown ${asUser} ${dir} failed: ${tail(chown.stderr)}`);
    }
    log(`starting a private PostgreSQL on 127.0.0.1:${port} in ${dir}`);
    // --no-locale -E UTF8: the same encoding whatever LANG the machine has. --no-sync: a throwaway cluster.
    const init = await run(
      bins.initdb,
      ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
      { asUser, timeout: 120000 },
    );
    if (init.code !== 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed:\n${tail(init.stderr || init.stdout)}`);
    }
    const pg = {
      host: '127.0.0.1',
      port,
      dir,
      data,
      asUser,
      bins,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    };
    const logFile = path.join(dir, 'log');
    const start = await pgCtlStart(pg);
    if (start.code === 0) return pg;
    let serverLog = '';
    try {
      serverLog = fs.readFileSync(logFile, 'utf8');
    } catch {
      // no log written
    }
    lastError = new Error(`pg_ctl start failed:\n${tail(start.stderr || start.stdout)}\n${tail(serverLog)}`);
    await run(bins.pg_ctl, ['-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop'], { asUser, timeout: 20000 });
    fs.rmSync(dir, { recursive: true, force: true });
    if (!/already in use|could not bind|could not create any TCP/i.test(serverLog)) break;
  }
  throw lastError;
}

/**
 * Stops a private PostgreSQL (`mode` fast, falling back to immediate; or immediate at once, as a crash would) and
 * removes its folder, unless `keep` (the fault suite starts it again with resumePostgres).
 */
export async function stopPostgres(pg, log = defaultLog, { mode = 'fast', keep = false } = {}) {
  log(`stopping the private PostgreSQL on port ${pg.port} (${mode})`);
  const stop = await run(pg.bins.pg_ctl, ['-D', pg.data, '-m', mode, '-w', '-t', '8', 'stop'], {
    asUser: pg.asUser,
    timeout: 12000,
  });
  if (stop.code !== 0 && mode !== 'immediate') {
    await run(pg.bins.pg_ctl, ['-D', pg.data, '-m', 'immediate', '-w', '-t', '5', 'stop'], {
      asUser: pg.asUser,
      timeout: 8000,
    });
  }
  if (!keep) fs.rmSync(pg.dir, { recursive: true, force: true });
}

/** Starts a private PostgreSQL stopped with `keep` again, on its port and with its data. */
export async function resumePostgres(pg, log = defaultLog) {
  log(`starting the private PostgreSQL on port ${pg.port} again`);
  const start = await pgCtlStart(pg);
  if (start.code !== 0) throw new Error(`pg_ctl start failed:\n${tail(start.stderr || start.stdout)}`);
}

/** Runs redis-server, daemonised, for an instance; answers whether it then answers PING. */
async function redisServerStart(redis) {
  const args = [
    '--port',
    String(redis.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    redis.dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'yes',
    '--pidfile',
    redis.pidfile,
    '--logfile',
    redis.logfile,
  ];
  const start = await run(redis.bin, args, { timeout: 30000 });
  const up =
    start.code === 0 && (await waitUntil(async () => (await probeRedis(redis.url)).ok, { timeout: 10000, every: 100 }));
  return { up, start };
}

/**
 * Starts a private redis-server (AOF on, noeviction) in a new folder on a free port. Answers the instance that
 * stopRedis and resumeRedis take.
 */
export async function startRedis({ production = false, log = defaultLog } = {}) {
  const bin = await requireBinary('redis-server', 'redis-server', findRedisServer, { production, log });
  const root = await privateRoot();
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = makePrivateDir(root, 'redis', port);
    const pidfile = path.join(dir, 'redis.pid');
    const logfile = path.join(dir, 'redis.log');
    log(`starting a private Redis on 127.0.0.1:${port} in ${dir}`);
    const redis = { host: '127.0.0.1', port, dir, pidfile, logfile, bin, url: `redis://127.0.0.1:${port}` };
    const { up, start } = await redisServerStart(redis);
    if (up) return redis;
    let serverLog = '';
    try {
      serverLog = fs.readFileSync(logfile, 'utf8');
    } catch {
      // no log written
    }
    lastError = new Error(`redis-server did not start:\n${tail(start.stderr || start.stdout)}\n${tail(serverLog)}`);
    const pid = readPid(pidfile);
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    if (!/in use|bind/i.test(serverLog)) break;
  }
  throw lastError;
}

/**
 * Stops a private Redis (SHUTDOWN, which flushes the append-only file; SIGKILL if it lingers) and removes its folder,
 * unless `keep` (the fault suite starts it again with resumeRedis, from its AOF).
 */
export async function stopRedis(redis, log = defaultLog, { keep = false } = {}) {
  log(`stopping the private Redis on port ${redis.port}`);
  const pid = readPid(redis.pidfile);
  try {
    const conn = await redisConnect(redis.url, { timeout: 3000 });
    // The server closes the connection instead of answering a successful SHUTDOWN.
    await conn.command('SHUTDOWN', 'NOSAVE').catch(() => {});
    conn.close();
  } catch {
    // not answering: fall through to the pid
  }
  let gone = await waitUntil(async () => !(await canConnect('127.0.0.1', redis.port, 500)) && !pidAlive(pid), {
    timeout: 5000,
  });
  if (!gone && pidAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    gone = await waitUntil(() => !pidAlive(pid), { timeout: 3000 });
  }
  if (!keep) fs.rmSync(redis.dir, { recursive: true, force: true });
}

/** Starts a private Redis stopped with `keep` again, on its port, loading its append-only file. */
export async function resumeRedis(redis, log = defaultLog) {
  log(`starting the private Redis on port ${redis.port} again`);
  const { up, start } = await redisServerStart(redis);
  if (!up) throw new Error(`redis-server did not start again:\n${tail(start.stderr || start.stdout)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The entry point
// ---------------------------------------------------------------------------------------------------------------

/**
 * Makes sure PostgreSQL and Redis answer.
 *
 * - `databaseUrl` / `redisUrl`: what the caller was configured with (undefined: try 127.0.0.1:5432 as postgres,
 *   127.0.0.1:6379). When it answers, it is used as is.
 * - Otherwise a private instance is started (see the top of this file), unless `production` (default:
 *   process.env.ENV === 'production'), where a missing service is an error.
 *
 * Returns { databaseUrl, redisUrl, started: { postgres, redis }, postgres, redis, stop }. A private PostgreSQL's URL
 * names the `postgres` database: callers choose theirs (createDatabase + withDatabase). `stop()` stops only what
 * was started here, and is safe to call twice.
 */
export async function ensureServices({
  databaseUrl,
  redisUrl,
  log = defaultLog,
  production = process.env.ENV === 'production',
} = {}) {
  const started = { postgres: false, redis: false };
  let pg = null;
  let redis = null;
  let stopping = null;
  const stop = () => {
    stopping ??= Promise.allSettled([pg && stopPostgres(pg, log), redis && stopRedis(redis, log)]).then(() => {});
    return stopping;
  };

  if (!production) await sweepOrphans(log).catch((err) => log(`could not sweep old private instances: ${err.message}`));

  try {
    // The same rule for both services: use what answers; start a private one only when nothing does.
    const useOrStart = async (name, given, fallback, probe, start) => {
      const wanted = given || fallback;
      const found = await probe(wanted);
      if (found.ok) return { url: wanted, probe: found, instance: null };
      const why = found.answered
        ? `${name} at ${redact(wanted)} answers but refuses us (${found.reason})`
        : `${name} at ${redact(wanted)} does not answer (${found.reason})`;
      if (production) throw new Error(`${why}; in production nothing is started`);
      // A server that answers but refuses the configured credentials is a configuration mistake to report, not
      // a reason to quietly use another one.
      if (given && found.answered) throw new Error(why);
      log(`${why}: starting a private one`);
      const instance = await start({ production, log });
      return { url: instance.url, probe: found, instance };
    };

    const pgUse = await useOrStart('PostgreSQL', databaseUrl, DEFAULT_DATABASE_URL, probePostgres, startPostgres);
    pg = pgUse.instance;
    started.postgres = !!pg;
    const redisUse = await useOrStart('Redis', redisUrl, DEFAULT_REDIS_URL, probeRedis, startRedis);
    redis = redisUse.instance;
    started.redis = !!redis;
    const pgProbe = pgUse.probe;
    const finalDatabaseUrl = pgUse.url;
    const finalRedisUrl = redisUse.url;

    return {
      databaseUrl: finalDatabaseUrl,
      redisUrl: finalRedisUrl,
      started,
      // Whether the URL's own database is missing on a server we did not start (callers may create it).
      missingDatabase: !started.postgres && !!pgProbe.missingDatabase,
      postgres: pg ? { host: pg.host, port: pg.port, dir: pg.dir } : null,
      redis: redis ? { host: redis.host, port: redis.port, dir: redis.dir } : null,
      stop,
    };
  } catch (err) {
    await stop(); // whatever did start before the failure
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------------

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (!args.includes('--check')) {
    process.stderr.write('usage: node scripts/services.mjs --check\n');
    process.exit(2);
  }
  try {
    const svc = await ensureServices({ databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL });
    const report = {
      databaseUrl: redact(svc.databaseUrl),
      redisUrl: redact(svc.redisUrl),
      started: svc.started,
      missingDatabase: svc.missingDatabase,
      postgres: { ...svc.postgres, probe: await probePostgres(svc.databaseUrl) },
      redis: { ...svc.redis, probe: await probeRedis(svc.redisUrl) },
    };
    console.log(JSON.stringify(report, null, 2));
    await svc.stop();
  } catch (err) {
    process.stderr.write(`[services] ${err.message}\n`);
    process.exit(1);
  }
}
