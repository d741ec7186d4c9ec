// The production build: `tsup` bundles (what the Procfile, npm start and the Docker image run) work with plain
// `node`, no TypeScript loader. Built into a folder of its own, so a running `npm start` keeps its dist/.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { verifyPassword } from '@nudge/crypto';
import { findUserByEmail } from '@nudge/db';
import {
  createPrivateDatabase,
  freePort,
  repoRoot,
  spawnNode,
  waitFor,
  type PrivateDatabase,
  type Spawned,
} from '@nudge/testing';

const TSUP = path.join(repoRoot, 'node_modules', 'tsup', 'dist', 'cli-default.js');
const TS_MIGRATIONS = path.join(repoRoot, 'packages', 'db', 'src', 'migrations');
const WORKERS = ['birthdays', 'reminders', 'billing'];

describe('the production build', function () {
  this.timeout(180_000);
  let outDir: string;
  let priv: PrivateDatabase;

  // The children get the suite's environment minus any inherited loader, and this suite's database.
  const env = (extra: Record<string, string> = {}) => {
    const { NODE_OPTIONS: _loader, ...rest } = process.env;
    return { ...rest, DATABASE_URL: priv.url, LOG_LEVEL: 'info', ...extra };
  };
  const run = (name: string, args: string[] = [], extra: Record<string, string> = {}) =>
    spawnNode([path.join(outDir, `${name}.js`), ...args], env(extra));

  before(async () => {
    outDir = path.join(repoRoot, '.cache', `dist-test-${randomBytes(4).toString('hex')}`);
    const build = spawnNode([TSUP, '--out-dir', outDir, '--silent'], process.env);
    expect(await build.exited, build.output()).to.equal(0);
    priv = await createPrivateDatabase('nudge_build', { migrate: false });
  });

  after(async () => {
    rmSync(outDir, { recursive: true, force: true });
    await priv?.drop();
  });

  it('builds every file the Procfile, the Dockerfile and docker-compose.yml run', () => {
    const named = ['Procfile', 'Dockerfile', 'docker-compose.yml'].flatMap((file) =>
      [...readFileSync(path.join(repoRoot, file), 'utf8').matchAll(/\bdist\/([\w.-]+\.m?js)\b/g)].map(
        (m) => m[1] as string,
      ),
    );
    const expected = ['web.js', 'birthdays.js', 'reminders.js', 'billing.js', 'migrate.js', 'seed-admin.js'];
    expect([...new Set(named)]).to.include.members(expected);
    for (const file of [...named, 'hash.worker.mjs']) expect(existsSync(path.join(outDir, file)), file).to.equal(true);
  });

  it('migrates an empty database from JavaScript, recording the names the TypeScript migrations have', async () => {
    const first = run('migrate');
    expect(await first.exited, first.output()).to.equal(0);
    const recorded = await priv.db('knex_migrations').orderBy('id').pluck<string[]>('name');
    const sources = readdirSync(TS_MIGRATIONS)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    expect(recorded).to.deep.equal(sources);
    // The development CLI's view of the same database: nothing left to run.
    const [, pending] = (await priv.db.migrate.latest()) as [number, string[]];
    expect(pending).to.deep.equal([]);
    const again = run('migrate');
    expect(await again.exited, again.output()).to.equal(0);
    expect(again.output()).to.include('Already up to date');
  });

  it('seeds the admin, hashing on the bcrypt worker thread shipped beside the bundle', async () => {
    const email = `build-admin-${randomBytes(4).toString('hex')}@example.com`;
    const seed = run('seed-admin', [], { ADMIN_EMAIL: email, ADMIN_PASSWORD: 'fake-admin-password-1' });
    expect(await seed.exited, seed.output()).to.equal(0);
    const admin = await findUserByEmail(priv.db, email);
    expect(admin?.is_superuser).to.equal(true);
    expect(await verifyPassword('fake-admin-password-1', admin?.password_hash ?? '')).to.equal(true);
  });

  it('runs the API and every worker process, each stopping cleanly on SIGTERM', async () => {
    const port = await freePort();
    const web = run('web', [], { PORT: String(port) });
    const workers = WORKERS.map((name) => run(name));
    const all: Spawned[] = [web, ...workers];
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200,
        { timeoutMs: 90_000, everyMs: 250, what: `the bundled API on ${port}: ${web.output()}` },
      );
      for (const [i, w] of workers.entries())
        await waitFor(() => w.output().includes(`${WORKERS[i]} worker consuming`), {
          timeoutMs: 90_000,
          what: `the bundled ${WORKERS[i]} process`,
        });
    } finally {
      for (const p of all) p.child.kill('SIGTERM');
    }
    for (const p of all) expect(await p.exited, p.output()).to.equal(0);
  });
});
