import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import {
  birthdayList,
  birthdayOut,
  createBirthdayBody,
  updateBirthdayBody,
  upcomingList,
  upcomingQuery,
} from './birthdays.schemas';

export function birthdaysRoutes({ birthdays }: Services): RouteSpec[] {
  const tags = ['birthdays'];
  return [
    {
      method: 'get',
      path: '/birthdays/',
      summary: "The caller's workspace, by next occurrence from its local today (cached)",
      tags,
      access: 'user',
      responses: {
        200: { description: 'Birthdays (with an ETag)', schema: birthdayList },
        304: { description: 'Unchanged since the ETag sent in If-None-Match' },
      },
      handler: async (req, res) => {
        const { body, etag } = await birthdays.listOwnJson(principalOf(req));
        // Express answers 304 itself when If-None-Match holds this ETag; set here, it hashes nothing.
        res.set('ETag', etag).type('json').send(body);
      },
    },
    {
      method: 'get',
      path: '/birthdays/all',
      summary: 'Every birthday (platform admin)',
      tags,
      access: 'superuser',
      responses: { 200: { description: 'Birthdays', schema: birthdayList } },
      handler: async (_req, res) => {
        res.json(await birthdays.listAll());
      },
    },
    {
      method: 'get',
      path: '/birthdays/upcoming',
      summary: 'Birthdays from local today up to, not including, today + days',
      tags,
      access: 'user',
      schemas: { query: upcomingQuery },
      responses: { 200: { description: 'Upcoming birthdays', schema: upcomingList } },
      handler: async (req, res) => {
        res.json(await birthdays.upcoming(principalOf(req), req.valid.query.days as number));
      },
    },
    {
      method: 'post',
      path: '/birthdays/',
      summary: 'A standalone birthday (owners, admins; the platform admin names workspace_id)',
      tags,
      access: 'user',
      schemas: { body: createBirthdayBody },
      responses: {
        201: { description: 'The birthday', schema: birthdayOut },
        403: { description: 'Not in a workspace (NO_WORKSPACE), or a member' },
        404: { description: 'No such workspace' },
        409: { description: 'The workspace went away meanwhile' },
      },
      handler: async (req, res) => {
        res
          .status(201)
          .json(
            await birthdays.create(
              principalOf(req),
              req.valid.body as { name: string; date_of_birth: string; workspace_id?: string },
            ),
          );
      },
    },
    {
      method: 'patch',
      path: '/birthdays/:id',
      summary: 'Change a birthday; a linked one writes back to its user',
      tags,
      access: 'user',
      schemas: { params: idParams, body: updateBirthdayBody },
      responses: {
        200: { description: 'The birthday', schema: birthdayOut },
        403: { description: "Not the workspace's owner or admin, or a linked user you may not change" },
      },
      handler: async (req, res) => {
        res.json(
          await birthdays.update(
            principalOf(req),
            pathId(req),
            req.valid.body as { name?: string; date_of_birth?: string },
          ),
        );
      },
    },
    {
      method: 'delete',
      path: '/birthdays/:id',
      summary: "Delete a birthday; a linked one clears its user's date of birth",
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: {
        204: { description: 'Deleted' },
        403: { description: "Not the workspace's owner or admin, or a linked user you may not change" },
      },
      handler: async (req, res) => {
        await birthdays.remove(principalOf(req), pathId(req));
        res.status(204).end();
      },
    },
  ];
}
