import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { threadId } from 'node:worker_threads';
import request from 'supertest';
import { createPasswordPool, getPasswordPool } from '@nudge/crypto';
import { createPasswords } from '../../src/auth/passwords';
import { testApp, testDeps, signUp, unique, PASSWORD } from '../helpers';
import { memoryLogger } from '../memory-logger';
import { appWith, clientIp, limiterKey } from './security-helpers';

describe('password hashing in the API', () => {
  it('runs a login flood on the pool threads while GET /health keeps answering', async function () {
    this.timeout(60_000);
    // The app's own passwords: the default wiring, through the shared pool.
    const { app } = appWith();
    const users = await Promise.all(Array.from({ length: 4 }, () => signUp(testApp())));
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const pool = getPasswordPool();
      const before = pool.stats().completed;
      // Right passwords, and unknown emails (compared against the dummy hash): each one a bcrypt compare.
      const attempts = Array.from({ length: 40 }, (_, i) => ({
        username: i % 2 ? (users[i % 4]?.user.email ?? '') : `${unique()}@example.com`,
        password: PASSWORD,
      }));
      let flooding = true;
      const flood = Promise.all(
        attempts.map(async (body) => {
          const res = await fetch(`${base}/auth/jwt/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          return res.status;
        }),
      ).finally(() => (flooding = false));
      const health: number[] = [];
      while (flooding) health.push((await fetch(`${base}/health`)).status);
      const statuses = await flood;

      expect(statuses.filter((s) => s === 200)).to.have.length(20);
      expect(statuses.filter((s) => s === 400)).to.have.length(20);
      expect(health.length, 'health checks answered during the flood').to.be.at.least(1);
      expect(health.every((s) => s === 200)).to.be.true;
      const stats = pool.stats();
      expect(stats.completed - before).to.be.at.least(40);
      expect(stats.threadIds.size).to.be.at.least(1);
      expect([...stats.threadIds]).to.not.include(threadId);
    } finally {
      server.close();
    }
  });

  it('answers 503 SERVICE_UNAVAILABLE when the pool queue is full, and counts no failure for it', async () => {
    const pool = createPasswordPool({ maxThreads: 1, maxQueue: 1 });
    try {
      // Compares against a cost-10 hash take tens of milliseconds: a burst finds the one thread busy.
      const passwords = createPasswords(10, {
        hash: (p, c, lane) => pool.hash(p, c, lane),
        verify: (p, h, lane) => pool.verify(p, h, lane),
      });
      // The 503s are logged as errors; keep them off the console.
      const { app, config } = appWith({ trustedProxies: ['loopback'] }, { passwords, logger: memoryLogger().logger });
      const ip = clientIp();
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          request(app)
            .post('/auth/jwt/login')
            .set('X-Forwarded-For', ip)
            .send({ username: `${unique()}@example.com`, password: PASSWORD }),
        ),
      );
      const busy = answers.filter((r) => r.status === 503);
      const failed = answers.filter((r) => r.status === 400);
      expect(busy.length).to.be.at.least(1);
      expect(busy.length + failed.length).to.equal(12);
      for (const r of busy)
        expect(r.body).to.deep.equal({
          detail: 'Too many password operations in progress, retry shortly',
          code: 'SERVICE_UNAVAILABLE',
        });
      // Only the compares that ran count as failures for the IP.
      expect(Number(await testDeps().redis.get(limiterKey(config, 'ipDaily', ip)))).to.equal(failed.length);
    } finally {
      await pool.close();
    }
  });
});
