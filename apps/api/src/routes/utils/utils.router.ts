import Joi from 'joi';
import { timezones } from '@nudge/config';
import type { RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import type { ListingKind } from '@nudge/cache';
import { answer, uuid } from '../../http/schemas';
import { serializeUser } from '../users/users.serializers';
import { serializeWorkspace } from '../workspaces/workspaces.serializers';

const countOut = answer({ count: Joi.number().integer() });
const cacheOut = answer({ data: Joi.any() });

/** Cached listings hold what the services return; they are shown as the listing routes show them. */
const WIRE: Record<ListingKind, (row: never) => unknown> = {
  users: serializeUser,
  workspaces: serializeWorkspace,
  birthdays: (row) => row,
};

export function utilsRoutes({ utils, birthdays }: Services): RouteSpec[] {
  const tags = ['utils'];
  const cached = async (kind: ListingKind) =>
    (await utils.cachedListings(kind))?.map((row) => WIRE[kind](row as never)) ?? null;
  const cacheRoute = (kind: ListingKind): RouteSpec => ({
    method: 'get',
    path: `/utils/cache/${kind}/all`,
    summary: `Every cached ${kind} listing, joined (platform admin)`,
    tags,
    access: 'superuser',
    responses: { 200: { description: 'Cached rows, or null when none is cached', schema: cacheOut } },
    handler: async (_req, res) => {
      res.json({ data: await cached(kind) });
    },
  });
  return [
    {
      method: 'get',
      path: '/utils/timezones',
      summary: 'Every IANA timezone name Nudge accepts, including UTC and the tzdb backward aliases',
      tags,
      access: 'public',
      usesStorage: false,
      responses: {
        200: { description: 'Sorted names', schema: answer({ timezones: Joi.array().items(Joi.string()) }) },
      },
      handler: (_req, res) => {
        res.json({ timezones });
      },
    },
    {
      method: 'post',
      path: '/utils/run-birthday-job',
      summary: "Post today's birthdays now, for every workspace or one (platform admin)",
      tags,
      access: 'superuser',
      schemas: { query: Joi.object({ workspace_id: uuid() }) },
      responses: {
        202: { description: 'Enqueued', schema: answer({ detail: Joi.string() }) },
        404: { description: 'No such workspace' },
      },
      handler: async (req, res) => {
        await utils.runBirthdayJob(req.valid.query.workspace_id as string | undefined);
        res.status(202).json({ detail: 'Birthday job triggered' });
      },
    },
    {
      method: 'post',
      path: '/utils/refresh-birthday-table',
      summary: 'Re-sync birthdays from users, create missing ones, remove orphans (platform admin)',
      tags,
      access: 'superuser',
      responses: {
        200: {
          description: 'What changed',
          schema: answer({
            count: Joi.number().integer(),
            created: Joi.number().integer(),
            updated: Joi.number().integer(),
            removed: Joi.number().integer(),
          }),
        },
      },
      handler: async (_req, res) => {
        res.json(await birthdays.refreshTable());
      },
    },
    {
      method: 'post',
      path: '/utils/backfill-birthdays',
      summary: 'Create only the missing birthdays (platform admin)',
      tags,
      access: 'superuser',
      responses: { 200: { description: 'How many were created', schema: countOut } },
      handler: async (_req, res) => {
        res.json(await birthdays.backfill());
      },
    },
    {
      method: 'get',
      path: '/utils/cache/all',
      summary: 'Every cached listing, by kind (platform admin)',
      tags,
      access: 'superuser',
      responses: { 200: { description: '{data: {users, birthdays, workspaces}}', schema: cacheOut } },
      handler: async (_req, res) => {
        const [users, bdays, workspaces] = await Promise.all([
          cached('users'),
          cached('birthdays'),
          cached('workspaces'),
        ]);
        res.json({ data: { users, birthdays: bdays, workspaces } });
      },
    },
    cacheRoute('birthdays'),
    cacheRoute('users'),
    cacheRoute('workspaces'),
  ];
}
