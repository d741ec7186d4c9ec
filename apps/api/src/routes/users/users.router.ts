import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams, updateMeBody, updateUserBody, userList, userOut } from './users.schemas';
import { serializeUser } from './users.serializers';
import type { UpdateMeInput, UpdateUserInput } from '../../services/users.service';

export function usersRoutes({ users }: Services): RouteSpec[] {
  const tags = ['users'];
  return [
    {
      method: 'get',
      path: '/users/me',
      summary: 'The caller',
      tags,
      access: 'user',
      responses: { 200: { description: 'The caller', schema: userOut } },
      handler: (req, res) => {
        res.json(serializeUser(principalOf(req).user));
      },
    },
    {
      method: 'patch',
      path: '/users/me',
      summary: "Change the caller's profile; a new email or password needs current_password",
      tags,
      access: 'user',
      schemas: { body: updateMeBody },
      responses: {
        200: { description: 'The updated caller', schema: userOut },
        400: { description: 'UPDATE_USER_INVALID_PASSWORD, UPDATE_USER_EMAIL_ALREADY_EXISTS' },
        429: { description: 'Too many wrong current_password answers for this user (RATE_LIMITED, Retry-After)' },
        503: { description: 'The password-hashing pool is full' },
      },
      handler: async (req, res) => {
        res.json(serializeUser(await users.updateMe(principalOf(req), req.valid.body as UpdateMeInput)));
      },
    },
    {
      method: 'get',
      path: '/users/',
      summary: "The users of the caller's workspace (cached)",
      tags,
      access: 'user',
      responses: { 200: { description: 'Users', schema: userList } },
      handler: async (req, res) => {
        res.json((await users.listOwn(principalOf(req))).map(serializeUser));
      },
    },
    {
      method: 'get',
      path: '/users/all',
      summary: 'Every user (platform admin)',
      tags,
      access: 'superuser',
      responses: { 200: { description: 'Users', schema: userList } },
      handler: async (_req, res) => {
        res.json((await users.listAll()).map(serializeUser));
      },
    },
    {
      method: 'get',
      path: '/users/:id',
      summary: "A user of the caller's workspace",
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: {
        200: { description: 'The user', schema: userOut },
        404: { description: 'No such user in your workspace' },
      },
      handler: async (req, res) => {
        res.json(serializeUser(await users.get(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'patch',
      path: '/users/:id',
      summary: 'Change a user (fields depend on your role)',
      tags,
      access: 'user',
      schemas: { params: idParams, body: updateUserBody },
      responses: {
        200: { description: 'The updated user', schema: userOut },
        400: { description: 'UPDATE_USER_EMAIL_ALREADY_EXISTS' },
        403: { description: 'A field you may not change' },
        409: {
          description: 'The last owner cannot be demoted (LAST_OWNER), or the workspace named went away meanwhile',
        },
        503: { description: 'The password-hashing pool is full' },
      },
      handler: async (req, res) => {
        res.json(serializeUser(await users.update(principalOf(req), pathId(req), req.valid.body as UpdateUserInput)));
      },
    },
    {
      method: 'delete',
      path: '/users/:id',
      summary: 'Delete a user (and their birthday)',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: {
        204: { description: 'Deleted' },
        403: { description: 'Yourself, an owner, a platform admin, or not your workspace to manage' },
      },
      handler: async (req, res) => {
        await users.remove(principalOf(req), pathId(req));
        res.status(204).end();
      },
    },
  ];
}
