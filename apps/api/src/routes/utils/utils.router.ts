import Joi from 'joi';
import { timezones } from '@nudge/config';
import { findWorkspaceById } from '@nudge/db';
import { QUEUES } from '@nudge/queue';
import type { RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import type { ListingKind } from '@nudge/cache';
import { NotFound } from '../../http/errors';
import { answer, uuid } from '../../http/schemas';

const countOut = answer({ count: Joi.number().integer() });
const cacheOut = answer({ data: Joi.any() });

export function utilsRoutes({ db, producers, birthdays, cache }: Services): RouteSpec[] {
  const tags = ['utils'];
  const cacheRoute = (kind: ListingKind): RouteSpec => ({
    method: 'get', path: `/utils/cache/${kind}/all`, summary: `Every cached ${kind} listing, joined (platform admin)`, tags, access: 'superuser',
    responses: { 200: { description: 'Cached rows, or null when none is cached', schema: cacheOut } },
    handler: async (_req, res) => {
      res.json({ data: await cache.dump(kind) });
    },
  });
  return [
    {
      method: 'get', path: '/utils/timezones', summary: 'Every IANA timezone name Nudge accepts, including UTC and the tzdb backward aliases', tags, access: 'public',
      responses: { 200: { description: 'Sorted names', schema: answer({ timezones: Joi.array().items(Joi.string()) }) } },
      handler: (_req, res) => {
        res.json({ timezones });
      },
    },
    {
      method: 'post', path: '/utils/run-birthday-job', summary: "Post today's birthdays now, for every workspace or one (platform admin)", tags, access: 'superuser',
      schemas: { query: Joi.object({ workspace_id: uuid() }) },
      responses: { 202: { description: 'Enqueued', schema: answer({ detail: Joi.string() }) }, 404: { description: 'No such workspace' } },
      handler: async (req, res) => {
        const workspaceId = req.valid.query.workspace_id as string | undefined;
        if (workspaceId && !(await findWorkspaceById(db, workspaceId))) throw new NotFound('No such workspace');
        // The claim row in birthday_posts makes a repeat harmless; the job never blocks this request on Slack.
        await producers.add(QUEUES.birthdayScan, { manual: true, ...(workspaceId ? { workspaceId } : {}) });
        res.status(202).json({ detail: 'Birthday job triggered' });
      },
    },
    {
      method: 'post', path: '/utils/refresh-birthday-table', summary: 'Re-sync birthdays from users, create missing ones, remove orphans (platform admin)', tags, access: 'superuser',
      responses: { 200: { description: 'What changed', schema: answer({ count: Joi.number().integer(), created: Joi.number().integer(), updated: Joi.number().integer(), removed: Joi.number().integer() }) } },
      handler: async (_req, res) => {
        res.json(await birthdays.refreshTable());
      },
    },
    {
      method: 'post', path: '/utils/backfill-birthdays', summary: 'Create only the missing birthdays (platform admin)', tags, access: 'superuser',
      responses: { 200: { description: 'How many were created', schema: countOut } },
      handler: async (_req, res) => {
        res.json(await birthdays.backfill());
      },
    },
    {
      method: 'get', path: '/utils/cache/all', summary: 'Every cached listing, by kind (platform admin)', tags, access: 'superuser',
      responses: { 200: { description: '{data: {users, birthdays, workspaces}}', schema: cacheOut } },
      handler: async (_req, res) => {
        const [users, bdays, workspaces] = await Promise.all([cache.dump('users'), cache.dump('birthdays'), cache.dump('workspaces')]);
        res.json({ data: { users, birthdays: bdays, workspaces } });
      },
    },
    cacheRoute('birthdays'),
    cacheRoute('users'),
    cacheRoute('workspaces'),
  ];
}
