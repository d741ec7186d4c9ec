// Every id-taking route, called with another workspace's ids and with a lower role. The list of routes is read from
// Express's own routing table, so a new id route without a case here fails this test.
import { expect } from 'chai';
import request from 'supertest';
import { testApp, testDeps, servedRoutes, team, superuser, unique, type Session } from '../helpers';
import { insertClient, insertNotification, insertReminder } from '../notifications/notification-fixtures';

type Team = Awaited<ReturnType<typeof team>>;

interface Fixture {
  a: Team;
  b: Team;
  standaloneA: string;
  standaloneB: string;
}

/** Each team's reminder and notification, inserted directly (their write APIs belong to other routes). */
const rows = new Map<string, { reminder: string; notification: string }>();

/** The id a route's `:id` takes, in the given team, for a caller who is not its owner. */
function idFor(path: string, t: Team, standalone: string): string {
  if (path.startsWith('/users/')) return t.admin.user.id;
  if (path.startsWith('/workspaces/')) return t.workspaceId;
  if (path.startsWith('/birthdays/')) return standalone;
  if (path.startsWith('/reminders/')) return rows.get(t.workspaceId)!.reminder;
  if (path.startsWith('/notifications/')) return rows.get(t.workspaceId)!.notification;
  throw new Error(`no tenancy case for ${path}: add one to tenancy.test.ts`);
}

const BODIES: Record<string, object> = {
  '/users/:id': { name: 'Changed' },
  '/workspaces/:id': { name: 'Changed Name' },
  '/workspaces/:id/invites': {},
  '/birthdays/:id': { name: 'Changed' },
};

function call(method: string, path: string, id: string, who: Session) {
  const url = path.replace(':id', id);
  const r = request(testApp())[method as 'get'](url).set(who.auth);
  return method === 'get' || method === 'delete' ? r : r.send(BODIES[path] ?? {});
}

describe('tenancy', () => {
  const fx = {} as Fixture;
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
      const db = testDeps().db;
      const client = await insertClient(db, t.workspaceId, unique('Client'));
      const reminder = await insertReminder(db, t.workspaceId, [client]);
      const notification = await insertNotification(db, t.workspaceId, {
        reminder_id: reminder,
        client_id: client,
        status: 'failed',
      });
      rows.set(t.workspaceId, { reminder, notification: notification.id });
    }
  });

  it('covers every id-taking route', () => {
    const routes = idRoutes();
    expect(routes.length).to.be.at.least(8);
    for (const r of routes) expect(() => idFor(r.path, fx.a, fx.standaloneA), r.path).to.not.throw();
  });

  it("answers 404 to every role for another workspace's ids, and changes nothing", async () => {
    const successes: string[] = [];
    const not404: string[] = [];
    for (const r of idRoutes()) {
      for (const who of [fx.a.owner, fx.a.admin, fx.a.member]) {
        const res = await call(r.method, r.path, idFor(r.path, fx.b, fx.standaloneB), who);
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
  });

  it("refuses a member every write on their own workspace's other rows", async () => {
    const successes: string[] = [];
    for (const r of idRoutes().filter((x) => x.method !== 'get')) {
      const res = await call(r.method, r.path, idFor(r.path, fx.a, fx.standaloneA), fx.a.member);
      if (res.status < 400) successes.push(`${r.method.toUpperCase()} ${r.path}: ${res.status}`);
      else expect(res.status, `${r.method.toUpperCase()} ${r.path}`).to.equal(403);
    }
    expect(successes).to.deep.equal([]);
  });

  it("lets a member read their own workspace's rows", async () => {
    for (const r of idRoutes().filter((x) => x.method === 'get')) {
      await call(r.method, r.path, idFor(r.path, fx.a, fx.standaloneA), fx.a.member).expect(200);
    }
  });

  it('answers 422 for a malformed id', async () => {
    for (const r of idRoutes()) {
      const res = await call(r.method, r.path, 'not-a-uuid', fx.a.owner);
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
  });
});
