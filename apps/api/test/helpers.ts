// Real dependencies for API tests: the test database and Redis that `npm test` prepared, nothing mocked.
import { getConfig } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import { getDb } from '@nudge/db';
import { Producers, createRedis } from '@nudge/queue';
import type { Express } from 'express';
import { createApp, type AppDeps } from '../src/index';
import { checkEveryAnswer } from './openapi-conformance';

// Every suite reaches the API through these helpers, so from here on every answer it receives is checked against
// /openapi.json.
checkEveryAnswer();

let deps: AppDeps | undefined;
let app: Express | undefined;

export function testDeps(): AppDeps {
  deps ??= {
    config: getConfig(),
    logger: getLogger(),
    db: getDb(),
    redis: createRedis('client'),
    producers: new Producers(),
  };
  return deps;
}

export function testApp(): Express {
  app ??= createApp(testDeps());
  return app;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  /** Where a router is mounted (`/api/v1`, `/birthdays`; `/` at the root). */
  rawPath?: unknown;
}

/** Every (METHOD, path) the app's routers actually serve, read from Express's own routing table, mounts included. */
export function servedRoutes(app: Express): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const m of Object.keys(layer.route.methods))
          if (m !== '_all') for (const p of paths) out.push({ method: m, path: `${prefix}${p}` });
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  const seen = new Set<string>();
  return out.filter((r) => {
    const k = `${r.method} ${r.path}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { hashPassword } from '@nudge/crypto';
import { insertUser, type UserRow } from '@nudge/db';

export const PASSWORD = 'correct-horse-9';

/** A unique string per call, so tests sharing one database never collide. */
export function unique(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export interface Session {
  user: { id: string; email: string; workspace_id: string | null; role: string | null };
  access: string;
  refresh: string;
  auth: { Authorization: string };
}

export async function login(app: Express, email: string, password = PASSWORD): Promise<Session> {
  const res = await request(app).post('/auth/jwt/login').send({ username: email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  const me = await request(app).get('/users/me').set('Authorization', `Bearer ${res.body.access_token}`);
  return {
    user: me.body,
    access: res.body.access_token,
    refresh: res.body.refresh_token,
    auth: { Authorization: `Bearer ${res.body.access_token}` },
  };
}

/** Registers a user through the API (founding a workspace when given its name) and logs them in. */
export async function signUp(
  app: Express,
  opts: {
    workspace_name?: string;
    invite_token?: string;
    name?: string;
    date_of_birth?: string;
    timezone?: string;
  } = {},
): Promise<Session> {
  const email = `${unique('u')}@example.com`;
  const res = await request(app)
    .post('/auth/register')
    .send({ email, password: PASSWORD, date_of_birth: opts.date_of_birth ?? '1990-04-02', ...opts });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return login(app, email);
}

/** A workspace with an owner, an admin and a member, all signed in. */
export async function team(
  app: Express,
): Promise<{ workspaceId: string; owner: Session; admin: Session; member: Session }> {
  const owner = await signUp(app, { workspace_name: unique('ws') });
  const workspaceId = owner.user.workspace_id as string;
  const invite = async (role: string) =>
    (await request(app).post(`/workspaces/${workspaceId}/invites`).set(owner.auth).send({ role })).body
      .invite_token as string;
  const admin = await signUp(app, { invite_token: await invite('admin') });
  const member = await signUp(app, { invite_token: await invite('member') });
  return { workspaceId, owner, admin, member };
}

/** A platform admin, created directly (the seed does the same), and signed in. */
export async function superuser(app: Express): Promise<Session & { row: UserRow }> {
  const email = `${unique('root')}@example.com`;
  const row = await insertUser(testDeps().db, {
    email,
    password_hash: await hashPassword(PASSWORD, 4),
    is_superuser: true,
    date_of_birth: '1980-01-01',
  });
  return { ...(await login(app, email)), row };
}
