// How `npm start` and `npm test` install: a fresh checkout must install exactly the committed lockfile (`npm ci`),
// and that lockfile must be one `npm ci` accepts, or every fresh machine rewrites it and compose's release step stops.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

interface Common {
  installPlan(root: string): { command: 'ci' | 'install'; reason: string } | null;
  ROOT: string;
}

const commonUrl = new URL('../../scripts/common.mjs', import.meta.url).href;
const run = promisify(execFile);

function touch(file: string, secondsAgo: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, '{}');
  const t = new Date(Date.now() - secondsAgo * 1000);
  fs.utimesSync(file, t, t);
}

describe('scripts/common.mjs installPlan', function () {
  let common: Common;
  let root: string;

  before(async function () {
    common = (await import(commonUrl)) as Common;
  });
  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-install-'));
    touch(path.join(root, 'package.json'), 100);
    touch(path.join(root, 'package-lock.json'), 100);
    touch(path.join(root, 'packages', 'db', 'package.json'), 100);
  });
  afterEach(function () {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('installs with npm ci when node_modules is missing', function () {
    expect(common.installPlan(root)).to.deep.equal({ command: 'ci', reason: 'node_modules is missing' });
  });

  it('installs with npm ci when only the lockfile moved since the last install (a pull)', function () {
    touch(path.join(root, 'node_modules', '.package-lock.json'), 200);
    fs.utimesSync(path.join(root, 'package.json'), new Date(Date.now() - 300e3), new Date(Date.now() - 300e3));
    fs.utimesSync(path.join(root, 'packages', 'db', 'package.json'), new Date(0), new Date(0));
    expect(common.installPlan(root)?.command).to.equal('ci');
  });

  it('installs with npm install when a workspace package.json was edited since the last install', function () {
    touch(path.join(root, 'node_modules', '.package-lock.json'), 50);
    touch(path.join(root, 'packages', 'db', 'package.json'), 10);
    expect(common.installPlan(root)).to.deep.equal({
      command: 'install',
      reason: `${path.join('packages', 'db', 'package.json')} changed since the last install`,
    });
  });

  it('installs nothing when node_modules is newer than every manifest', function () {
    touch(path.join(root, 'node_modules', '.package-lock.json'), 1);
    expect(common.installPlan(root)).to.equal(null);
  });
});

describe('package-lock.json', function () {
  this.timeout(120_000);

  it('is accepted by npm ci as committed', async function () {
    const common = (await import(commonUrl)) as Common;
    // A copy of the manifests only: npm ci checks that the lockfile matches them before it installs anything.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-lock-'));
    try {
      const files = ['package.json', 'package-lock.json'];
      for (const group of ['apps', 'packages']) {
        for (const name of fs.readdirSync(path.join(common.ROOT, group))) {
          const manifest = path.join(group, name, 'package.json');
          if (fs.existsSync(path.join(common.ROOT, manifest))) files.push(manifest);
        }
      }
      for (const file of files) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(path.join(common.ROOT, file), path.join(dir, file));
      }
      const { stdout } = await run(
        'npm',
        ['ci', '--dry-run', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
        { cwd: dir, env: { ...process.env, npm_config_loglevel: 'error' } },
      );
      expect(stdout).to.match(/added \d+ packages/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
