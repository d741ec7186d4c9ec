import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { getConfig } from '@nudge/config';
import { appKey, createRedis, type Redis } from '@nudge/queue';
import { createApp } from '../../src/index';
import { testDeps, signUp, superuser, team, unique, type Session } from '../helpers';

const KINDS = ['birthdays', 'users', 'workspaces'] as const;

// Another logical Redis database: the cache there holds only what these tests put in it, so "none cached" is
// observable while other suites fill the shared one.
function privateRedisUrl(): string {
  const u = new URL(getConfig().redisUrl);
  u.pathname = '/13';
  return u.toString();
}

describe('GET /utils/cache', () => {
  let redis: Redis;
  let app: Express;
  let root: Session;

  async function clear(pattern: string): Promise<void> {
    const keys = await redis.keys(pattern);
    if (keys.length) await redis.del(...keys);
  }
  const clearCache = () => clear(`${appKey('cache')}:*`);

  before(async () => {
    redis = createRedis('client', privateRedisUrl());
    app = createApp({ ...testDeps(), redis });
    root = await superuser(app);
  });
  beforeEach(clearCache);
  after(async () => {
    // Everything this app wrote there: listings, generations, rate-limit counters.
    await clear(`${getConfig().redisPrefix}:*`);
    redis.disconnect();
  });

  it('answers null for each kind when nothing is cached', async () => {
    expect((await request(app).get('/utils/cache/all').set(root.auth).expect(200)).body).to.deep.equal({
      data: { users: null, birthdays: null, workspaces: null },
    });
    for (const kind of KINDS)
      expect((await request(app).get(`/utils/cache/${kind}/all`).set(root.auth).expect(200)).body).to.deep.equal({
        data: null,
      });
  });

  it('joins every cached listing of a kind across workspaces', async () => {
    const a = await signUp(app, { workspace_name: unique('ws') });
    const b = await signUp(app, { workspace_name: unique('ws') });
    for (const s of [a, b]) for (const kind of KINDS) await request(app).get(`/${kind}/`).set(s.auth).expect(200);

    const all = (await request(app).get('/utils/cache/all').set(root.auth).expect(200)).body as {
      data: Record<string, { id: string; user_id?: string; workspace_id?: string }[]>;
    };
    expect(all).to.have.keys('data');
    expect(all.data).to.have.keys('users', 'birthdays', 'workspaces');
    expect(all.data.birthdays?.map((r) => r.user_id)).to.have.members([a.user.id, b.user.id]);
    expect(all.data.users?.map((r) => r.id)).to.have.members([a.user.id, b.user.id]);
    expect(all.data.workspaces?.map((r) => r.id)).to.have.members([a.user.workspace_id, b.user.workspace_id]);
    for (const u of all.data.users ?? [])
      expect(u).to.not.have.any.keys('password_hash', 'hashed_password', 'token_version');

    for (const kind of KINDS) {
      const one = (await request(app).get(`/utils/cache/${kind}/all`).set(root.auth).expect(200)).body as {
        data: unknown[];
      };
      expect(one).to.have.keys('data');
      expect(one.data).to.have.deep.members(all.data[kind] ?? []);
    }
  });

  it('keeps no password hash in the raw Redis value of a user listing', async () => {
    const t = await team(app);
    await request(app).get('/users/').set(t.owner.auth).expect(200);
    const raw = (await redis.get(appKey('cache', 'users', t.workspaceId))) as string;
    expect(raw).to.be.a('string');
    expect(raw).to.contain(t.member.user.id);
    expect(raw).to.not.contain('password_hash');
    expect(raw).to.not.contain('hashed_password');
    expect(raw).to.not.contain('$2');
  });

  it("answers 403 to a workspace's owner and 401 without a token", async () => {
    const owner = await signUp(app, { workspace_name: unique('ws') });
    for (const path of ['/utils/cache/all', ...KINDS.map((k) => `/utils/cache/${k}/all`)]) {
      await request(app).get(path).set(owner.auth).expect(403);
      await request(app).get(path).expect(401);
    }
  });
});
