// The Docker image's HEALTHCHECK command: healthy only on a 200 from /health.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { freePort, repoRoot, spawnNode } from '@nudge/testing';

const SCRIPT = path.join(repoRoot, 'scripts', 'healthcheck.mjs');

describe('scripts/healthcheck.mjs', function () {
  let server: http.Server;
  let status = 200;
  let base: string;

  before(async () => {
    server = http.createServer((req, res) => res.writeHead(req.url === '/health' ? status : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const check = async (args: string[], env: Record<string, string> = {}) =>
    await spawnNode([SCRIPT, ...args], { PATH: process.env.PATH, ...env }).exited;

  it('is healthy when the API on PORT answers 200 on /health', async () => {
    status = 200;
    expect(await check([], { PORT: new URL(base).port })).to.equal(0);
  });

  it('is unhealthy when /health answers 503', async () => {
    status = 503;
    expect(await check([`${base}/health`])).to.equal(1);
  });

  it('is unhealthy when nothing listens (a worker whose metrics port is down)', async () => {
    expect(await check([`http://127.0.0.1:${await freePort()}/health`])).to.equal(1);
  });
});
