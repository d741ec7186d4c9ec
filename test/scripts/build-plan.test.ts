// When `npm start` rebuilds dist/: it runs the bundles, so a source newer than the last build must never run stale.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

interface Common {
  buildPlan(root: string): { reason: string } | null;
}

const commonUrl = new URL('../../scripts/common.mjs', import.meta.url).href;

function touch(file: string, secondsAgo: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, '');
  const t = new Date(Date.now() - secondsAgo * 1000);
  fs.utimesSync(file, t, t);
}

describe('scripts/common.mjs buildPlan', function () {
  let common: Common;
  let root: string;

  before(async function () {
    common = (await import(commonUrl)) as Common;
  });
  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-build-'));
    for (const f of ['package.json', 'tsconfig.json', 'tsup.config.ts', 'apps/api/package.json'])
      touch(path.join(root, f), 100);
    touch(path.join(root, 'apps', 'api', 'src', 'routes', 'health.router.ts'), 100);
    touch(path.join(root, 'packages', 'db', 'src', 'migrations', '20260101_x.ts'), 100);
  });
  afterEach(function () {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('builds when dist/ is missing', function () {
    expect(common.buildPlan(root)?.reason).to.match(/dist\/ is missing/);
  });

  it('builds when dist/ exists but no build finished in it (no stamp)', function () {
    touch(path.join(root, 'dist', 'web.js'), 10);
    expect(common.buildPlan(root)?.reason).to.match(/never completely built/);
  });

  it('does not build when every source is older than the last build', function () {
    touch(path.join(root, 'dist', '.build-stamp'), 50);
    expect(common.buildPlan(root)).to.equal(null);
  });

  it('builds when a source file deep in a src/ folder changed since the build, and names it', function () {
    touch(path.join(root, 'dist', '.build-stamp'), 50);
    touch(path.join(root, 'packages', 'db', 'src', 'migrations', '20260101_x.ts'), 10);
    expect(common.buildPlan(root)).to.deep.equal({
      reason: `${path.join('packages', 'db', 'src', 'migrations', '20260101_x.ts')} changed since the build`,
    });
  });

  it('builds when the build settings changed since the build', function () {
    touch(path.join(root, 'dist', '.build-stamp'), 50);
    touch(path.join(root, 'tsup.config.ts'), 10);
    expect(common.buildPlan(root)?.reason).to.equal('tsup.config.ts changed since the build');
  });
});
