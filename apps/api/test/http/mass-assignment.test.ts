// Mass assignment: every create and update schema, read from the routes themselves, refuses fields the caller may
// not set (403 for a known field on an update, 422 otherwise), and never silently drops them.
import { expect } from 'chai';
import request from 'supertest';
import { createServices } from '../../src/services';
import { allRoutes } from '../../src/routes';
import { testApp, testDeps, team, unique } from '../helpers';
import { insertNotification } from '../notifications/notification-fixtures';

const FORBIDDEN: Record<string, unknown> = {
  is_superuser: true,
  is_active: false,
  is_verified: true,
  role: 'owner',
  token_version: 99,
  user_id: '00000000-0000-4000-8000-000000000000',
  hashed_password: 'x',
  password_hash: 'x',
  id: '00000000-0000-4000-8000-000000000000',
  created_at: '2020-01-01T00:00:00Z',
  zzz_unknown: 1,
};

describe('mass assignment', () => {
  it('refuses every forbidden field on every route with a body, as the caller with the least rights', async function () {
    this.timeout(60_000);
    const t = await team(testApp());
    // An import's body is a list of rows, each checked on its own: clients-import.test.ts shows a row with a field a
    // client does not have (id, workspace_id...) refused, naming it.
    const routes = allRoutes(createServices(testDeps())).filter(
      (r) => r.schemas?.body && ['post', 'put', 'patch'].includes(r.method) && r.path !== '/clients/import',
    );
    expect(routes.length).to.be.at.least(10);
    const notification = await insertNotification(testDeps().db, t.workspaceId, { status: 'failed' });
    const idFor = (path: string) =>
      path.startsWith('/users/')
        ? t.member.user.id
        : path.startsWith('/workspaces/')
          ? t.workspaceId
          : ['/birthdays/', '/clients/', '/channel-accounts/', '/reminders/'].some((p) => path.startsWith(p))
            ? '00000000-0000-4000-8000-000000000001'
            : path.startsWith('/notifications/')
              ? notification.id
              : unique();
    // A body valid but for the field tried, where the route requires more, so the field alone decides the answer.
    const BASES: Record<string, object> = {
      '/clients/': { name: 'Base' },
      '/channel-accounts/': { channel: 'email', provider: 'sendgrid' },
    };
    const accepted: string[] = [];
    for (const r of routes) {
      for (const [field, value] of Object.entries(FORBIDDEN)) {
        const url = r.path.replace(':id', idFor(r.path));
        const res = await request(testApp())
          [r.method as 'post'](url)
          .set(r.access === 'public' ? {} : t.member.auth)
          .send({ ...(r.method === 'post' ? BASES[r.path] : {}), [field]: value });
        const where = `${r.method.toUpperCase()} ${r.path} ${field}: ${res.status} ${JSON.stringify(res.body)}`;
        if (res.status < 400) accepted.push(where);
        else if (res.status === 422) {
          const named =
            Array.isArray(res.body.detail) &&
            (res.body.detail as { loc: unknown[] }[]).some((d) => d.loc.includes(field));
          // A 422 may be about a missing required field too; the forbidden one must be among the failures.
          expect(named, where).to.equal(true);
        } else expect([401, 403, 404], where).to.include(res.status);
      }
    }
    expect(accepted).to.deep.equal([]);
    // Nothing changed.
    const me = (await request(testApp()).get('/users/me').set(t.member.auth).expect(200)).body;
    expect(me).to.include({ role: 'member', is_superuser: false, is_active: true, is_verified: false });
  });

  it('answers 403 when an owner sets a field only the platform admin may set, and 422 for an unknown one', async () => {
    const t = await team(testApp());
    for (const field of ['is_superuser', 'is_verified', 'workspace_id', 'email']) {
      const value = field === 'workspace_id' ? null : field === 'email' ? `${unique()}@example.com` : true;
      const res = await request(testApp())
        .patch(`/users/${t.member.user.id}`)
        .set(t.owner.auth)
        .send({ [field]: value });
      expect(res.status, field).to.equal(403);
    }
    await request(testApp()).patch(`/users/${t.member.user.id}`).set(t.owner.auth).send({ zzz: 1 }).expect(422);
    await request(testApp())
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.owner.auth)
      .send({ slack_status: 'ok' })
      .expect(403);
  });
});
