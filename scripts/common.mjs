// Pieces shared by scripts/start.mjs and scripts/test.mjs. Plain Node only: these run before `npm install`.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
};

/**
 * What install is needed, or null: `{ command: 'ci' | 'install', reason }`.
 *
 * npm writes node_modules/.package-lock.json on every install, after package-lock.json, so comparing their times
 * tells whether the manifests changed since the last install. A fresh checkout, or a lockfile that moved (a pull),
 * installs with `npm ci`: exactly what the lockfile says, and it never rewrites a tracked file. Only a package.json
 * edited since the last install runs `npm install`, whose point is then to update the lockfile.
 */
export function installPlan(root = ROOT) {
  if (!fs.existsSync(path.join(root, 'node_modules'))) return { command: 'ci', reason: 'node_modules is missing' };
  const installed = mtime(path.join(root, 'node_modules', '.package-lock.json'));
  if (installed === null) return { command: 'ci', reason: 'node_modules/.package-lock.json is missing' };
  const manifests = [path.join(root, 'package.json'), ...workspaceManifests(root)];
  for (const file of manifests) {
    const changed = mtime(file);
    if (changed !== null && changed > installed) {
      return { command: 'install', reason: `${path.relative(root, file)} changed since the last install` };
    }
  }
  const lock = mtime(path.join(root, 'package-lock.json'));
  if (lock !== null && lock > installed)
    return { command: 'ci', reason: 'package-lock.json changed since the last install' };
  return null;
}

/** The package.json of every workspace (apps/*, packages/*): editing one changes what must be installed too. */
function workspaceManifests(root) {
  const out = [];
  for (const dir of ['apps', 'packages']) {
    let names = [];
    try {
      names = fs.readdirSync(path.join(root, dir));
    } catch {
      continue;
    }
    for (const name of names) out.push(path.join(root, dir, name, 'package.json'));
  }
  return out;
}

/** Runs `npm ci` or `npm install` when needed (stdio inherited). Throws if it fails. */
export async function ensureInstalled({ log, onChild } = {}) {
  const plan = installPlan();
  if (!plan) return false;
  log?.(`${plan.reason}: npm ${plan.command}`);
  const code = await runInherit('npm', [plan.command, '--no-audit', '--no-fund'], { onChild });
  if (code !== 0) throw new Error(`npm ${plan.command} failed (exit ${code})`);
  // If npm found nothing to change it may leave the hidden lockfile as it was; touch it so the next start does not
  // install again.
  const hidden = path.join(ROOT, 'node_modules', '.package-lock.json');
  if (fs.existsSync(hidden)) {
    const now = new Date();
    fs.utimesSync(hidden, now, now);
  }
  return true;
}

// Where tsup's onSuccess (tsup.config.ts) leaves the time its build started: a source saved during a build is newer.
export const BUILD_STAMP = '.build-stamp';

/** What the bundles in dist/ are built from: every workspace's src/ and manifest, and the build's own settings. */
function buildInputs(root) {
  const out = ['package.json', 'tsconfig.json', 'tsup.config.ts'].map((f) => path.join(root, f));
  const walk = (dir) => {
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else out.push(file);
    }
  };
  for (const group of ['apps', 'packages']) {
    let names = [];
    try {
      names = fs.readdirSync(path.join(root, group));
    } catch {
      continue;
    }
    for (const name of names) {
      out.push(path.join(root, group, name, 'package.json'));
      walk(path.join(root, group, name, 'src'));
    }
  }
  return out;
}

/** Why dist/ must be built before it runs, or null when it is up to date: `{ reason }`. */
export function buildPlan(root = ROOT) {
  const built = mtime(path.join(root, 'dist', BUILD_STAMP));
  if (built === null) return { reason: 'dist/ is missing or was never completely built' };
  for (const file of buildInputs(root)) {
    const changed = mtime(file);
    if (changed !== null && changed > built) return { reason: `${path.relative(root, file)} changed since the build` };
  }
  return null;
}

/**
 * Builds dist/ with tsup when buildPlan says so. The build goes to a folder of its own and replaces dist/ only when
 * it succeeded, so a failed build leaves the last good one and processes already running keep their files.
 */
export async function ensureBuilt({ log, onChild } = {}) {
  const plan = buildPlan();
  if (!plan) return false;
  log?.(`${plan.reason}: building dist/`);
  const cache = path.join(ROOT, '.cache');
  fs.mkdirSync(cache, { recursive: true });
  const staging = path.join(cache, `dist-build-${process.pid}`);
  const tsup = path.join(ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js');
  const code = await runInherit(process.execPath, [tsup, '--out-dir', staging, '--silent'], { onChild });
  if (code !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(`the build failed (exit ${code})`);
  }
  const old = path.join(cache, `dist-old-${process.pid}`);
  const dist = path.join(ROOT, 'dist');
  if (fs.existsSync(dist)) fs.renameSync(dist, old);
  fs.renameSync(staging, dist);
  fs.rmSync(old, { recursive: true, force: true });
  return true;
}

/**
 * Parses a .env file: KEY=VALUE lines, `#` comments, optional `export `, optional matching quotes (double quotes
 * understand \n). Returns {} when the file does not exist.
 */
export function readEnvFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!m) continue;
    let value = m[2];
    const quoted = value.match(/^(['"])(.*)\1$/);
    if (quoted) value = quoted[1] === '"' ? quoted[2].replace(/\\n/g, '\n').replace(/\\"/g, '"') : quoted[2];
    else value = value.replace(/\s+#.*$/, ''); // an unquoted value ends at a comment
    out[m[1]] = value;
  }
  return out;
}

/** A spawned command with inherited stdio; resolves with its exit code (128+n for a signal, like a shell). */
export function runInherit(cmd, args, { env = process.env, onChild } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
    onChild?.(child);
    child.on('error', (err) => {
      process.stderr.write(`${cmd}: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      onChild?.(null);
      resolve(code ?? 128 + (signal ? osSignal(signal) : 0));
    });
  });
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
const osSignal = (name) => SIGNALS[name] ?? 0;

/**
 * Development secrets in the format packages/config reads: JWT_SECRET, ENCRYPTION_KEYS, ENCRYPTION_ACTIVE_KEY,
 * SEARCH_HASH_KEY.
 */
export function generateSecrets() {
  return {
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    ENCRYPTION_KEYS: `v1:${crypto.randomBytes(32).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY: 'v1',
    SEARCH_HASH_KEY: crypto.randomBytes(32).toString('hex'),
  };
}

/**
 * Makes sure .nudge/secrets.env holds JWT_SECRET, ENCRYPTION_KEYS and SEARCH_HASH_KEY, which packages/config reads when the
 * environment lacks them. Created exclusively ('wx'), so concurrent starts agree on one set of keys; tokens and
 * ciphertexts then survive restarts.
 */
export function ensureSecretsFile(log = () => {}) {
  const dir = path.join(ROOT, '.nudge');
  const file = path.join(dir, 'secrets.env');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fresh = generateSecrets();
  const lines = (keys) => keys.map((k) => `${k}=${fresh[k]}\n`).join('');
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    try {
      fs.writeSync(fd, lines(['JWT_SECRET', 'ENCRYPTION_KEYS', 'ENCRYPTION_ACTIVE_KEY', 'SEARCH_HASH_KEY']));
    } finally {
      fs.closeSync(fd);
    }
    log('generated development secrets in .nudge/secrets.env');
    return;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  // An older file may lack a key: add only what is missing, never replace a key that already encrypted data.
  const have = readEnvFile(file);
  const missing = [];
  if (!have.JWT_SECRET) missing.push('JWT_SECRET');
  if (!have.ENCRYPTION_KEYS)
    missing.push('ENCRYPTION_KEYS', ...(have.ENCRYPTION_ACTIVE_KEY ? [] : ['ENCRYPTION_ACTIVE_KEY']));
  if (!have.SEARCH_HASH_KEY) missing.push('SEARCH_HASH_KEY');
  if (missing.length) {
    const text = fs.readFileSync(file, 'utf8');
    fs.appendFileSync(file, (text && !text.endsWith('\n') ? '\n' : '') + lines(missing));
    log(`added ${missing.join(', ')} to .nudge/secrets.env`);
  }
}
