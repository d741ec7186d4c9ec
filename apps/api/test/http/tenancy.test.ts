// Every id-taking route, called with another workspace's ids and with a lower role. The list of routes is read from
// Express's own routing table, so a new id route without a case here fails this test.
import { expect } from 'chai';
import request from 'supertest';
import { testApp, testDeps, servedRoutes, team, superuser, unique, type Session } from '../helpers';
import { insertNotification } from '../notifications/notification-fixtures';
import { insertPayment } from '../payments/payment-fixtures';

type Team = Awaited<ReturnType<typeof team>>;

interface Fixture {
  a: Team;
  b: Team;
  standaloneA: string;
  standaloneB: string;
  /** An unused invite of each workspace, for the routes that take an invite id. */
  inviteA: string;
  inviteB: string;
  clients: Map<string, string>;
  accounts: Map<string, string>;
  reminderA: string;
  reminderB: string;
  clientA: string;
}

const fx = { clients: new Map(), accounts: new Map() } as Fixture;

/** Each team's notification, inserted directly: workers write them, the API only reads and acts on them. */
const notifications = new Map<string, string>();
/** Each team's open payment, inserted directly: the billing worker makes them. */
const payments = new Map<string, string>();

/** The id a route's `:id` takes, in the given team, for a caller who is not its owner. */
function idFor(path: string, t: Team, standalone: string, reminder: string): string {
  if (path.startsWith('/users/')) return t.admin.user.id;
  if (path.startsWith('/workspaces/')) return t.workspaceId;
  if (path.startsWith('/birthdays/')) return standalone;
  if (path.startsWith('/clients/')) return fx.clients.get(t.workspaceId) as string;
  if (path.startsWith('/channel-accounts/')) return fx.accounts.get(t.workspaceId) as string;
  if (path.startsWith('/reminders/')) return reminder;
  if (path.startsWith('/notifications/')) return notifications.get(t.workspaceId)!;
  if (path.startsWith('/payments/')) return payments.get(t.workspaceId)!;
  throw new Error(`no tenancy case for ${path}: add one to tenancy.test.ts`);
}

/** Reads that only the workspace's owners and admins may make: a member gets 403, not 200. */
const MANAGER_READS = new Set(['/workspaces/:id/invites']);

const BODIES: Record<string, object> = {
  '/users/:id': { name: 'Changed' },
  '/workspaces/:id': { name: 'Changed Name' },
  '/workspaces/:id/invites': {},
  '/birthdays/:id': { name: 'Changed' },
  '/clients/:id': { name: 'Changed' },
  '/channel-accounts/:id': { name: 'Changed' },
  '/reminders/:id': { title: 'Changed' },
  // A client of workspace A: a foreign reminder must answer 404 before its clients are looked at.
  '/reminders/:id/clients': { client_ids: ['00000000-0000-4000-8000-000000000000'] },
};

/** DELETE routes that take a body; any other DELETE is sent none, even when its path has a PATCH body above. */
const DELETE_WITH_BODY = new Set(['/reminders/:id/clients']);

function call(method: string, path: string, id: string, who: Session, inviteId?: string) {
  const url = path.replace(':id', id).replace(':invite_id', inviteId ?? '00000000-0000-4000-8000-000000000000');
  const r = request(testApp())[method as 'get'](url).set(who.auth);
  const body = method === 'delete' && !DELETE_WITH_BODY.has(path) ? undefined : BODIES[path];
  // A route without a body (GET, DELETE, POST /reminders/:id/pause) is called without one.
  return method === 'get' || !body ? r : r.send(body);
}

describe('tenancy', () => {
  const idRoutes = () => servedRoutes(testApp()).filter((r) => r.path.includes(':id') && !r.path.startsWith('/api/v1'));

  before(async function () {
    this.timeout(30_000);
    fx.a = await team(testApp());
    fx.b = await team(testApp());
    const root = await superuser(testApp());
    for (const [t, key] of [
      [fx.a, 'standaloneA'],
      [fx.b, 'standaloneB'],
    ] as const) {
      const res = await request(testApp())
        .post('/birthdays/')
        .set(root.auth)
        .send({ name: unique('Solo'), date_of_birth: '1985-06-07', workspace_id: t.workspaceId })
        .expect(201);
      fx[key] = res.body.id as string;
      notifications.set(
        t.workspaceId,
        (await insertNotification(testDeps().db, t.workspaceId, { status: 'failed' })).id,
      );
      payments.set(t.workspaceId, (await insertPayment(testDeps().db, t.workspaceId)).id);
      const client = await request(testApp())
        .post('/clients/')
        .set(t.owner.auth)
        .send({ name: unique('Client'), phone: '+447911123789' })
        .expect(201);
      fx.clients.set(t.workspaceId, client.body.id as string);
      const account = await request(testApp())
        .post('/channel-accounts/')
        .set(t.owner.auth)
        .send({
          channel: 'email',
          provider: 'smtp',
          from_email: 'a@example.com',
          smtp_url: 'smtp://u:p@127.0.0.1:2525',
        })
        .expect(201);
      fx.accounts.set(t.workspaceId, account.body.id as string);
    }
    for (const [t, key] of [
      [fx.a, 'inviteA'],
      [fx.b, 'inviteB'],
    ] as const) {
      await request(testApp()).post(`/workspaces/${t.workspaceId}/invites`).set(t.owner.auth).send({}).expect(201);
      const page = await request(testApp()).get(`/workspaces/${t.workspaceId}/invites`).set(t.owner.auth).expect(200);
      fx[key] = (page.body.items as { id: string }[])[0]?.id as string;
    }
    for (const [t, key] of [
      [fx.a, 'reminderA'],
      [fx.b, 'reminderB'],
    ] as const) {
      const [client] = await testDeps()
        .db<{ id: string; workspace_id: string; name: string; timezone: string }>('clients')
        .insert({ workspace_id: t.workspaceId, name: unique('Client'), timezone: 'UTC' })
        .returning('id');
      if (t === fx.a) fx.clientA = (client as { id: string }).id;
      const res = await request(testApp())
        .post('/reminders/')
        .set(t.owner.auth)
        .send({
          title: unique('Reminder'),
          type: 'notification',
          message_template: 'Hello {{client.name}}',
          schedule: { kind: 'recurring', rrule: 'FREQ=DAILY;BYHOUR=9', timezone: 'UTC' },
          client_ids: [(client as { id: string }).id],
        })
        .expect(201);
      fx[key] = res.body.id as string;
    }
    BODIES['/reminders/:id/clients'] = { client_ids: [fx.clientA] };
  });

  it('covers every id-taking route', () => {
    const routes = idRoutes();
    expect(routes.length).to.be.at.least(8);
    for (const r of routes) expect(() => idFor(r.path, fx.a, fx.standaloneA, fx.reminderA), r.path).to.not.throw();
  });

  it("answers 404 to every role for another workspace's ids, and changes nothing", async () => {
    const successes: string[] = [];
    const not404: string[] = [];
    for (const r of idRoutes()) {
      for (const who of [fx.a.owner, fx.a.admin, fx.a.member]) {
        const res = await call(r.method, r.path, idFor(r.path, fx.b, fx.standaloneB, fx.reminderB), who, fx.inviteB);
        if (res.status < 400) successes.push(`${r.method.toUpperCase()} ${r.path} as ${who.user.role}: ${res.status}`);
        else if (res.status !== 404)
          not404.push(`${r.method.toUpperCase()} ${r.path} as ${who.user.role}: ${res.status}`);
      }
    }
    expect(successes).to.deep.equal([]);
    expect(not404).to.deep.equal([]);
    // B is intact.
    await request(testApp()).get(`/workspaces/${fx.b.workspaceId}`).set(fx.b.member.auth).expect(200);
    await request(testApp()).get(`/users/${fx.b.admin.user.id}`).set(fx.b.member.auth).expect(200);
    const reminderB = await request(testApp()).get(`/reminders/${fx.reminderB}`).set(fx.b.member.auth).expect(200);
    expect(reminderB.body).to.include({ status: 'active', title: reminderB.body.title });
    expect(reminderB.body.client_ids).to.have.length(1);
    const invites = await request(testApp()).get(`/workspaces/${fx.b.workspaceId}/invites`).set(fx.b.owner.auth);
    expect((invites.body.items as { id: string }[]).map((i) => i.id)).to.include(fx.inviteB);
  });

  it("answers 404 for another workspace's invite named under one's own workspace", async () => {
    await call('delete', '/workspaces/:id/invites/:invite_id', fx.a.workspaceId, fx.a.owner, fx.inviteB).expect(404);
  });

  it("refuses a member every write on their own workspace's other rows", async () => {
    const successes: string[] = [];
    for (const r of idRoutes().filter((x) => x.method !== 'get')) {
      const res = await call(
        r.method,
        r.path,
        idFor(r.path, fx.a, fx.standaloneA, fx.reminderA),
        fx.a.member,
        fx.inviteA,
      );
      if (res.status < 400) successes.push(`${r.method.toUpperCase()} ${r.path}: ${res.status}`);
      else expect(res.status, `${r.method.toUpperCase()} ${r.path}`).to.equal(403);
    }
    expect(successes).to.deep.equal([]);
  });

  it("lets a member read their own workspace's rows", async () => {
    for (const r of idRoutes().filter((x) => x.method === 'get')) {
      const id = idFor(r.path, fx.a, fx.standaloneA, fx.reminderA);
      if (MANAGER_READS.has(r.path)) {
        await call(r.method, r.path, id, fx.a.member).expect(403);
        await call(r.method, r.path, id, fx.a.admin).expect(200);
      } else await call(r.method, r.path, id, fx.a.member).expect(200);
    }
  });

  it('answers 422 for a malformed id', async () => {
    for (const r of idRoutes()) {
      const res = await call(r.method, r.path, 'not-a-uuid', fx.a.owner, fx.inviteA);
      expect(res.status, `${r.method.toUpperCase()} ${r.path}`).to.equal(422);
      expect(res.body.detail[0].loc).to.deep.equal(['path', 'id']);
    }
  });

  it("keeps tenant listings to the caller's workspace", async () => {
    const users = (await request(testApp()).get('/users/').set(fx.a.member.auth).expect(200)).body as {
      workspace_id: string;
    }[];
    expect(users.map((u) => u.workspace_id)).to.satisfy((ids: string[]) => ids.every((id) => id === fx.a.workspaceId));
    const ws = (await request(testApp()).get('/workspaces/').set(fx.a.member.auth).expect(200)).body as {
      id: string;
    }[];
    expect(ws.map((w) => w.id)).to.deep.equal([fx.a.workspaceId]);
    const bdays = (await request(testApp()).get('/birthdays/').set(fx.a.member.auth).expect(200)).body as {
      workspace_id: string;
    }[];
    expect(bdays.length).to.be.at.least(4);
    expect(bdays.every((b) => b.workspace_id === fx.a.workspaceId)).to.equal(true);
    for (const path of ['/clients/', '/channel-accounts/']) {
      const page = (await request(testApp()).get(path).set(fx.a.member.auth).expect(200)).body as {
        items: { workspace_id: string }[];
      };
      expect(page.items.length, path).to.be.at.least(1);
      expect(
        page.items.every((x) => x.workspace_id === fx.a.workspaceId),
        path,
      ).to.equal(true);
    }
    const reminders = (await request(testApp()).get('/reminders/').set(fx.a.member.auth).expect(200)).body as {
      items: { id: string; workspace_id: string }[];
    };
    expect(reminders.items.map((r) => r.id)).to.include(fx.reminderA);
    expect(reminders.items.every((r) => r.workspace_id === fx.a.workspaceId)).to.equal(true);
  });
});
