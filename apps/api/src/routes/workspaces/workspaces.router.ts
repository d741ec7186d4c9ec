import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import { inviteOut, workspaceList, workspaceOut, workspaceSchemas } from './workspaces.schemas';
import { serializeWorkspace } from './workspaces.serializers';
import type { WorkspaceInput } from '../../services/workspaces.service';

export function workspacesRoutes({ workspaces, config }: Services): RouteSpec[] {
  const tags = ['workspaces'];
  const schemas = workspaceSchemas(config);
  return [
    {
      method: 'get',
      path: '/workspaces/',
      summary: "The caller's workspace, or every workspace for the platform admin (cached)",
      tags,
      access: 'user',
      responses: { 200: { description: 'Workspaces', schema: workspaceList } },
      handler: async (req, res) => {
        res.json((await workspaces.list(principalOf(req))).map(serializeWorkspace));
      },
    },
    {
      method: 'post',
      path: '/workspaces/',
      summary: 'Create a workspace (platform admin)',
      tags,
      access: 'superuser',
      schemas: { body: schemas.create },
      responses: {
        201: { description: 'The workspace', schema: workspaceOut },
        400: { description: 'WORKSPACE_ALREADY_EXISTS' },
      },
      handler: async (req, res) => {
        res
          .status(201)
          .json(serializeWorkspace(await workspaces.create(req.valid.body as WorkspaceInput & { name: string })));
      },
    },
    {
      method: 'get',
      path: '/workspaces/:id',
      summary: 'A workspace',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 200: { description: 'The workspace', schema: workspaceOut } },
      handler: async (req, res) => {
        res.json(serializeWorkspace(await workspaces.get(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'patch',
      path: '/workspaces/:id',
      summary: "Change a workspace (platform admin, or the workspace's owner or admin)",
      tags,
      access: 'user',
      schemas: { params: idParams, body: schemas.update },
      responses: {
        200: { description: 'The workspace', schema: workspaceOut },
        400: { description: 'WORKSPACE_ALREADY_EXISTS' },
        403: { description: 'Not its owner or admin, or naming slack_status' },
      },
      handler: async (req, res) => {
        res.json(
          serializeWorkspace(await workspaces.update(principalOf(req), pathId(req), req.valid.body as WorkspaceInput)),
        );
      },
    },
    {
      method: 'delete',
      path: '/workspaces/:id',
      summary: 'Delete a workspace and everything in it; its users stay, without a workspace',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 204: { description: 'Deleted' }, 403: { description: "Not the workspace's owner or admin" } },
      handler: async (req, res) => {
        await workspaces.remove(principalOf(req), pathId(req));
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/workspaces/:id/invites',
      summary: 'An invite token for registering into this workspace',
      tags,
      access: 'user',
      schemas: { params: idParams, body: schemas.invite },
      responses: {
        201: { description: 'The invite (the token is shown once)', schema: inviteOut },
        403: { description: 'Not its owner or admin, or an admin inviting an admin' },
        409: { description: 'The workspace went away meanwhile' },
      },
      handler: async (req, res) => {
        res
          .status(201)
          .json(
            await workspaces.invite(
              principalOf(req),
              pathId(req),
              (req.valid.body as { role: 'member' | 'admin' }).role,
            ),
          );
      },
    },
  ];
}
