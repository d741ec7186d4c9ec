import { pageRequest, pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams, pageQuery } from '../../http/schemas';
import {
  inviteOut,
  inviteParams,
  pendingInvitePage,
  stripeConnectOut,
  workspaceList,
  workspaceOut,
  workspaceSchemas,
} from './workspaces.schemas';
import { serializeInvite, serializeWorkspace } from './workspaces.serializers';
import type { WorkspaceInput } from '../../services/workspaces.service';

export function workspacesRoutes({ workspaces, stripeConnect, config }: Services): RouteSpec[] {
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
          .json(
            serializeWorkspace(
              await workspaces.create(principalOf(req), req.valid.body as WorkspaceInput & { name: string }),
            ),
          );
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
      summary: 'Delete a workspace and everything in it (its owner); its users stay, without a workspace',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 204: { description: 'Deleted' }, 403: { description: "Not the workspace's owner" } },
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
    {
      method: 'get',
      path: '/workspaces/:id/invites',
      summary: 'The invites that can still be used (never their tokens), newest first',
      tags,
      access: 'user',
      schemas: { params: idParams, query: pageQuery() },
      responses: {
        200: { description: 'A page of pending invites', schema: pendingInvitePage },
        403: { description: 'Not its owner or admin' },
      },
      handler: async (req, res) => {
        const page = await workspaces.listInvites(principalOf(req), pathId(req), pageRequest(req));
        res.json({ items: page.items.map(serializeInvite), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'delete',
      path: '/workspaces/:id/invites/:invite_id',
      summary: 'Revoke an unused invite',
      tags,
      access: 'user',
      schemas: { params: inviteParams },
      responses: {
        204: { description: 'Revoked' },
        403: { description: 'Not its owner or admin' },
        404: { description: "No such unused invite in this workspace (or another workspace's)" },
      },
      handler: async (req, res) => {
        await workspaces.revokeInvite(principalOf(req), pathId(req), String(req.valid.params.invite_id));
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/workspaces/:id/stripe/connect',
      summary: 'Start (or resume) Stripe Connect onboarding for the workspace (its owner or admin)',
      description:
        "Creates the workspace's Stripe Express account on the first call and reuses it afterwards; every call " +
        'answers a fresh one-time onboarding URL. Stripe is called while the request waits, for 10 s at most ' +
        '(STRIPE_TIMEOUT_MS): past that, or when Stripe fails or is not configured, the answer is 503.',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: {
        201: { description: 'The onboarding URL', schema: stripeConnectOut },
        403: { description: 'Not its owner or admin' },
        404: { description: "No such workspace (or another tenant's)" },
        503: { description: 'Stripe did not answer in time, failed, or is not configured' },
      },
      handler: async (req, res) => {
        res.status(201).json(await stripeConnect.connect(principalOf(req), pathId(req), req.ip));
      },
    },
  ];
}
