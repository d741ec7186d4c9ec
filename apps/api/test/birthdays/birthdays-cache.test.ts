import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { DateTime } from 'luxon';
import etag from 'etag';
import { getConfig } from '@nudge/config';
import { createDb, type BirthdayRow, type Db } from '@nudge/db';
import { appKey, createRedis, type Redis } from '@nudge/queue';
import { waitFor } from '@nudge/testing';
import { createApp } from '../../src/index';
import { testDeps, signUp, superuser, unique, PASSWORD, type Session } from '../helpers';
import { memoryLogger } from '../memory-logger';

const redis = () => testDeps().redis;
const birthdaysKey = (workspaceId: string) => appKey('cache', 'birthdays', workspaceId);
const usersKey = (workspaceId: string) => appKey('cache', 'users', workspaceId);
interface Row {
  id: string;
  name: string;
}
const TABLES = /\b(birthdays|users|workspaces)\b/;

function bornOn(day: DateTime): string {
  return day.minus({ years: 28 }).toISODate() as string;
}

describe('the birthday listing cache', () => {
  // Its own connection pool, so the queries counted are this app's alone.
  let db: Db;
  let app: Express;
  before(() => {
    db = createDb(getConfig().databaseUrl);
    app = createApp({ ...testDeps(), db });
  });
  after(async () => {
    await db.destroy();
  });

  async function queriesDuring(fn: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    const listener = (q: { sql: string }) => {
      if (TABLES.test(q.sql)) seen.push(q.sql);
    };
    db.on('query', listener);
    try {
      await fn();
    } finally {
      db.off('query', listener);
    }
    return seen;
  }

  const list = async (s: Session) =>
    (await request(app).get('/birthdays/').set(s.auth).expect(200)).body as {
      id: string;
      name: string;
      date_of_birth: string;
    }[];
  const add = async (s: Session, name: string, dob: string) =>
    (await request(app).post('/birthdays/').set(s.auth).send({ name, date_of_birth: dob }).expect(201)).body as {
      id: string;
    };

  it('serves a second GET from Redis, as the stored text: the key has a TTL and PostgreSQL is not read', async () => {
    const owner = await signUp(app, { workspace_name: unique('ws'), timezone: 'Pacific/Kiritimati' });
    const ws = owner.user.workspace_id as string;
    await add(owner, 'Guest', '1980-02-02');
    let first: unknown;
    const cold = await queriesDuring(async () => {
      first = await list(owner);
    });
    expect(cold.some((sql) => /from "birthdays"/.test(sql))).to.equal(true);
    expect(await redis().exists(birthdaysKey(ws))).to.equal(1);
    const ttl = await redis().ttl(birthdaysKey(ws));
    expect(ttl).to.be.greaterThan(0).and.at.most(300);

    let second: unknown;
    let text = '';
    const warm = await queriesDuring(async () => {
      const res = await request(app).get('/birthdays/').set(owner.auth).expect(200).expect('content-type', /json/);
      second = res.body;
      text = res.text;
    });
    // The caller's row comes from the principal cache (principal-cache.test.ts), the listing from Redis.
    expect(warm).to.deep.equal([]);
    expect(second).to.deep.equal(first);
    const stored = JSON.parse((await redis().get(birthdaysKey(ws))) as string) as { data: unknown };
    expect(text).to.equal(JSON.stringify(stored.data));
  });

  it('keeps the ETag with the entry, sends it on every hit, and answers 304 to If-None-Match', async () => {
    const owner = await signUp(app, { workspace_name: unique('ws') });
    const key = birthdaysKey(owner.user.workspace_id as string);
    await add(owner, 'Guest', '1980-02-02');
    const cold = await request(app).get('/birthdays/').set(owner.auth).expect(200);
    const tag = cold.headers.etag as string;
    expect(tag).to.equal(etag(cold.text, { weak: true }));
    // Stored once with the entry, so that a hit sends it without hashing the body again.
    expect((JSON.parse((await redis().get(key)) as string) as { etag: string }).etag).to.equal(tag);

    const warm = await request(app).get('/birthdays/').set(owner.auth).expect(200);
    expect(warm.headers.etag).to.equal(tag);
    expect(warm.text).to.equal(cold.text);
    await request(app).get('/birthdays/').set(owner.auth).set('If-None-Match', tag).expect(304);

    await add(owner, 'Second', '1981-03-03');
    const changed = await request(app).get('/birthdays/').set(owner.auth).set('If-None-Match', tag).expect(200);
    expect(changed.headers.etag).to.not.equal(tag);
  });

  it('takes an entry stored without an ETag for a miss, and stores it again with one', async () => {
    const owner = await signUp(app, { workspace_name: unique('ws') });
    const key = birthdaysKey(owner.user.workspace_id as string);
    const real = await request(app).get('/birthdays/').set(owner.auth).expect(200);
    const { etag: _dropped, ...older } = JSON.parse((await redis().get(key)) as string) as Record<string, unknown>;
    // Doctored data: served as it is only if the entry were taken for a hit.
    await redis().set(key, JSON.stringify({ ...older, data: [] }), 'EX', 300);
    let text = '';
    const read = await queriesDuring(async () => {
      text = (await request(app).get('/birthdays/').set(owner.auth).expect(200)).text;
    });
    expect(read.some((sql) => /from "birthdays"/.test(sql))).to.equal(true);
    expect(text).to.equal(real.text);
    expect((JSON.parse((await redis().get(key)) as string) as { etag?: string }).etag).to.equal(real.headers.etag);
  });

  it('never serves an order computed for another local day', async () => {
    const tz = 'Pacific/Pago_Pago';
    const today = DateTime.now().setZone(tz).startOf('day');
    const owner = await signUp(app, {
      workspace_name: unique('ws'),
      timezone: tz,
      date_of_birth: bornOn(today.plus({ days: 2 })),
    });
    const key = birthdaysKey(owner.user.workspace_id as string);
    await add(owner, 'Today', bornOn(today));
    const real = await list(owner);
    const entry = JSON.parse((await redis().get(key)) as string) as { stamp: string; data: { name: string }[] };
    expect(entry.stamp).to.equal(today.toISODate());

    // A doctored entry stamped today is served as is: this is what the cache holds.
    const doctored = { ...entry, data: [...entry.data].reverse() };
    await redis().set(key, JSON.stringify(doctored), 'EX', 300);
    expect((await list(owner)).map((b) => b.id)).to.deep.equal(
      doctored.data.map((b) => (b as unknown as { id: string }).id),
    );

    // Stamped yesterday, it is recomputed from PostgreSQL and stored again for today.
    await redis().set(key, JSON.stringify({ ...doctored, stamp: today.minus({ days: 1 }).toISODate() }), 'EX', 300);
    expect(await list(owner)).to.deep.equal(real);
    expect((JSON.parse((await redis().get(key)) as string) as { stamp: string }).stamp).to.equal(today.toISODate());
  });

  describe('every write deletes the listing before it answers, and the next GET shows it', () => {
    let owner: Session;
    let member: Session;
    let ws: string;
    let key: string;
    beforeEach(async () => {
      owner = await signUp(app, { workspace_name: unique('ws'), name: 'Owner' });
      ws = owner.user.workspace_id as string;
      key = birthdaysKey(ws);
      const inv = await request(app).post(`/workspaces/${ws}/invites`).set(owner.auth).send({}).expect(201);
      member = await signUp(app, { invite_token: inv.body.invite_token, name: 'Member' });
    });

    async function afterWrite(write: () => Promise<unknown>, keys: string[] = [key]): Promise<void> {
      await list(owner);
      await request(app).get('/users/').set(owner.auth).expect(200);
      for (const k of keys) expect(await redis().exists(k), `${k} cached before the write`).to.equal(1);
      await write();
      for (const k of keys) expect(await redis().exists(k), `${k} deleted by the write`).to.equal(0);
    }

    it('POST /birthdays/', async () => {
      let created: { id: string } | undefined;
      await afterWrite(async () => {
        created = await add(owner, 'New', '1981-01-01');
      });
      expect((await list(owner)).map((b) => b.id)).to.include(created?.id);
    });

    it('PATCH /birthdays/{id}', async () => {
      const row = await add(owner, 'Old', '1981-01-01');
      await afterWrite(() =>
        request(app).patch(`/birthdays/${row.id}`).set(owner.auth).send({ name: 'Renamed' }).expect(200),
      );
      expect((await list(owner)).find((b) => b.id === row.id)?.name).to.equal('Renamed');
    });

    it('PATCH /birthdays/{id} of a linked row, which changes the users listing too', async () => {
      const row = (await db<BirthdayRow>('birthdays').where({ user_id: member.user.id }).first()) as BirthdayRow;
      await afterWrite(
        () => request(app).patch(`/birthdays/${row.id}`).set(member.auth).send({ name: 'Via Birthday' }).expect(200),
        [key, usersKey(ws)],
      );
      expect((await list(owner)).find((b) => b.id === row.id)?.name).to.equal('Via Birthday');
      const users = (await request(app).get('/users/').set(owner.auth).expect(200)).body as {
        id: string;
        name: string;
      }[];
      expect(users.find((u) => u.id === member.user.id)?.name).to.equal('Via Birthday');
    });

    it('DELETE /birthdays/{id}', async () => {
      const row = await add(owner, 'Doomed', '1981-01-01');
      await afterWrite(() => request(app).delete(`/birthdays/${row.id}`).set(owner.auth).expect(204));
      expect((await list(owner)).map((b) => b.id)).to.not.include(row.id);
    });

    it('PATCH /users/me', async () => {
      await afterWrite(
        () => request(app).patch('/users/me').set(member.auth).send({ name: 'Self Renamed' }).expect(200),
        [key, usersKey(ws)],
      );
      expect((await list(owner)).map((b) => b.name)).to.include('Self Renamed');
    });

    it('PATCH /users/{id}', async () => {
      await afterWrite(
        () =>
          request(app)
            .patch(`/users/${member.user.id}`)
            .set(owner.auth)
            .send({ date_of_birth: '1955-05-05' })
            .expect(200),
        [key, usersKey(ws)],
      );
      expect((await list(owner)).map((b) => b.date_of_birth)).to.include('1955-05-05');
    });

    it('DELETE /users/{id}', async () => {
      await afterWrite(
        () => request(app).delete(`/users/${member.user.id}`).set(owner.auth).expect(204),
        [key, usersKey(ws)],
      );
      expect((await list(owner)).map((b) => b.name)).to.not.include('Member');
    });

    it('the platform admin taking a user out of the workspace', async () => {
      const root = await superuser(app);
      await afterWrite(
        () => request(app).patch(`/users/${member.user.id}`).set(root.auth).send({ workspace_id: null }).expect(200),
        [key, usersKey(ws)],
      );
      expect((await list(owner)).map((b) => b.name)).to.deep.equal(['Owner']);
    });

    it("a change of the workspace's timezone, which changes the order", async () => {
      const k = DateTime.now().setZone('Pacific/Kiritimati').startOf('day');
      const p = DateTime.now().setZone('Pacific/Pago_Pago').startOf('day');
      await request(app)
        .patch(`/workspaces/${ws}`)
        .set(owner.auth)
        .send({ timezone: 'Pacific/Kiritimati' })
        .expect(200);
      const kToday = await add(owner, 'Kiritimati today', bornOn(k));
      const pToday = await add(owner, 'Pago Pago today', bornOn(p));
      const ids = async () => (await list(owner)).map((b) => b.id).filter((id) => id === kToday.id || id === pToday.id);
      expect(await ids()).to.deep.equal([kToday.id, pToday.id]);
      await afterWrite(() =>
        request(app).patch(`/workspaces/${ws}`).set(owner.auth).send({ timezone: 'Pacific/Pago_Pago' }).expect(200),
      );
      expect(await ids()).to.deep.equal([pToday.id, kToday.id]);
    });

    it('registering into the workspace with an invite', async () => {
      const inv = await request(app).post(`/workspaces/${ws}/invites`).set(owner.auth).send({}).expect(201);
      const email = `${unique('joiner')}@example.com`;
      await afterWrite(
        () =>
          request(app)
            .post('/auth/register')
            .send({
              email,
              password: PASSWORD,
              date_of_birth: '1992-02-02',
              name: 'Joiner',
              invite_token: inv.body.invite_token,
            })
            .expect(201),
        [key, usersKey(ws)],
      );
      expect((await list(owner)).map((b) => b.name)).to.include('Joiner');
    });

    it("registering a new workspace, which changes the platform admin's listings", async () => {
      const root = await superuser(app);
      for (const path of ['/birthdays/all', '/users/all', '/workspaces/'])
        await request(app).get(path).set(root.auth).expect(200);
      const allKeys = ['birthdays', 'users', 'workspaces'].map((kind) => appKey('cache', kind, '_all'));
      for (const k of allKeys) expect(await redis().exists(k), `${k} cached`).to.equal(1);
      const email = `${unique('founder')}@example.com`;
      const res = await request(app)
        .post('/auth/register')
        .send({ email, password: PASSWORD, date_of_birth: '1992-02-02', name: 'Founder', workspace_name: unique('ws') })
        .expect(201);
      for (const k of allKeys) expect(await redis().exists(k), `${k} deleted by the registration`).to.equal(0);
      const all = (await request(app).get('/birthdays/all').set(root.auth).expect(200)).body as {
        user_id: string | null;
      }[];
      expect(all.map((b) => b.user_id)).to.include(res.body.id);
    });
  });

  describe('a GET that read before a write', () => {
    // The cache's store is held until released, so the write lands between the GET's read and its store.
    async function race(write: (app: Express, owner: Session) => Promise<unknown>): Promise<void> {
      const raw = createRedis('client');
      let held = false;
      let armed = false;
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const gated: Redis = new Proxy(raw, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== 'function') return value;
          if (armed && (prop === 'set' || prop === 'eval' || prop === 'evalsha')) {
            return async (...args: unknown[]) => {
              held = true;
              await gate;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return (value as (...a: unknown[]) => unknown).bind(target);
        },
      });
      const racy = createApp({ ...testDeps(), db, redis: gated });
      try {
        const owner = await signUp(racy, { workspace_name: unique('ws'), name: 'Before' });
        armed = true;
        const stale = request(racy)
          .get('/birthdays/')
          .set(owner.auth)
          .then((r) => r);
        await waitFor(() => held, { what: 'the GET to reach its cache store' });
        armed = false;
        await write(racy, owner);
        release();
        expect(((await stale).body as Row[]).map((b) => b.name)).to.deep.equal(['Before']);
        expect(
          ((await request(racy).get('/birthdays/').set(owner.auth).expect(200)).body as Row[]).map((b) => b.name),
        ).to.deep.equal(['After']);
      } finally {
        release();
        raw.disconnect();
      }
    }

    it('cannot cache its rows after a write to one workspace', async () => {
      await race((racy, owner) => request(racy).patch('/users/me').set(owner.auth).send({ name: 'After' }).expect(200));
    });

    it('cannot cache its rows after the refresh utility', async () => {
      await race(async (racy, owner) => {
        await db('users').where({ id: owner.user.id }).update({ name: 'After' });
        const root = await superuser(racy);
        await request(racy).post('/utils/refresh-birthday-table').set(root.auth).expect(200);
      });
    });
  });

  it('serves listings from PostgreSQL, and logs the outage once, while Redis is down', async function () {
    this.timeout(60_000);
    const owner = await signUp(app, { workspace_name: unique('ws'), name: 'Owner' });
    const guest = await add(owner, 'Guest', '1980-02-02');
    const down = createRedis('client', 'redis://127.0.0.1:1');
    const { logger, lines } = memoryLogger();
    const offline = createApp({ ...testDeps(), db, redis: down, logger });
    try {
      const res = await request(offline).get('/birthdays/').set(owner.auth).expect(200);
      expect((res.body as Row[]).map((b) => b.id)).to.include(guest.id);
      // Logged once, when the API's Redis circuit opens, not once per request.
      expect(lines.filter((l) => /^Redis circuit open/.test(l.message))).to.have.length(1);
      expect(
        ((await request(offline).get('/users/').set(owner.auth).expect(200)).body as Row[]).map((u) => u.id),
      ).to.deep.equal([owner.user.id]);
      await request(offline)
        .post('/birthdays/')
        .set(owner.auth)
        .send({ name: 'Offline', date_of_birth: '1980-03-03' })
        .expect(201);
      expect(
        ((await request(offline).get('/birthdays/').set(owner.auth).expect(200)).body as Row[]).map((b) => b.name),
      ).to.include('Offline');
    } finally {
      down.disconnect();
    }
  });
});
