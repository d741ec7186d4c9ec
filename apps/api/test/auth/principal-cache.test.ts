import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Knex } from 'knex';
import { createRedis, type Redis } from '@nudge/queue';
import { createApp } from '../../src/index';
import { testApp, testDeps, signUp, team, PASSWORD } from '../helpers';

const app = () => testApp();

// A second API replica: its own Redis client (so its own circuit and its own principal cache), the same Redis server.
let replicaRedis: Redis;
let replica: Express;

before(() => {
  replicaRedis = createRedis('client');
  replica = createApp({ ...testDeps(), redis: replicaRedis });
});

after(async () => {
  await replicaRedis.quit();
});

/** Makes sure both replicas hold a copy of the caller's user row. */
async function cacheOnBoth(auth: { Authorization: string }): Promise<void> {
  for (const a of [app(), replica]) {
    await request(a).get('/users/me').set(auth).expect(200);
    await request(a).get('/users/me').set(auth).expect(200);
  }
}

describe('the principal cache', () => {
  it('answers a cached listing to a cached caller without one SQL statement', async () => {
    const s = await signUp(app(), { workspace_name: `ws${Date.now()}` });
    await request(app()).get('/birthdays/').set(s.auth).expect(200);
    const statements: string[] = [];
    const count = (q: Knex.Sql) => statements.push(q.sql);
    testDeps().db.on('query', count);
    try {
      await request(app()).get('/birthdays/').set(s.auth).expect(200);
    } finally {
      testDeps().db.off('query', count);
    }
    expect(statements).to.deep.equal([]);
  });

  it('refuses a token at once after its logout, on this replica and on another', async () => {
    const s = await signUp(app());
    await cacheOnBoth(s.auth);
    await request(app()).post('/auth/jwt/logout').set(s.auth).expect(204);
    await request(app()).get('/users/me').set(s.auth).expect(401);
    await request(replica).get('/users/me').set(s.auth).expect(401);
  });

  it('refuses older tokens at once after a password change made on another replica', async () => {
    const s = await signUp(app());
    await cacheOnBoth(s.auth);
    await request(replica)
      .patch('/users/me')
      .set(s.auth)
      .send({ password: 'new-password-1', current_password: PASSWORD })
      .expect(200);
    await request(app()).get('/users/me').set(s.auth).expect(401);
  });

  it("refuses a deactivated user's token at once on another replica", async () => {
    const t = await team(app());
    await cacheOnBoth(t.member.auth);
    await request(app()).patch(`/users/${t.member.user.id}`).set(t.owner.auth).send({ is_active: false }).expect(200);
    await request(replica).get('/users/me').set(t.member.auth).expect(401);
  });

  it("refuses a deleted user's token at once on another replica", async () => {
    const t = await team(app());
    await cacheOnBoth(t.member.auth);
    await request(app()).delete(`/users/${t.member.user.id}`).set(t.owner.auth).expect(204);
    await request(replica).get('/users/me').set(t.member.auth).expect(401);
    await request(app()).get('/users/me').set(t.member.auth).expect(401);
  });

  it('sees a role change at once on another replica', async () => {
    const t = await team(app());
    await cacheOnBoth(t.member.auth);
    await request(app()).patch(`/users/${t.member.user.id}`).set(t.owner.auth).send({ role: 'admin' }).expect(200);
    const me = await request(replica).get('/users/me').set(t.member.auth).expect(200);
    expect(me.body.role).to.equal('admin');
  });

  it("sees a deleted workspace at once on another replica: its members' tokens no longer reach it", async () => {
    const t = await team(app());
    await cacheOnBoth(t.member.auth);
    await request(app()).delete(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(204);
    const me = await request(replica).get('/users/me').set(t.member.auth).expect(200);
    expect(me.body.workspace_id).to.equal(null);
    expect((await request(replica).get('/birthdays/').set(t.member.auth).expect(200)).body).to.deep.equal([]);
  });

  it('serves no copy while Redis is down: a change made in PostgreSQL alone is seen at once', async () => {
    const s = await signUp(app());
    const deadRedis = createRedis('client', 'redis://127.0.0.1:1');
    try {
      const noRedis = createApp({ ...testDeps(), redis: deadRedis });
      await request(noRedis).get('/users/me').set(s.auth).expect(200);
      await testDeps().db('users').where({ id: s.user.id }).update({ is_active: false });
      await request(noRedis).get('/users/me').set(s.auth).expect(401);
    } finally {
      deadRedis.disconnect();
    }
  });
});
