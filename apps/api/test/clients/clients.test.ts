import { expect } from 'chai';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { getFieldCipher, searchHash } from '@nudge/crypto';
import { testApp, testDeps, team, signUp, superuser, unique, type Session } from '../helpers';

type Team = Awaited<ReturnType<typeof team>>;

describe('/clients', () => {
  let t: Team;
  const db = () => testDeps().db;

  before(async function () {
    this.timeout(30_000);
    t = await team(testApp());
    await db()('workspaces').where({ id: t.workspaceId }).update({ timezone: 'Europe/London' });
  });

  const create = (who: Session, body: object) => request(testApp()).post('/clients/').set(who.auth).send(body);

  describe('POST /clients/', () => {
    it('creates a client with its numbers in E.164 and the workspace timezone by default', async () => {
      const res = await create(t.admin, {
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        phone: '+44 7911-123 789',
        whatsapp: '+1 415 555 2671',
        preferred_channel: 'sms',
        locale: 'en-gb',
        opt_out: { sms: true },
      }).expect(201);
      expect(res.body).to.include({
        workspace_id: t.workspaceId,
        name: 'Ada Lovelace',
        phone: '+447911123789',
        whatsapp: '+14155552671',
        timezone: 'Europe/London',
        locale: 'en-GB',
        is_active: true,
      });
      expect(res.body.opt_out).to.deep.equal({ email: false, sms: true, whatsapp: false });
    });

    it('stores each number encrypted for its row, beside its keyed hash', async () => {
      const res = await create(t.owner, { name: unique('Enc'), phone: '+447911123123' }).expect(201);
      const row = (await db()('clients').where({ id: res.body.id }).first()) as { phone: string; phone_hash: string };
      expect(row.phone).to.not.include('7911123123');
      const ctx = { table: 'clients', column: 'phone', rowId: res.body.id as string };
      expect(getFieldCipher().decrypt(row.phone, ctx)).to.equal('+447911123123');
      expect(row.phone_hash).to.equal(searchHash('+447911123123'));
    });

    it('answers 422 naming a number that is national or impossible', async () => {
      const res = await create(t.owner, { name: 'X', phone: '07700 900789', whatsapp: '+44 12' }).expect(422);
      expect((res.body.detail as { loc: string[] }[]).map((d) => d.loc.join('.'))).to.deep.equal([
        'body.phone',
        'body.whatsapp',
      ]);
    });

    it('answers 409 CLIENT_EXTERNAL_REF_EXISTS for an external_ref already in the workspace', async () => {
      const ref = unique('ref');
      await create(t.owner, { name: 'A', external_ref: ref }).expect(201);
      const res = await create(t.owner, { name: 'B', external_ref: ref }).expect(409);
      expect(res.body.code).to.equal('CLIENT_EXTERNAL_REF_EXISTS');
    });

    it('answers 403 to a member and 403 NO_WORKSPACE to a caller without a workspace', async () => {
      await create(t.member, { name: 'No' }).expect(403);
      const loner = await signUp(testApp());
      const res = await create(loner, { name: 'No' }).expect(403);
      expect(res.body.code).to.equal('NO_WORKSPACE');
      const list = await request(testApp()).get('/clients/').set(loner.auth).expect(200);
      expect(list.body).to.deep.equal({ items: [], next_cursor: null });
    });

    it('lets the platform admin create in the workspace it names, and requires it to name one', async () => {
      const root = await superuser(testApp());
      await create(root, { name: 'Root-made' }).expect(422);
      const res = await create(root, { name: 'Root-made', workspace_id: t.workspaceId }).expect(201);
      expect(res.body.workspace_id).to.equal(t.workspaceId);
      await create(root, { name: 'Nowhere', workspace_id: randomUUID() }).expect(404);
    });
  });

  describe('GET /clients/{id}', () => {
    it('masks the numbers to a member and shows them to owners and admins', async () => {
      const { body } = await create(t.owner, { name: unique('Mask'), phone: '+447911123789' }).expect(201);
      const asMember = await request(testApp()).get(`/clients/${body.id}`).set(t.member.auth).expect(200);
      expect(asMember.body.phone).to.equal('+44••••••789');
      const asAdmin = await request(testApp()).get(`/clients/${body.id}`).set(t.admin.auth).expect(200);
      expect(asAdmin.body.phone).to.equal('+447911123789');
      const list = await request(testApp()).get('/clients/').query({ search: body.name }).set(t.member.auth);
      expect(list.body.items[0].phone).to.equal('+44••••••789');
    });

    it('counts the reminders (all and active), notifications and payments the client really has', async () => {
      const { body } = await create(t.owner, { name: unique('Counted') }).expect(201);
      const reminder = (status: string) => ({
        workspace_id: t.workspaceId,
        title: 'Pay',
        type: 'notification',
        message_template: 'Hi',
        channels: ['email'],
        schedule: JSON.stringify({ kind: 'once', send_at: '2031-01-01T09:00:00Z' }),
        schedule_kind: 'once',
        status,
      });
      const ids = await db()('reminders')
        .insert([reminder('active'), reminder('paused')])
        .returning<{ id: string }[]>('id');
      await db()('reminder_clients').insert(
        ids.map(({ id }) => ({ reminder_id: id, client_id: body.id, workspace_id: t.workspaceId })),
      );
      await db()('notifications').insert({
        workspace_id: t.workspaceId,
        kind: 'reminder',
        channel: 'email',
        dedupe_key: unique('dk'),
        client_id: body.id,
        reminder_id: ids[0]?.id,
      });
      await db()('payments').insert(
        ['2031-01-01T09:00:00Z', '2031-02-01T09:00:00Z'].map((occurrence_at) => ({
          workspace_id: t.workspaceId,
          client_id: body.id,
          occurrence_at,
          amount: 1200,
          currency: 'EUR',
        })),
      );
      const res = await request(testApp()).get(`/clients/${body.id}`).set(t.member.auth).expect(200);
      expect(res.body.counts).to.deep.equal({ reminders: 2, active_reminders: 1, notifications: 1, payments: 2 });
    });
  });

  describe('GET /clients/', () => {
    let ws: Team;
    before(async function () {
      this.timeout(30_000);
      ws = await team(testApp());
      for (const [name, email, active] of [
        ['bravo', 'b@example.com', true],
        ['Alpha', 'zulu@Example.com', true],
        ['charlie', 'c@example.com', false],
        ['alpha', 'a2@example.com', true],
      ] as const)
        await create(ws.owner, { name, email, is_active: active }).expect(201);
    });

    const list = (query: object) => request(testApp()).get('/clients/').query(query).set(ws.member.auth).expect(200);

    it('pages by case-insensitive name then id, with an opaque cursor, and never repeats or skips', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await list({ limit: 1, ...(cursor ? { cursor } : {}) });
        expect(res.body.items).to.have.length(1);
        seen.push(res.body.items[0].name as string);
        cursor = (res.body.next_cursor as string | null) ?? undefined;
      } while (cursor);
      expect(seen.map((s) => s.toLowerCase())).to.deep.equal(['alpha', 'alpha', 'bravo', 'charlie']);
      const all = await list({});
      expect(all.body.next_cursor).to.equal(null);
      expect((all.body.items as { name: string }[]).map((c) => c.name)).to.deep.equal(seen);
    });

    it('filters by a case-insensitive search on name or email, and by is_active', async () => {
      const byName = await list({ search: 'ALP' });
      expect((byName.body.items as { name: string }[]).map((c) => c.name.toLowerCase())).to.deep.equal([
        'alpha',
        'alpha',
      ]);
      const byEmail = await list({ search: 'zULu@' });
      expect((byEmail.body.items as { name: string }[]).map((c) => c.name)).to.deep.equal(['Alpha']);
      const inactive = await list({ is_active: false });
      expect((inactive.body.items as { name: string }[]).map((c) => c.name)).to.deep.equal(['charlie']);
      const wildcard = await list({ search: '%' });
      expect(wildcard.body.items).to.deep.equal([]);
    });

    it('answers 422 for a limit out of 1–200 or a cursor it did not give', async () => {
      await request(testApp()).get('/clients/').query({ limit: 0 }).set(ws.member.auth).expect(422);
      await request(testApp()).get('/clients/').query({ limit: 201 }).set(ws.member.auth).expect(422);
      const res = await request(testApp()).get('/clients/').query({ cursor: 'bm9wZQ' }).set(ws.member.auth).expect(422);
      expect(res.body.detail[0].loc).to.deep.equal(['query', 'cursor']);
    });

    it("shows only the caller's workspace", async () => {
      const res = await list({ limit: 200 });
      expect((res.body.items as { workspace_id: string }[]).every((c) => c.workspace_id === ws.workspaceId)).to.equal(
        true,
      );
    });
  });

  describe('PATCH and PUT /clients/{id}', () => {
    it('changes only the fields given, PUT as PATCH, and clears a number with null', async () => {
      const { body } = await create(t.owner, { name: unique('P'), phone: '+447911123789', notes: 'keep' }).expect(201);
      const patched = await request(testApp())
        .patch(`/clients/${body.id}`)
        .set(t.admin.auth)
        .send({ phone: null, opt_out: { email: true } })
        .expect(200);
      expect(patched.body).to.include({ phone: null, notes: 'keep' });
      expect(patched.body.opt_out).to.deep.equal({ email: true, sms: false, whatsapp: false });
      const put = await request(testApp())
        .put(`/clients/${body.id}`)
        .set(t.admin.auth)
        .send({ whatsapp: '+14155552671' })
        .expect(200);
      expect(put.body).to.include({ name: body.name, whatsapp: '+14155552671', notes: 'keep' });
      const row = (await db()('clients').where({ id: body.id }).first()) as { phone_hash: string | null };
      expect(row.phone_hash).to.equal(null);
    });
  });

  describe('DELETE /clients/{id}', () => {
    it('deletes the client and keeps its notifications with client_id set null', async () => {
      const { body } = await create(t.owner, { name: unique('Gone') }).expect(201);
      const [n] = await db()('notifications')
        .insert({
          workspace_id: t.workspaceId,
          kind: 'reminder',
          channel: 'email',
          dedupe_key: unique('dk'),
          client_id: body.id,
        })
        .returning<{ id: string }[]>('id');
      await request(testApp()).delete(`/clients/${body.id}`).set(t.member.auth).expect(403);
      await request(testApp()).delete(`/clients/${body.id}`).set(t.admin.auth).expect(204);
      await request(testApp()).get(`/clients/${body.id}`).set(t.admin.auth).expect(404);
      const kept = (await db()('notifications').where({ id: n?.id }).first()) as { client_id: string | null };
      expect(kept.client_id).to.equal(null);
    });
  });
});
