// The /reminders API against the real database: validation that names the field, tenancy, assignments, pause and
// resume, and the next run kept per assignment. Clients are inserted directly (the clients API is another branch).
import { expect } from 'chai';
import request from 'supertest';
import { DateTime } from 'luxon';
import { markReminderCompleted } from '@nudge/db';
import { signUp, superuser, team, testApp, testDeps, unique } from '../helpers';

type Team = Awaited<ReturnType<typeof team>>;

async function insertClient(workspaceId: string, over: Record<string, unknown> = {}): Promise<string> {
  const [row] = await testDeps()
    .db<{ id: string; workspace_id: string; name: string; timezone: string; locale: string }>('clients')
    .insert({ workspace_id: workspaceId, name: unique('Client '), timezone: 'Europe/London', locale: 'en-GB', ...over })
    .returning('id');
  return (row as { id: string }).id;
}

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const daily9 = { kind: 'recurring', rrule: 'FREQ=DAILY;BYHOUR=9;BYMINUTE=0', timezone: 'Europe/London' };

function body(over: Record<string, unknown> = {}) {
  return {
    title: unique('Invoice '),
    type: 'deadline',
    message_template: 'Hi {{client.name}}, {{reminder.title}} is due {{due_date}}',
    schedule: { kind: 'once', send_at: inMinutes(60) },
    client_ids: [],
    ...over,
  };
}

async function assignments(reminderId: string) {
  const rows: { client_id: string; next_run_at: Date | null }[] = await testDeps()
    .db('reminder_clients')
    .where({ reminder_id: reminderId })
    .select('client_id', 'next_run_at');
  return rows;
}

function issueLocs(res: request.Response): string[] {
  return (res.body.detail as { loc: (string | number)[] }[]).map((d) => d.loc.join('.'));
}

describe('reminders', () => {
  let t: Team;
  let other: Team;
  before(async function () {
    this.timeout(30_000);
    t = await team(testApp());
    other = await team(testApp());
  });
  const post = (b: object, who = t.owner) => request(testApp()).post('/reminders/').set(who.auth).send(b);

  describe('POST /reminders/', () => {
    it('creates a one-time reminder, echoes its schedule and sets each next run to send_at', async () => {
      const c1 = await insertClient(t.workspaceId);
      const schedule = { kind: 'once', send_at: DateTime.now().plus({ hours: 2 }).startOf('minute').toISO() };
      const res = await post(body({ schedule, client_ids: [c1] })).expect(201);
      expect(res.body.schedule).to.deep.equal(schedule);
      expect(res.body).to.include({
        status: 'active',
        subject_template: '{{reminder.title}}',
        workspace_id: t.workspaceId,
      });
      expect(res.body.client_ids).to.deep.equal([c1]);
      expect(res.body.channels).to.deep.equal(['auto']);
      expect(new Date(res.body.next_run_at as string).getTime()).to.equal(Date.parse(schedule.send_at));
      const [a] = await assignments(res.body.id as string);
      expect(a?.next_run_at?.getTime()).to.equal(Date.parse(schedule.send_at));
    });

    it("uses the workspace's default channels when none are given", async () => {
      const t2 = await team(testApp());
      await testDeps()
        .db('workspaces')
        .where({ id: t2.workspaceId })
        .update({ default_channels: ['sms', 'email'] });
      const res = await post(body(), t2.owner).expect(201);
      expect(res.body.channels).to.deep.equal(['sms', 'email']);
      const own = await post(body({ channels: ['whatsapp', 'auto'] }), t2.owner).expect(201);
      expect(own.body.channels).to.deep.equal(['whatsapp', 'auto']);
    });

    it("stores a payment's currency upper-case, defaulting to the workspace's", async () => {
      const given = await post(
        body({ type: 'payment', amount: 12345, currency: 'eur', due_date: '2027-03-15' }),
      ).expect(201);
      expect(given.body).to.include({ amount: 12345, currency: 'EUR', due_date: '2027-03-15' });
      const dflt = await post(body({ type: 'payment', amount: 500 })).expect(201);
      expect(dflt.body.currency).to.equal('USD');
    });

    it('runs a recurring reminder in its zone: 09:00 London, within the next day', async () => {
      const c1 = await insertClient(t.workspaceId);
      const res = await post(body({ schedule: daily9, client_ids: [c1] })).expect(201);
      const next = DateTime.fromISO(res.body.next_run_at as string, { zone: 'Europe/London' });
      expect([next.hour, next.minute]).to.deep.equal([9, 0]);
      expect(next.toMillis()).to.be.greaterThan(Date.now());
      expect(next.toMillis() - Date.now()).to.be.at.most(25 * 3600_000);
    });

    it("runs a 'recipient' reminder at 09:00 in each client's own zone, the reminder at the earliest", async () => {
      const london = await insertClient(t.workspaceId, { timezone: 'Europe/London' });
      const tokyo = await insertClient(t.workspaceId, { timezone: 'Asia/Tokyo' });
      const res = await post(
        body({ schedule: { ...daily9, timezone: 'recipient' }, client_ids: [london, tokyo] }),
      ).expect(201);
      const runs = await assignments(res.body.id as string);
      const at = (id: string, zone: string) =>
        DateTime.fromJSDate(runs.find((r) => r.client_id === id)?.next_run_at as Date, { zone });
      expect(at(london, 'Europe/London').hour).to.equal(9);
      expect(at(tokyo, 'Asia/Tokyo').hour).to.equal(9);
      const min = Math.min(...runs.map((r) => (r.next_run_at as Date).getTime()));
      expect(new Date(res.body.next_run_at as string).getTime()).to.equal(min);
    });

    it('answers 422 naming schedule.rrule for an RRULE the library refuses or that matches no date', async () => {
      for (const rrule of ['FREQ=SOMETIMES', 'FREQ=DAILY;BYHOUR=25', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30']) {
        const res = await post(body({ schedule: { ...daily9, rrule } })).expect(422);
        expect(issueLocs(res), rrule).to.deep.equal(['body.schedule.rrule']);
      }
    });

    it('answers 422 naming the field for a duplicate client, a missing amount, an unknown variable', async () => {
      const c1 = await insertClient(t.workspaceId);
      expect(issueLocs(await post(body({ client_ids: [c1, c1] })).expect(422))).to.deep.equal(['body.client_ids.1']);
      expect(issueLocs(await post(body({ type: 'payment' })).expect(422))).to.deep.equal(['body.amount']);
      const badVar = await post(body({ message_template: 'Hi {{client.email}}' })).expect(422);
      expect(issueLocs(badVar)).to.deep.equal(['body.message_template']);
      expect(JSON.stringify(badVar.body.detail)).to.contain('{{client.email}}');
      const badSubject = await post(body({ subject_template: '{{nope}}' })).expect(422);
      expect(issueLocs(badSubject)).to.deep.equal(['body.subject_template']);
    });

    it('answers 422 for a send_at less than a minute ahead, an http document, until with count, a bad zone', async () => {
      expect(
        issueLocs(await post(body({ schedule: { kind: 'once', send_at: inMinutes(0.5) } })).expect(422)),
      ).to.deep.equal(['body.schedule.send_at']);
      expect(issueLocs(await post(body({ document_url: 'http://example.com/a.pdf' })).expect(422))).to.deep.equal([
        'body.document_url',
      ]);
      const both = { ...daily9, until: '2030-01-01T00:00:00Z', count: 3 };
      expect(issueLocs(await post(body({ schedule: both })).expect(422))).to.deep.equal(['body.schedule']);
      const zone = await post(body({ schedule: { ...daily9, timezone: 'Mars/Olympus' } })).expect(422);
      expect(issueLocs(zone)).to.deep.equal(['body.schedule.timezone']);
      const past = await post(body({ schedule: { ...daily9, until: '2020-01-01T00:00:00Z' } })).expect(422);
      expect(issueLocs(past)).to.deep.equal(['body.schedule']);
      await post(body({ currency: 'XYZ', type: 'payment', amount: 1 })).expect(422);
    });

    it("answers 404 for an unknown client or another workspace's, and creates nothing", async () => {
      const foreign = await insertClient(other.workspaceId);
      const title = unique('Nothing ');
      await post(body({ title, client_ids: [foreign] })).expect(404);
      await post(body({ title, client_ids: ['00000000-0000-4000-8000-000000000000'] })).expect(404);
      expect(await testDeps().db('reminders').where({ title }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    });

    it('refuses a member (403) and a caller without a workspace (403 NO_WORKSPACE)', async () => {
      await post(body(), t.member).expect(403);
      const loner = await signUp(testApp());
      const res = await post(body(), loner).expect(403);
      expect(res.body.code).to.equal('NO_WORKSPACE');
    });

    it('lets the platform admin create in a workspace it names, and only so', async () => {
      const root = await superuser(testApp());
      expect(issueLocs(await post(body(), root).expect(422))).to.deep.equal(['body.workspace_id']);
      const res = await post(body({ workspace_id: t.workspaceId }), root).expect(201);
      expect(res.body.workspace_id).to.equal(t.workspaceId);
      await post(body({ workspace_id: other.workspaceId }), t.owner).expect(404);
    });
  });

  describe('GET /reminders/', () => {
    it('pages with an opaque cursor and filters by status, type and client', async () => {
      const t2 = await team(testApp());
      const c1 = await insertClient(t2.workspaceId);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await post(body({ client_ids: i === 1 ? [c1] : [] }), t2.owner).expect(201)).body.id);
      const pay = (await post(body({ type: 'payment', amount: 100 }), t2.owner).expect(201)).body.id as string;
      await request(testApp()).post(`/reminders/${ids[2]}/pause`).set(t2.owner.auth).expect(200);

      const list = async (q: string) =>
        (await request(testApp()).get(`/reminders/${q}`).set(t2.member.auth).expect(200)) as {
          body: { items: { id: string }[]; next_cursor: string | null };
        };
      const first = (await list('?limit=2')).body;
      expect(first.items.map((r) => r.id)).to.deep.equal(ids.slice(0, 2));
      const second = (await list(`?limit=2&cursor=${String(first.next_cursor)}`)).body;
      expect(second.items.map((r) => r.id)).to.deep.equal([ids[2], pay]);
      expect((await list(`?limit=2&cursor=${String(second.next_cursor)}`)).body).to.deep.equal({
        items: [],
        next_cursor: null,
      });
      expect((await list('?type=payment')).body.items.map((r) => r.id)).to.deep.equal([pay]);
      expect((await list('?status=paused')).body.items.map((r) => r.id)).to.deep.equal([ids[2]]);
      expect((await list(`?client_id=${c1}`)).body.items.map((r) => r.id)).to.deep.equal([ids[1]]);
    });

    it('answers 422 for a cursor it did not hand out, and an empty page to a caller without a workspace', async () => {
      const res = await request(testApp()).get('/reminders/?cursor=bogus').set(t.member.auth).expect(422);
      expect(issueLocs(res)).to.deep.equal(['query.cursor']);
      const loner = await signUp(testApp());
      const empty = await request(testApp()).get('/reminders/').set(loner.auth).expect(200);
      expect(empty.body).to.deep.equal({ items: [], next_cursor: null });
    });
  });

  describe('PATCH /reminders/{id}', () => {
    it('recomputes every next run when the schedule changes', async () => {
      const c1 = await insertClient(t.workspaceId);
      const created = await post(body({ client_ids: [c1] })).expect(201);
      const id = created.body.id as string;
      const sendAt = DateTime.now().plus({ days: 3 }).startOf('minute').toUTC().toISO();
      const res = await request(testApp())
        .patch(`/reminders/${id}`)
        .set(t.admin.auth)
        .send({ schedule: { kind: 'once', send_at: sendAt } })
        .expect(200);
      expect(res.body.schedule).to.deep.equal({ kind: 'once', send_at: sendAt });
      expect(new Date(res.body.next_run_at as string).getTime()).to.equal(Date.parse(sendAt));
      expect((await assignments(id))[0]?.next_run_at?.getTime()).to.equal(Date.parse(sendAt));
    });

    it('answers 422 naming amount when a reminder becomes a payment without one', async () => {
      const id = (await post(body()).expect(201)).body.id as string;
      const res = await request(testApp()).patch(`/reminders/${id}`).set(t.owner.auth).send({ type: 'payment' });
      expect(res.status).to.equal(422);
      expect(issueLocs(res)).to.deep.equal(['body.amount']);
    });

    it('answers 409 for a cancelled reminder', async () => {
      const id = (await post(body()).expect(201)).body.id as string;
      await request(testApp()).delete(`/reminders/${id}`).set(t.owner.auth).expect(204);
      const res = await request(testApp()).patch(`/reminders/${id}`).set(t.owner.auth).send({ title: 'x' }).expect(409);
      expect(res.body.code).to.equal('REMINDER_FINISHED');
    });
  });

  describe('DELETE /reminders/{id}', () => {
    it('cancels the reminder and clears its runs, keeping it readable', async () => {
      const c1 = await insertClient(t.workspaceId);
      const id = (await post(body({ client_ids: [c1] })).expect(201)).body.id as string;
      await request(testApp()).delete(`/reminders/${id}`).set(t.owner.auth).expect(204);
      const got = await request(testApp()).get(`/reminders/${id}`).set(t.member.auth).expect(200);
      expect(got.body).to.include({ status: 'cancelled', next_run_at: null });
      expect((await assignments(id)).map((a) => a.next_run_at)).to.deep.equal([null]);
      await request(testApp()).delete(`/reminders/${id}`).set(t.owner.auth).expect(204);
    });
  });

  describe('POST and DELETE /reminders/{id}/clients', () => {
    it('assigns and unassigns clients, ignoring duplicates, and keeps the next runs', async () => {
      const [c1, c2, c3] = [
        await insertClient(t.workspaceId),
        await insertClient(t.workspaceId),
        await insertClient(t.workspaceId),
      ];
      const id = (await post(body({ client_ids: [c1] })).expect(201)).body.id as string;
      const added = await request(testApp())
        .post(`/reminders/${id}/clients`)
        .set(t.owner.auth)
        .send({ client_ids: [c2, c2, c1, c3] })
        .expect(200);
      expect(added.body.client_ids).to.have.members([c1, c2, c3]);
      const runs = await assignments(id);
      expect(runs.every((r) => r.next_run_at !== null)).to.equal(true);
      const removed = await request(testApp())
        .delete(`/reminders/${id}/clients`)
        .set(t.owner.auth)
        .send({ client_ids: [c2, c2, c3] })
        .expect(200);
      expect(removed.body.client_ids).to.deep.equal([c1]);
      const emptied = await request(testApp())
        .delete(`/reminders/${id}/clients`)
        .set(t.owner.auth)
        .send({ client_ids: [c1] })
        .expect(200);
      expect(emptied.body).to.include({ next_run_at: null });
    });

    it("answers 404 for another workspace's client and assigns nothing", async () => {
      const id = (await post(body()).expect(201)).body.id as string;
      const foreign = await insertClient(other.workspaceId);
      await request(testApp())
        .post(`/reminders/${id}/clients`)
        .set(t.owner.auth)
        .send({ client_ids: [foreign] })
        .expect(404);
      expect(await assignments(id)).to.deep.equal([]);
    });
  });

  describe('POST /reminders/{id}/pause and /resume', () => {
    it('clears the next runs on pause and computes them again from now on resume', async () => {
      const c1 = await insertClient(t.workspaceId);
      const id = (await post(body({ schedule: daily9, client_ids: [c1] })).expect(201)).body.id as string;
      const paused = await request(testApp()).post(`/reminders/${id}/pause`).set(t.owner.auth).expect(200);
      expect(paused.body).to.include({ status: 'paused', next_run_at: null });
      expect((await assignments(id)).map((a) => a.next_run_at)).to.deep.equal([null]);
      await request(testApp()).post(`/reminders/${id}/pause`).set(t.owner.auth).expect(200);
      const resumed = await request(testApp()).post(`/reminders/${id}/resume`).set(t.owner.auth).expect(200);
      expect(resumed.body.status).to.equal('active');
      expect(DateTime.fromISO(resumed.body.next_run_at as string, { zone: 'Europe/London' }).hour).to.equal(9);
      expect((await assignments(id))[0]?.next_run_at).to.not.equal(null);
    });

    it('answers 409 for a completed reminder', async () => {
      const id = (await post(body()).expect(201)).body.id as string;
      expect(await markReminderCompleted(testDeps().db, id)).to.equal(true);
      for (const action of ['pause', 'resume']) {
        const res = await request(testApp()).post(`/reminders/${id}/${action}`).set(t.owner.auth).expect(409);
        expect(res.body.code).to.equal('REMINDER_FINISHED');
      }
      const got = await request(testApp()).get(`/reminders/${id}`).set(t.owner.auth).expect(200);
      expect(got.body).to.include({ status: 'completed', next_run_at: null });
    });
  });
});
