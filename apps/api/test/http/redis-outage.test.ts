// Failing fast on Redis (issue 9, point 9) and revocation that sticks through an outage (point 6): a real Redis
// behind a proxy that stops answering without dropping the connection. The first request pays the command timeout
// once, the circuit opens, and then every request is served by the fallbacks (listings from PostgreSQL, rate limits
// in memory, the denylist from PostgreSQL). When Redis answers again, the denials made meanwhile are copied into it
// before the circuit closes.
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { getConfig } from '@nudge/config';
import { appKey, createRedis, Producers, type Redis } from '@nudge/queue';
import { PausableProxy, waitFor } from '@nudge/testing';
import { createApp } from '../../src/index';
import { memoryLogger, type LogLine } from '../memory-logger';
import { configWith } from '../security/security-helpers';
import { login, signUp, testDeps, unique, type Session } from '../helpers';

function claimsOf(access: string): { jti: string; sid: string } {
  return JSON.parse(Buffer.from(access.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    jti: string;
    sid: string;
  };
}

/** A metric's value as /metrics shows it, or undefined when the line is absent. */
async function metric(app: Express, line: string): Promise<number | undefined> {
  const text = (await request(app).get('/metrics').expect(200)).text;
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit === undefined ? undefined : Number(hit.split(' ')[1]);
}

describe('a Redis that stops answering', () => {
  let proxy: PausableProxy;
  let redis: Redis;
  let producers: Producers;
  let app: Express;
  let lines: LogLine[];
  let user: Session;
  const bound = getConfig().redisCommandTimeoutMs * 3 + 1000;

  before(async () => {
    proxy = await PausableProxy.start({ port: Number(new URL(getConfig().redisUrl).port || 6379) });
    redis = createRedis('client', proxy.url());
    producers = new Producers(createRedis('producer', proxy.url()));
    await waitFor(() => redis.status === 'ready', { what: 'Redis through the proxy' });
    const memory = memoryLogger();
    lines = memory.lines;
    app = createApp({ ...testDeps(), redis, producers, logger: memory.logger, config: configWith() });
    user = await signUp(app, { workspace_name: unique('outage') });
  });
  after(async () => {
    proxy.resume();
    await producers.close();
    redis.disconnect();
    await proxy.close();
  });

  it('serves requests within a bounded time with the circuit open, and closes it when Redis answers again', async function () {
    this.timeout(30_000);
    const other = await login(app, user.user.email);
    expect(await metric(app, 'redis_circuit_state')).to.equal(0);
    proxy.pause();
    try {
      // The first request pays the command timeout once, then the circuit is open.
      let started = Date.now();
      await request(app).get('/users/me').set(user.auth).expect(200);
      expect(Date.now() - started).to.be.below(bound);
      expect(await metric(app, 'redis_circuit_state')).to.equal(1);

      started = Date.now();
      await request(app).get('/users/').set(user.auth).expect(200);
      await request(app).get('/workspaces/').set(user.auth).expect(200);
      await request(app)
        .post('/auth/jwt/login')
        .send({ username: user.user.email, password: 'wrong-password' })
        .expect(400);
      await login(app, user.user.email);
      // A logout now reaches PostgreSQL only; the token is refused all the same.
      await request(app).post('/auth/jwt/logout').set(other.auth).expect(204);
      await request(app).get('/users/me').set(other.auth).expect(401);
      expect(Date.now() - started).to.be.below(bound);

      for (const component of ['denylist', 'cache', 'rate_limits'])
        expect(await metric(app, `redis_fallback_total{component="${component}"}`), component).to.be.above(0);
      expect(lines.filter((l) => String(l.message).startsWith('Redis circuit open'))).to.have.length(1);
    } finally {
      proxy.resume();
    }

    await waitFor(async () => (await metric(app, 'redis_circuit_state')) === 0, { what: 'the circuit to close' });
    expect(lines.filter((l) => String(l.message).startsWith('Redis circuit closed'))).to.have.length(1);
    // The denial made during the outage was copied into Redis before it was trusted again.
    const { jti, sid } = claimsOf(other.access);
    const shared = testDeps().redis;
    expect(await shared.exists(appKey('denied', jti))).to.equal(1);
    expect(await shared.exists(appKey('denied-family', sid))).to.equal(1);
    await request(app).get('/users/me').set(other.auth).expect(401);
    await request(app).get('/users/me').set(user.auth).expect(200);
  });

  it('keeps a forgot-password request of a real account in PostgreSQL, answering 202 as for an unknown one', async function () {
    this.timeout(30_000);
    proxy.pause();
    try {
      const real = await request(app).post('/auth/forgot-password').send({ email: user.user.email }).expect(202);
      const unknown = await request(app)
        .post('/auth/forgot-password')
        .send({ email: `${unique('nobody')}@example.com` })
        .expect(202);
      expect(real.body).to.deep.equal(unknown.body);
    } finally {
      proxy.resume();
    }
    const kept = await testDeps().db('password_reset_requests').where({ user_id: user.user.id });
    expect(kept).to.have.length(1);
    await testDeps().db('password_reset_requests').where({ user_id: user.user.id }).delete();
  });
});

describe('revoked refresh families', () => {
  it('deny their access tokens on a logout elsewhere, checked in Redis and, without it, in PostgreSQL', async () => {
    const app = createApp(testDeps());
    const s = await signUp(app, { workspace_name: unique('family') });
    const second = await login(app, s.user.email);
    // Logging out with the other session's refresh token ends that session's family too.
    await request(app).post('/auth/jwt/logout').set(s.auth).send({ refresh_token: second.refresh }).expect(204);
    await request(app).get('/users/me').set(second.auth).expect(401);
    const { sid } = claimsOf(second.access);
    expect(await testDeps().redis.exists(appKey('denied-family', sid))).to.equal(1);
    // The truth is PostgreSQL: with Redis's copy gone (and no jti of this token denied), it still refuses.
    await testDeps().redis.del(appKey('denied-family', sid));
    const dead = createRedis('client', 'redis://127.0.0.1:1');
    try {
      await request(createApp({ ...testDeps(), redis: dead, logger: memoryLogger().logger }))
        .get('/users/me')
        .set(second.auth)
        .expect(401);
    } finally {
      dead.disconnect();
    }
  });
});
