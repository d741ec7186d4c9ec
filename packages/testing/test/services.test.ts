// scripts/services.mjs: with DATABASE_URL and REDIS_URL pointing at closed ports, private PostgreSQL and Redis
// instances start, answer, are reused when their URLs are given back, and are gone after stop().
import fs from 'node:fs';
import net from 'node:net';
import { expect } from 'chai';

// The part of the plain-Node module this test uses (it has no type declarations of its own).
interface Started {
  databaseUrl: string;
  redisUrl: string;
  started: { postgres: boolean; redis: boolean };
  postgres: { host: string; port: number; dir: string } | null;
  redis: { host: string; port: number; dir: string } | null;
  stop(): Promise<void>;
}
interface ServicesModule {
  ensureServices(options: {
    databaseUrl?: string;
    redisUrl?: string;
    log?: (msg: string) => void;
    production?: boolean;
  }): Promise<Started>;
  sql(databaseUrl: string, query: string): Promise<string[]>;
  createDatabase(databaseUrl: string, name: string): Promise<boolean>;
  dropDatabase(databaseUrl: string, name: string): Promise<void>;
  listDatabases(databaseUrl: string): Promise<string[]>;
  withDatabase(url: string, name: string): string;
  probeRedis(url: string): Promise<{ ok: boolean }>;
  redisConnect(url: string): Promise<{ command(...args: (string | number)[]): Promise<unknown>; close(): void }>;
  redisCleanup(url: string, prefix: string): Promise<number>;
  freePort(): Promise<number>;
  canConnect(host: string, port: number, timeout?: number): Promise<boolean>;
}

const servicesUrl = new URL('../../../scripts/services.mjs', import.meta.url).href;
const portOf = (url: string) => Number(new URL(url).port);

// A port that nothing listens on: the kernel hands one out and we close it again at once.
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('scripts/services.mjs', function () {
  this.timeout(120000);

  let services: ServicesModule;
  let svc: Started | undefined;
  const logs: string[] = [];

  before(async () => {
    services = (await import(servicesUrl)) as ServicesModule;
  });

  after(async () => {
    await svc?.stop(); // safe to call twice
  });

  it('starts private PostgreSQL and Redis when the URLs point at closed ports, and stops them', async () => {
    const pgPort = await closedPort();
    const redisPort = await closedPort();
    expect(await services.canConnect('127.0.0.1', pgPort)).to.equal(false);
    expect(await services.canConnect('127.0.0.1', redisPort)).to.equal(false);

    svc = await services.ensureServices({
      databaseUrl: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      log: (msg) => logs.push(msg),
      production: false,
    });
    expect(svc.started).to.deep.equal({ postgres: true, redis: true });
    expect(svc.postgres?.port).to.equal(portOf(svc.databaseUrl));
    expect(svc.redis?.port).to.equal(portOf(svc.redisUrl));
    expect(logs.some((l) => l.includes('starting a private PostgreSQL'))).to.equal(true);

    // PostgreSQL answers SQL, and databases can be created and dropped on it.
    expect(await services.sql(svc.databaseUrl, 'SELECT 1')).to.deep.equal(['1']);
    expect(await services.createDatabase(svc.databaseUrl, 'nudge_services_check')).to.equal(true);
    expect(await services.createDatabase(svc.databaseUrl, 'nudge_services_check')).to.equal(false);
    expect(
      await services.sql(services.withDatabase(svc.databaseUrl, 'nudge_services_check'), 'SELECT current_database()'),
    ).to.deep.equal(['nudge_services_check']);
    await services.dropDatabase(svc.databaseUrl, 'nudge_services_check');
    expect(await services.listDatabases(svc.databaseUrl)).not.to.include('nudge_services_check');

    // Redis answers PING, and a prefix's keys can be cleaned up.
    expect((await services.probeRedis(svc.redisUrl)).ok).to.equal(true);
    const redis = await services.redisConnect(svc.redisUrl);
    try {
      expect(await redis.command('PING')).to.equal('PONG');
      await redis.command('SET', 'svccheck:a', '1');
      await redis.command('SET', 'svccheck:b', '2');
      await redis.command('SET', 'other:c', '3');
    } finally {
      redis.close();
    }
    expect(await services.redisCleanup(svc.redisUrl, 'svccheck:')).to.equal(2);

    // Given back as DATABASE_URL / REDIS_URL, answering servers are used as they are.
    const again = await services.ensureServices({
      databaseUrl: svc.databaseUrl,
      redisUrl: svc.redisUrl,
      log: () => {},
      production: false,
    });
    expect(again.started).to.deep.equal({ postgres: false, redis: false });
    expect(again.databaseUrl).to.equal(svc.databaseUrl);
    expect(again.redisUrl).to.equal(svc.redisUrl);
    await again.stop(); // stops nothing: it started nothing
    expect(await services.canConnect('127.0.0.1', portOf(svc.databaseUrl))).to.equal(true);

    await svc.stop();
    expect(await services.canConnect('127.0.0.1', portOf(svc.databaseUrl))).to.equal(false);
    expect(await services.canConnect('127.0.0.1', portOf(svc.redisUrl))).to.equal(false);
    expect(fs.existsSync(svc.postgres?.dir ?? '')).to.equal(false);
    expect(fs.existsSync(svc.redis?.dir ?? '')).to.equal(false);
  });

  it('refuses to start anything in production', async () => {
    const pgPort = await closedPort();
    let error: unknown;
    try {
      await services.ensureServices({
        databaseUrl: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
        log: () => {},
        production: true,
      });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/in production nothing is started/);
  });
});
