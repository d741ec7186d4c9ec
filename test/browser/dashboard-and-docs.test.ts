// The queue dashboard and the API docs in a real browser: Debian's Chromium driven by playwright-core (which never
// downloads a browser of its own), against the API started as in production behind a TLS-terminating proxy (the
// browser sends X-Forwarded-Proto: https, and 127.0.0.1 is the trusted proxy). See DEVELOPERS.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashPassword } from '@nudge/crypto';
import { getDb, insertUser } from '@nudge/db';
import { QUEUES } from '@nudge/queue';
import { freePort, repoRoot, spawnTs, waitFor, type Spawned } from '@nudge/testing';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'browser-test-password-1';
const SCREENSHOTS = path.join(repoRoot, 'test-results');

/** Debian's Chromium, installed with apt when missing and we may; otherwise the reason it is not there. */
function ensureChromium(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  if (process.getuid?.() !== 0) return `${CHROMIUM} is missing and only root may install it (apt-get install chromium)`;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', 'chromium'], { env, stdio: 'ignore' }).status;
  // A fresh machine has no package lists yet.
  if (install() !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env, stdio: 'ignore' });
    install();
  }
  return fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing and apt-get install chromium failed`;
}

describe('the queue dashboard and the API docs in Chromium', function () {
  this.timeout(120_000);
  let api: Spawned | undefined;
  let browser: Browser | undefined;
  let base = '';
  let email = '';

  before(async function () {
    const missing = ensureChromium();
    if (missing) {
      process.stdout.write(`      skipped: ${missing}\n`);
      this.skip();
    }
    email = `browser-${Date.now().toString(36)}@example.com`;
    await insertUser(getDb(), {
      email,
      password_hash: await hashPassword(PASSWORD, 4),
      is_superuser: true,
      date_of_birth: '1980-01-01',
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = spawnTs('apps/api/src/main.ts', {
      ...process.env,
      ENV: 'production',
      PORT: String(port),
      PUBLIC_BASE_URL: `https://127.0.0.1:${port}`,
      TRUSTED_PROXIES: '127.0.0.1',
      BCRYPT_COST: '10',
      USE_PLATFORM_CREDENTIALS: 'false',
      METRICS_TOKEN: 'browser-test-metrics-token',
      LOG_LEVEL: 'warn',
    });
    await waitFor(
      async () => {
        if (api?.child.exitCode !== null) throw new Error(`the API exited: ${api?.output()}`);
        return (await fetch(`${base}/health`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 30_000, what: 'the API to listen' },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  after(async () => {
    await browser?.close();
    if (api && api.child.exitCode === null) {
      api.child.kill('SIGTERM');
      await api.exited;
    }
  });

  async function newPage(): Promise<{ page: Page; problems: string[] }> {
    const context = await (browser as Browser).newContext({
      baseURL: base,
      extraHTTPHeaders: { 'X-Forwarded-Proto': 'https' },
    });
    const page = await context.newPage();
    // A CSP violation or a failed load shows up as a console error or a failed request.
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`));
    return { page, problems };
  }

  it('authorizes through the OAuth2 login form of /docs and calls GET /users/me from Swagger UI', async () => {
    const { page, problems } = await newPage();
    await page.goto('/docs/');
    await page.locator('button.authorize').first().click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('#oauth_username').fill(email);
    await dialog.locator('#oauth_password').fill(PASSWORD);
    await dialog.locator('button.authorize').last().click();
    await dialog.getByText('Logout').first().waitFor();
    await dialog.locator('button.btn-done').last().click();

    const op = page.locator('#operations-users-get_users_me');
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    expect((await status.innerText()).trim()).to.equal('200');
    expect(await op.locator('.live-responses-table .microlight').first().innerText()).to.contain(email);
    expect(problems).to.deep.equal([]);
  });

  it('signs in, opens the dashboard, shows every queue and saves a screenshot', async () => {
    const { page, problems } = await newPage();
    // The sign-in a dashboard user does: log in, then trade the access token for the /admin cookie.
    await page.goto('/docs/');
    const status = await page.evaluate(
      async ({ username, password }) => {
        const login = await fetch('/auth/jwt/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
        const { access_token } = (await login.json()) as { access_token: string };
        const session = await fetch('/admin/session', {
          method: 'POST',
          headers: { Authorization: `Bearer ${access_token}` },
        });
        return session.status;
      },
      { username: email, password: PASSWORD },
    );
    expect(status).to.equal(204);
    const cookies = await page.context().cookies(`${base}/admin/queues`);
    expect(cookies.map((c) => c.name)).to.include('nudge_admin');

    await page.goto('/admin/queues');
    for (const name of Object.values(QUEUES)) await page.getByText(name, { exact: true }).first().waitFor();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, 'queue-dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).to.be.greaterThan(1000);
    expect(problems).to.deep.equal([]);
  });
});
