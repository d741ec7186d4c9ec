// Workspaces (issue 3, point 8): who sees and manages them, what a workspace may hold (an IANA timezone, a Slack
// webhook on an allowed host, never shown unmasked), what deleting one leaves behind, and invites.
import { expect } from 'chai';
import request from 'supertest';
import { getConfig } from '@nudge/config';
import { getWorkspaceSlackWebhook, insertUser } from '@nudge/db';
import { hashToken } from '@nudge/crypto';
import { waitFor } from '@nudge/testing';
import { createApp } from '../../src/index';
import { isAllowedSlackWebhook } from '../../src/routes/workspaces/workspaces.schemas';
import { memoryLogger } from '../memory-logger';
import { testApp, testDeps, signUp, team, superuser, unique, PASSWORD, type Session } from '../helpers';

const app = () => testApp();
const db = () => testDeps().db;

const WEBHOOK = 'https://hooks.slack.com/services/T0001/B0002/abcdWXYZ';
const MASKED = 'https://hooks.slack.com/services/****WXYZ';

const patchWs = (who: Session, id: string, body: object) =>
  request(app()).patch(`/workspaces/${id}`).set(who.auth).send(body);

async function registerWith(inviteToken: string) {
  return request(app())
    .post('/auth/register')
    .send({
      email: `${unique()}@example.com`,
      password: PASSWORD,
      date_of_birth: '1990-01-01',
      invite_token: inviteToken,
    });
}

describe('GET /workspaces/', () => {
  it('answers 401 without a token', async () => {
    const res = await request(app()).get('/workspaces/').expect(401);
    expect(res.headers['www-authenticate']).to.equal('Bearer');
  });

  it("lists only the caller's own workspace to a member, and every workspace to the platform admin", async () => {
    const a = await team(app());
    const b = await team(app());
    const root = await superuser(app());
    const mine = (await request(app()).get('/workspaces/').set(a.member.auth).expect(200)).body as { id: string }[];
    expect(mine.map((w) => w.id)).to.deep.equal([a.workspaceId]);
    const all = ((await request(app()).get('/workspaces/').set(root.auth).expect(200)).body as { id: string }[]).map(
      (w) => w.id,
    );
    expect(all).to.include.members([a.workspaceId, b.workspaceId]);
    const bare = await request(app()).get('/workspaces').set(a.member.auth).redirects(0).expect(200);
    expect(bare.body).to.deep.equal(mine);
  });

  it('masks the Slack webhook for every caller, and shows null when none is set', async () => {
    const t = await team(app());
    const root = await superuser(app());
    expect(
      (await request(app()).get(`/workspaces/${t.workspaceId}`).set(t.member.auth).expect(200)).body.slack_webhook,
    ).to.equal(null);
    const patched = await patchWs(t.owner, t.workspaceId, { slack_webhook: WEBHOOK }).expect(200);
    expect(patched.body.slack_webhook).to.equal(MASKED);
    for (const who of [t.owner, t.admin, t.member, root]) {
      const list = await request(app()).get('/workspaces/').set(who.auth).expect(200);
      const one = await request(app()).get(`/workspaces/${t.workspaceId}`).set(who.auth).expect(200);
      expect(
        (list.body as { id: string; slack_webhook: string }[]).find((w) => w.id === t.workspaceId)?.slack_webhook,
      ).to.equal(MASKED);
      expect(one.body.slack_webhook).to.equal(MASKED);
      expect(JSON.stringify([list.body, one.body])).to.not.contain('B0002');
    }
    // Stored whole for the worker that posts.
    expect(await getWorkspaceSlackWebhook(db(), t.workspaceId)).to.equal(WEBHOOK);
    expect((await patchWs(t.owner, t.workspaceId, { slack_webhook: null }).expect(200)).body.slack_webhook).to.equal(
      null,
    );
  });
});

describe('POST /workspaces/', () => {
  it('lets the platform admin create a workspace: 201, America/New_York by default, webhook masked', async () => {
    const root = await superuser(app());
    const name = unique('Made');
    const res = await request(app())
      .post('/workspaces/')
      .set(root.auth)
      .send({ name, slack_webhook: WEBHOOK })
      .expect(201);
    expect(res.body).to.include({ name, timezone: 'America/New_York', slack_webhook: MASKED, slack_status: 'ok' });
    await request(app()).get(`/workspaces/${res.body.id}`).set(root.auth).expect(200);
    const all = ((await request(app()).get('/workspaces/').set(root.auth).expect(200)).body as { id: string }[]).map(
      (w) => w.id,
    );
    expect(all).to.include(res.body.id);
  });

  it('answers 403 to a workspace owner', async () => {
    const t = await team(app());
    const name = unique('Nope');
    await request(app()).post('/workspaces/').set(t.owner.auth).send({ name }).expect(403);
    expect(await db()('workspaces').where({ name }).first()).to.equal(undefined);
  });

  it('answers 400 WORKSPACE_ALREADY_EXISTS for a taken name in any case, even when two ask at once', async () => {
    const root = await superuser(app());
    const name = unique('Dup');
    await request(app()).post('/workspaces/').set(root.auth).send({ name }).expect(201);
    const res = await request(app()).post('/workspaces/').set(root.auth).send({ name: name.toUpperCase() }).expect(400);
    expect(res.body).to.deep.equal({ detail: 'WORKSPACE_ALREADY_EXISTS', code: 'WORKSPACE_ALREADY_EXISTS' });
    const racing = unique('Race');
    const both = await Promise.all(
      [0, 1, 2].map(() => request(app()).post('/workspaces/').set(root.auth).send({ name: racing })),
    );
    expect(both.map((r) => r.status).sort()).to.deep.equal([201, 400, 400]);
  });

  it('answers 422 without a name', async () => {
    const root = await superuser(app());
    const res = await request(app()).post('/workspaces/').set(root.auth).send({ timezone: 'UTC' }).expect(422);
    expect(res.body.detail[0]).to.deep.include({ loc: ['body', 'name'], type: 'any.required' });
  });
});

describe('PATCH /workspaces/{id}', () => {
  it("lets the platform admin and the workspace's owner and admin change it", async () => {
    const t = await team(app());
    const root = await superuser(app());
    for (const [who, tz] of [
      [t.owner, 'Europe/Paris'],
      [t.admin, 'Asia/Kolkata'],
      [root, 'UTC'],
    ] as const) {
      const name = unique('Renamed');
      const res = await patchWs(who, t.workspaceId, { name, timezone: tz, birthday_post_time: '08:30' }).expect(200);
      expect(res.body).to.include({ name, timezone: tz, birthday_post_time: '08:30' });
      expect((await request(app()).get('/workspaces/').set(t.member.auth).expect(200)).body[0]).to.include({
        name,
        timezone: tz,
      });
    }
  });

  it('answers 403 to a member and changes nothing', async () => {
    const t = await team(app());
    const before = await db()('workspaces').where({ id: t.workspaceId }).first();
    const res = await patchWs(t.member, t.workspaceId, { name: unique('Mine') }).expect(403);
    expect(res.body.code).to.equal('FORBIDDEN');
    expect(await db()('workspaces').where({ id: t.workspaceId }).first()).to.deep.equal(before);
  });

  it("answers 400 WORKSPACE_ALREADY_EXISTS for another workspace's name in any case, but keeps its own", async () => {
    const a = await team(app());
    const b = await team(app());
    const bName = (await request(app()).get(`/workspaces/${b.workspaceId}`).set(b.owner.auth).expect(200)).body
      .name as string;
    const res = await patchWs(a.owner, a.workspaceId, { name: bName.toUpperCase() }).expect(400);
    expect(res.body.code).to.equal('WORKSPACE_ALREADY_EXISTS');
    await patchWs(b.owner, b.workspaceId, { name: bName.toUpperCase() }).expect(200);
  });

  it('validates the timezone against the IANA list, by exact case', async () => {
    const t = await team(app());
    for (const tz of ['Mars/Olympus', 'utc', 'europe/paris', '']) {
      const res = await patchWs(t.owner, t.workspaceId, { timezone: tz }).expect(422);
      expect(res.body.detail[0].loc, tz).to.deep.equal(['body', 'timezone']);
    }
    expect((await patchWs(t.owner, t.workspaceId, { timezone: 'Asia/Kolkata' }).expect(200)).body.timezone).to.equal(
      'Asia/Kolkata',
    );
  });

  describe('slack_webhook', () => {
    const accepted = [
      'https://hooks.slack.com/services/T0001/B0002/abcDEF123',
      'https://hooks.slack.com:443/services/TABC/BXYZ/0aZ',
      'http://127.0.0.1:9/services/T1/B2/loop',
    ];
    const refused = [
      'http://hooks.slack.com/services/T1/B1/xx',
      'https://evil.example/services/T1/B1/x',
      'https://hooks.slack.com.evil.example/services/T1/B1/x',
      'https://user@hooks.slack.com/services/T1/B1/x',
      'https://hooks.slack.com/services/T1/B1/x?next=1',
      'https://hooks.slack.com/services/T1/B1/x#frag',
      'https://hooks.slack.com/services/t1/B1/x',
      'https://hooks.slack.com/services/T1/B1/x/y',
      'https://hooks.slack.com/services/T1/B1/x-y',
      'https://hooks.slack.com/api/T1/B1/x',
      'https://hooks.slack.com\\@evil.example/services/T1/B1/x',
      'http://localhost/services/T1/B1/x',
      'ftp://hooks.slack.com/services/T1/B1/x',
      'hooks.slack.com/services/T1/B1/x',
      'not a url',
    ];

    it("is accepted over https on an allowed host with Slack's path, and over http on a listed loopback host outside production", async () => {
      expect(getConfig().slackWebhookHosts).to.include('127.0.0.1');
      const t = await team(app());
      for (const url of accepted) {
        await patchWs(t.owner, t.workspaceId, { slack_webhook: url }).expect(200);
        expect(await getWorkspaceSlackWebhook(db(), t.workspaceId)).to.equal(new URL(url).href);
      }
    });

    it('is refused with 422 naming slack_webhook for anything else, and the stored one stays', async () => {
      const t = await team(app());
      await patchWs(t.owner, t.workspaceId, { slack_webhook: WEBHOOK }).expect(200);
      const letThrough: string[] = [];
      for (const url of refused) {
        const res = await patchWs(t.owner, t.workspaceId, { slack_webhook: url });
        if (res.status !== 422) letThrough.push(`${url}: ${res.status}`);
        else expect(res.body.detail[0].loc, url).to.deep.equal(['body', 'slack_webhook']);
      }
      expect(letThrough).to.deep.equal([]);
      expect(await getWorkspaceSlackWebhook(db(), t.workspaceId)).to.equal(WEBHOOK);
      const root = await superuser(app());
      await request(app())
        .post('/workspaces/')
        .set(root.auth)
        .send({ name: unique('Bad'), slack_webhook: 'https://evil.example/services/T1/B1/x' })
        .expect(422);
    });

    it('is stored as parsed, so the URL posted to is exactly the one checked', async () => {
      const t = await team(app());
      await patchWs(t.owner, t.workspaceId, {
        slack_webhook: 'HTTPS://Hooks.Slack.com/x/../services/T1/B2/abcd',
      }).expect(200);
      expect(await getWorkspaceSlackWebhook(db(), t.workspaceId)).to.equal(
        'https://hooks.slack.com/services/T1/B2/abcd',
      );
    });

    it('refuses http even to a listed loopback host in production', () => {
      const hosts = { slackWebhookHosts: ['hooks.slack.com', '127.0.0.1'] };
      expect(isAllowedSlackWebhook('http://127.0.0.1:9/services/T1/B2/x', { ...hosts, isProduction: false })).to.equal(
        true,
      );
      expect(isAllowedSlackWebhook('http://127.0.0.1:9/services/T1/B2/x', { ...hosts, isProduction: true })).to.equal(
        false,
      );
      expect(
        isAllowedSlackWebhook('http://127.0.0.1:9/services/T1/B2/x', {
          slackWebhookHosts: ['hooks.slack.com'],
          isProduction: false,
        }),
      ).to.equal(false);
    });
  });
});

describe('DELETE /workspaces/{id}', () => {
  it('removes its invites, birthdays and memberships in one go, leaving its users without a workspace', async () => {
    const t = await team(app());
    const root = await superuser(app());
    const unused = (
      await request(app()).post(`/workspaces/${t.workspaceId}/invites`).set(t.owner.auth).send({}).expect(201)
    ).body.invite_token as string;
    await request(app())
      .post('/birthdays/')
      .set(t.owner.auth)
      .send({ name: unique('Solo'), date_of_birth: '1985-06-07' })
      .expect(201);
    // Warm every listing cache the delete must clear.
    for (const who of [t.owner, t.member])
      for (const path of ['/users/', '/birthdays/', '/workspaces/'])
        await request(app()).get(path).set(who.auth).expect(200);
    await request(app()).get('/workspaces/').set(root.auth).expect(200);

    await request(app()).delete(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(204);

    const gone = await registerWith(unused);
    expect(gone.status).to.equal(400);
    expect(gone.body.code).to.equal('REGISTER_INVALID_INVITE_TOKEN');
    expect(await db()('workspace_invites').where({ workspace_id: t.workspaceId })).to.deep.equal([]);
    expect(await db()('birthdays').where({ workspace_id: t.workspaceId })).to.deep.equal([]);
    for (const s of [t.owner, t.admin, t.member]) {
      const row = await db()('users').where({ id: s.user.id }).first();
      expect(row).to.include({ workspace_id: null, role: null });
      expect(await db()('birthdays').where({ user_id: s.user.id }).first()).to.equal(undefined);
    }
    const all = ((await request(app()).get('/workspaces/').set(root.auth).expect(200)).body as { id: string }[]).map(
      (w) => w.id,
    );
    expect(all).to.not.include(t.workspaceId);
  });

  it('leaves its former users seeing no tenant data: empty lists, 404 for ids, 403 NO_WORKSPACE for writes', async () => {
    const t = await team(app());
    await request(app()).get('/users/').set(t.member.auth).expect(200);
    await request(app()).delete(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(204);
    for (const path of ['/users/', '/birthdays/', '/workspaces/']) {
      expect((await request(app()).get(path).set(t.member.auth).expect(200)).body, path).to.deep.equal([]);
    }
    await request(app()).get(`/users/${t.owner.user.id}`).set(t.member.auth).expect(404);
    await request(app()).get(`/workspaces/${t.workspaceId}`).set(t.member.auth).expect(404);
    const write = await request(app())
      .post('/birthdays/')
      .set(t.member.auth)
      .send({ name: 'Someone', date_of_birth: '1990-01-01' })
      .expect(403);
    expect(write.body.code).to.equal('NO_WORKSPACE');
    expect((await request(app()).get('/users/me').set(t.member.auth).expect(200)).body).to.include({
      workspace_id: null,
      role: null,
    });
  });

  it('detaches a user who joins while it is being deleted, role included', async () => {
    const t = await team(app());
    const token = (
      await request(app()).post(`/workspaces/${t.workspaceId}/invites`).set(t.owner.auth).send({}).expect(201)
    ).body.invite_token as string;
    // A registration, step by step: it has spent its invite when the delete starts, and adds its user after.
    const joining = await db().transaction();
    let joinerId = '';
    try {
      await joining('workspace_invites')
        .where({ token_hash: hashToken(token) })
        .update({ used_at: joining.fn.now() });
      const deleting = request(app())
        .delete(`/workspaces/${t.workspaceId}`)
        .set(t.owner.auth)
        .then((r) => r);
      await waitFor(
        async () => {
          const { rows } = await db().raw<{ rows: { n: number }[] }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%workspace%'",
          );
          return (rows[0]?.n ?? 0) > 0;
        },
        { what: 'the delete to wait on the registration' },
      );
      joinerId = (
        await insertUser(joining, {
          email: `${unique()}@example.com`,
          password_hash: 'x',
          workspace_id: t.workspaceId,
          role: 'member',
        })
      ).id;
      await joining.commit();
      expect((await deleting).status).to.equal(204);
    } finally {
      if (!joining.isCompleted()) await joining.rollback();
    }
    expect(await db()('users').where({ id: joinerId }).first()).to.include({ workspace_id: null, role: null });
  });

  it('changes nothing when the delete fails part-way', async () => {
    const t = await team(app());
    const ws = t.workspaceId;
    // Make the workspace's own DELETE fail after its members were detached, in the same transaction.
    await db().raw(`CREATE OR REPLACE FUNCTION nudge_test_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF OLD.id = '${ws}' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN OLD; END $$`);
    await db().raw(
      'CREATE TRIGGER nudge_test_refuse_delete BEFORE DELETE ON workspaces FOR EACH ROW EXECUTE FUNCTION nudge_test_refuse_delete()',
    );
    const { logger, lines } = memoryLogger();
    try {
      await request(createApp({ ...testDeps(), logger }))
        .delete(`/workspaces/${ws}`)
        .set(t.owner.auth)
        .expect(500);
    } finally {
      await db().raw('DROP TRIGGER nudge_test_refuse_delete ON workspaces');
      await db().raw('DROP FUNCTION nudge_test_refuse_delete()');
    }
    expect(
      lines.some(
        (l) => l.level === 'error' && String((l.err as Error | undefined)?.message).includes('refused by test'),
      ),
    ).to.equal(true);
    for (const s of [t.owner, t.admin, t.member])
      expect(await db()('users').where({ id: s.user.id }).first()).to.include({ workspace_id: ws, role: s.user.role });
    expect(await db()('birthdays').where({ workspace_id: ws })).to.have.length(3);
  });

  it("lets the platform admin delete any workspace, answers 403 to a member and 404 for another workspace's", async () => {
    const a = await team(app());
    const b = await team(app());
    const root = await superuser(app());
    const res = await request(app()).delete(`/workspaces/${a.workspaceId}`).set(a.member.auth).expect(403);
    expect(res.body.code).to.equal('FORBIDDEN');
    // An admin manages the workspace but may not end it.
    await request(app()).delete(`/workspaces/${a.workspaceId}`).set(a.admin.auth).expect(403);
    await request(app()).delete(`/workspaces/${b.workspaceId}`).set(a.owner.auth).expect(404);
    expect(await db()('workspaces').whereIn('id', [a.workspaceId, b.workspaceId])).to.have.length(2);
    await request(app()).delete(`/workspaces/${a.workspaceId}`).set(root.auth).expect(204);
    await request(app()).get(`/workspaces/${a.workspaceId}`).set(root.auth).expect(404);
  });
});

describe('POST /workspaces/{id}/invites', () => {
  it('answers 201 {invite_token, expires_at} to an owner or admin, expiring INVITE_TTL_HOURS from now', async () => {
    const t = await team(app());
    for (const who of [t.owner, t.admin]) {
      const res = await request(app()).post(`/workspaces/${t.workspaceId}/invites`).set(who.auth).send({}).expect(201);
      expect(res.body).to.have.all.keys('invite_token', 'expires_at');
      const expected = Date.now() + getConfig().inviteTtlHours * 3600_000;
      expect(Math.abs(new Date(res.body.expires_at as string).getTime() - expected)).to.be.below(60_000);
    }
  });

  it('answers 403 to a member, and to an admin inviting an admin', async () => {
    const t = await team(app());
    await request(app()).post(`/workspaces/${t.workspaceId}/invites`).set(t.member.auth).send({}).expect(403);
    await request(app())
      .post(`/workspaces/${t.workspaceId}/invites`)
      .set(t.admin.auth)
      .send({ role: 'admin' })
      .expect(403);
    expect(
      await db()('workspace_invites').where({ workspace_id: t.workspaceId, created_by: t.member.user.id }),
    ).to.deep.equal([]);
    expect(
      await db()('workspace_invites').where({
        workspace_id: t.workspaceId,
        role: 'admin',
        created_by: t.admin.user.id,
      }),
    ).to.deep.equal([]);
  });

  it('gives a token that registers a user into the workspace with the invited role, from an owner or the platform admin', async () => {
    const t = await team(app());
    const root = await superuser(app());
    for (const [who, role] of [
      [t.owner, 'admin'],
      [root, 'admin'],
      [t.admin, 'member'],
      [root, 'member'],
    ] as const) {
      const inv = await request(app())
        .post(`/workspaces/${t.workspaceId}/invites`)
        .set(who.auth)
        .send({ role })
        .expect(201);
      const s = await signUp(app(), { invite_token: inv.body.invite_token as string });
      expect(s.user).to.include({ workspace_id: t.workspaceId, role });
    }
  });

  it('answers 422 for a role other than member or admin', async () => {
    const t = await team(app());
    const res = await request(app())
      .post(`/workspaces/${t.workspaceId}/invites`)
      .set(t.owner.auth)
      .send({ role: 'owner' })
      .expect(422);
    expect(res.body.detail[0].loc).to.deep.equal(['body', 'role']);
  });
});

describe('GET /workspaces/{id}/invites', () => {
  const invite = async (who: Session, ws: string, role = 'member') =>
    (await request(app()).post(`/workspaces/${ws}/invites`).set(who.auth).send({ role }).expect(201)).body
      .invite_token as string;

  it('lists the pending invites, newest first, paged, without their tokens', async () => {
    const t = await team(app());
    const tokens = [await invite(t.owner, t.workspaceId, 'admin'), await invite(t.admin, t.workspaceId)];
    // A spent invite is not pending.
    await registerWith(await invite(t.owner, t.workspaceId));
    const first = await request(app())
      .get(`/workspaces/${t.workspaceId}/invites?limit=1`)
      .set(t.admin.auth)
      .expect(200);
    expect(first.body.items).to.have.length(1);
    expect(first.body.items[0]).to.have.all.keys('id', 'role', 'created_by', 'created_at', 'expires_at');
    expect(first.body.items[0]).to.include({ role: 'member', created_by: t.admin.user.id });
    expect(first.body.next_cursor).to.be.a('string');
    const second = await request(app())
      .get(`/workspaces/${t.workspaceId}/invites`)
      .query({ limit: 1, cursor: first.body.next_cursor as string })
      .set(t.owner.auth)
      .expect(200);
    expect(second.body.items[0]).to.include({ role: 'admin', created_by: t.owner.user.id });
    expect(second.body.next_cursor).to.equal(null);
    const text = JSON.stringify([first.body, second.body]);
    for (const token of tokens) {
      expect(text).to.not.contain(token);
      expect(text).to.not.contain(hashToken(token));
    }
  });

  it('answers 403 to a member and 422 for a cursor it did not give', async () => {
    const t = await team(app());
    await request(app()).get(`/workspaces/${t.workspaceId}/invites`).set(t.member.auth).expect(403);
    const res = await request(app())
      .get(`/workspaces/${t.workspaceId}/invites?cursor=bm9wZQ`)
      .set(t.owner.auth)
      .expect(422);
    expect(res.body.detail[0].loc).to.deep.equal(['query', 'cursor']);
  });
});

describe('DELETE /workspaces/{id}/invites/{invite_id}', () => {
  it('revokes an invite: 204, it no longer registers, and a second revoke is 404', async () => {
    const t = await team(app());
    const token = (
      await request(app()).post(`/workspaces/${t.workspaceId}/invites`).set(t.owner.auth).send({}).expect(201)
    ).body.invite_token as string;
    const row = (await db()('workspace_invites')
      .where({ token_hash: hashToken(token) })
      .first()) as { id: string };
    await request(app()).delete(`/workspaces/${t.workspaceId}/invites/${row.id}`).set(t.member.auth).expect(403);
    await request(app()).delete(`/workspaces/${t.workspaceId}/invites/${row.id}`).set(t.admin.auth).expect(204);
    expect((await registerWith(token)).body.code).to.equal('REGISTER_INVALID_INVITE_TOKEN');
    await request(app()).delete(`/workspaces/${t.workspaceId}/invites/${row.id}`).set(t.owner.auth).expect(404);
  });

  it("answers 404 for another workspace's invite, which stays usable", async () => {
    const a = await team(app());
    const b = await team(app());
    const token = (
      await request(app()).post(`/workspaces/${b.workspaceId}/invites`).set(b.owner.auth).send({}).expect(201)
    ).body.invite_token as string;
    const row = (await db()('workspace_invites')
      .where({ token_hash: hashToken(token) })
      .first()) as { id: string };
    await request(app()).delete(`/workspaces/${a.workspaceId}/invites/${row.id}`).set(a.owner.auth).expect(404);
    await request(app()).delete(`/workspaces/${b.workspaceId}/invites/${row.id}`).set(a.owner.auth).expect(404);
    expect((await registerWith(token)).status).to.equal(201);
  });
});
