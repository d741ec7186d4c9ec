// /clients: a workspace's customers, and their import from CSV or JSON.
import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import type { ClientInput, ClientListQuery } from '../../services/clients.service';
import {
  clientDetailOut,
  clientOut,
  clientPage,
  createClientBody,
  importClientsBody,
  importClientsQuery,
  importResultOut,
  listClientsQuery,
  updateClientBody,
} from './clients.schemas';
import { serializeClient, serializeClientDetail } from './clients.serializers';

export function clientsRoutes({ clients }: Services): RouteSpec[] {
  const tags = ['clients'];
  const update = (method: 'patch' | 'put'): RouteSpec => ({
    method,
    path: '/clients/:id',
    summary:
      method === 'put' ? 'Change a client (PUT is taken as PATCH: only the fields given change)' : 'Change a client',
    tags,
    access: 'user',
    schemas: { params: idParams, body: updateClientBody },
    responses: {
      200: { description: 'The client', schema: clientOut },
      403: { description: 'A member (owners and admins change clients)' },
      409: {
        description: 'Another client has this external_ref (CLIENT_EXTERNAL_REF_EXISTS) or email (CLIENT_EMAIL_EXISTS)',
      },
    },
    handler: async (req, res) => {
      res.json(serializeClient(await clients.update(principalOf(req), pathId(req), req.valid.body as ClientInput)));
    },
  });
  return [
    {
      method: 'get',
      path: '/clients/',
      summary:
        "The caller's workspace's clients by name (case-insensitive), then id; search matches the name or the email",
      tags,
      access: 'user',
      schemas: { query: listClientsQuery },
      responses: { 200: { description: 'A page of clients; numbers masked to members', schema: clientPage } },
      handler: async (req, res) => {
        const page = await clients.list(principalOf(req), req.valid.query as unknown as ClientListQuery);
        res.json({ items: page.items.map(serializeClient), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'post',
      path: '/clients/',
      summary: 'A client (owners, admins; the platform admin names workspace_id); timezone defaults to the workspace’s',
      tags,
      access: 'user',
      schemas: { body: createClientBody },
      responses: {
        201: { description: 'The client', schema: clientOut },
        403: { description: 'Not in a workspace (NO_WORKSPACE), or a member' },
        404: { description: 'No such workspace' },
        409: {
          description: 'A client has this external_ref (CLIENT_EXTERNAL_REF_EXISTS) or email (CLIENT_EMAIL_EXISTS)',
        },
      },
      handler: async (req, res) => {
        res.status(201).json(serializeClient(await clients.create(principalOf(req), req.valid.body as ClientInput)));
      },
    },
    {
      method: 'post',
      path: '/clients/import',
      summary:
        'Import clients from text/csv (header row: name, email, phone, whatsapp, preferred_channel, timezone, locale, notes, external_ref, is_active, opt_out_email, opt_out_sms, opt_out_whatsapp) or a JSON array of client objects. ' +
        'At most 10,000 rows (more: 422) and 20 MiB. Each row is upserted by external_ref, else by email, and so needs one of them; in one transaction. ' +
        'Rows are numbered from 1: in CSV the header is row 1. An empty CSV cell, or a JSON key left out, keeps the stored value. ' +
        'dry_run=true checks every row and answers the same counts, changing nothing.',
      tags,
      access: 'user',
      body: [
        { kind: 'csv', limit: '20mb' },
        { kind: 'json', limit: '20mb' },
      ],
      schemas: { query: importClientsQuery, body: importClientsBody },
      responses: {
        200: {
          description: 'What was (or, for a dry run, would be) imported, updated and refused',
          schema: importResultOut,
        },
        403: { description: 'Not in a workspace (NO_WORKSPACE), or a member' },
        404: { description: 'No such workspace' },
        409: { description: 'Another write created one of the keys meanwhile: retry' },
      },
      handler: async (req, res) => {
        const q = req.valid.query as { dry_run: boolean; workspace_id?: string };
        res.json(
          await clients.import(principalOf(req), req.valid.body, { dryRun: q.dry_run, workspaceId: q.workspace_id }),
        );
      },
    },
    {
      method: 'get',
      path: '/clients/:id',
      summary: 'A client, with how many reminders (in all, active) and notifications it has',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 200: { description: 'The client', schema: clientDetailOut } },
      handler: async (req, res) => {
        res.json(serializeClientDetail(await clients.get(principalOf(req), pathId(req))));
      },
    },
    update('patch'),
    update('put'),
    {
      method: 'delete',
      path: '/clients/:id',
      summary: 'Delete a client: its reminder assignments go, its notifications stay (client_id null)',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 204: { description: 'Deleted' }, 403: { description: 'A member' } },
      handler: async (req, res) => {
        await clients.remove(principalOf(req), pathId(req));
        res.status(204).end();
      },
    },
  ];
}
