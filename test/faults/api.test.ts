// The fault suite, API side: the real API process (apps/api/src/main.ts) under a steady load of keep-alive clients
// while its PostgreSQL restarts, and while it is told to stop. On a PostgreSQL and a redis-server of the suite's own.
// Each test prints its figures on one `[fault]` line.
import { expect } from 'chai';
import { freePort, spawnTs, waitFor, type Spawned } from '@nudge/testing';
import { startPrivateServices, type PrivateServices } from '../support/private-services';
import { startLoad, wasReset, type Outcome } from '../support/http-load';

const PASSWORD = 'correct-horse-battery';
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (p: Spawned) => p.child.exitCode === null && p.child.signalCode === null;
const describeOutcome = (o: Outcome) => `${o.path} ${o.status ?? o.error}${o.code ? ` ${o.code}` : ''}`;

describe('the API under faults', function () {
  let services: PrivateServices;
  let databaseUrl: string;
  const spawned: Spawned[] = [];
  let run = 0;
  let api: Spawned;
  let base: string;
  let auth: Record<string, string>;

  before(async function () {
    this.timeout(120_000);
    services = await startPrivateServices();
    databaseUrl = (await services.database('nudge_faults_api')).url;
    // One API for both tests (the SIGTERM test comes last and ends it): spawning one costs seconds on a busy machine.
    ({ api, base, auth } = await startApi());
  });

  after(async function () {
    this.timeout(30_000);
    for (const p of spawned) {
      if (alive(p)) p.child.kill('SIGKILL');
      await p.exited;
    }
    await services?.close();
  });

  /** Spawns the API on a free port and answers its base URL and a Bearer header of a new workspace owner. */
  async function startApi(): Promise<{ api: Spawned; base: string; auth: Record<string, string> }> {
    run += 1;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const api = spawnTs('apps/api/src/main.ts', {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL: services.redisUrl,
      REDIS_PREFIX: 'nudgefaultsapi',
      LOG_LEVEL: 'warn',
    });
    spawned.push(api);
    await waitFor(
      async () => {
        if (!alive(api)) throw new Error(`the API exited: ${api.output()}`);
        return (await fetch(`${base}/health`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 60_000, what: 'the API to listen' },
    );
    const email = `faults-${run}-${Date.now().toString(36)}@example.com`;
    const registered = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email,
        password: PASSWORD,
        name: 'Ada',
        date_of_birth: '1990-12-10',
        workspace_name: `Faults ${run} ${Date.now()}`,
      }),
    });
    expect(registered.status, await registered.clone().text()).to.equal(201);
    const login = await fetch(`${base}/auth/jwt/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: email, password: PASSWORD }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    expect(token, 'an access token').to.be.a('string');
    return { api, base, auth: { authorization: `Bearer ${token}` } };
  }

  it('answers 503 only while PostgreSQL is down, never crashes, and serves fully again within 60 s of its return', async function () {
    this.timeout(150_000);
    const load = startLoad(base, { clients: 8, paths: ['/ready', '/birthdays/', '/clients/?limit=5'], headers: auth });
    await pause(2000);
    const stoppedAt = Date.now();
    await services.stopPostgres('immediate');
    const downAt = Date.now();
    await pause(3000);
    const restartAt = Date.now();
    await services.startPostgres();
    const backAt = Date.now();
    // Full service: every answer 200 for two seconds in a row; the test fails 60 s after PostgreSQL's return.
    const fullSince = (): number | undefined => {
      // Answers still arriving after the return count, wherever they started.
      const after = load.outcomes.filter((o) => o.end >= backAt);
      const lastBad = after.reduce((t, o) => (o.status === 200 ? t : Math.max(t, o.end)), backAt);
      const good = after.filter((o) => o.start > lastBad);
      return good.length > 0 && Date.now() - lastBad >= 2000 ? lastBad : undefined;
    };
    const fullAt = await waitFor(fullSince, { timeoutMs: 60_000, everyMs: 100, what: 'full service again' });
    await load.stop();
    const recovery = fullAt - backAt;

    const before = load.outcomes.filter((o) => o.end < stoppedAt);
    const outage = load.outcomes.filter((o) => o.end >= downAt && o.start <= restartAt);
    const unexpected = load.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
    const badBodies = load.outcomes.filter((o) => o.status === 503 && !o.json);
    const failed = load.outcomes.filter((o) => o.status === 503);
    const lateFailures = failed.filter((o) => o.start > fullAt || o.end < stoppedAt);
    console.log(
      `[fault] postgres-restart: requests=${load.outcomes.length} answered_503=${failed.length} ` +
        `outage_s=${seconds(backAt - stoppedAt)} time_to_full_service_s=${seconds(recovery)} ` +
        `errors=${unexpected.length} api_alive=${alive(api)}`,
    );
    expect(alive(api), 'the API is still running').to.equal(true);
    expect(before.filter((o) => o.status !== 200).map(describeOutcome), 'answers before the outage').to.deep.equal([]);
    expect(unexpected.slice(0, 5).map(describeOutcome), 'answers neither 200 nor 503').to.deep.equal([]);
    expect(badBodies.length, '503 answers without a JSON body').to.equal(0);
    expect(lateFailures.length, '503 answers outside the outage').to.equal(0);
    expect(
      outage.filter((o) => o.path === '/ready' && o.status !== 503).map(describeOutcome),
      '/ready during the outage',
    ).to.deep.equal([]);
    expect(recovery, 'ms to full service after PostgreSQL returned').to.be.below(60_000);
  });

  it('lets the requests in flight finish on SIGTERM, resets none, and exits 0', async function () {
    this.timeout(90_000);
    const load = startLoad(base, {
      clients: 16,
      paths: ['/birthdays/', '/clients/?limit=5', '/ready'],
      headers: auth,
      stopWhenRefused: true,
    });
    await waitFor(() => load.outcomes.length >= 200, { timeoutMs: 30_000, what: '200 answers' });
    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    const code = await Promise.race([api.exited, pause(20_000).then(() => 'still running')]);
    const exitedAt = Date.now();
    await load.stop();
    const inFlight = load.outcomes.filter((o) => o.start < signalledAt && o.end >= signalledAt);
    const resets = load.outcomes.filter(wasReset);
    const answeredAfter = load.outcomes.filter((o) => o.end >= signalledAt && o.status !== undefined);
    console.log(
      `[fault] sigterm: requests=${load.outcomes.length} in_flight=${inFlight.length} ` +
        `answered_after_signal=${answeredAfter.length} resets=${resets.length} ` +
        `refused=${load.outcomes.filter((o) => o.error === 'ECONNREFUSED').length} exit=${code} ` +
        `exit_s=${seconds(exitedAt - signalledAt)}`,
    );
    expect(resets.slice(0, 5).map(describeOutcome), 'requests reset').to.deep.equal([]);
    expect(
      inFlight.filter((o) => o.status !== 200).map(describeOutcome),
      'requests in flight at the signal',
    ).to.deep.equal([]);
    expect(code, 'exit code').to.equal(0);
  });
});
