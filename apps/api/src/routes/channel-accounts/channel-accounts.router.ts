// /channel-accounts: a workspace's own SendGrid, SMTP or Twilio account per channel, and its test send.
import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import type { ChannelAccountInput } from '../../services/channel-accounts.service';
import {
  accountOut,
  accountPage,
  createAccountBody,
  listAccountsQuery,
  updateAccountBody,
} from './channel-accounts.schemas';
import { serializeAccount } from './channel-accounts.serializers';

export function channelAccountsRoutes({ channelAccounts }: Services): RouteSpec[] {
  const tags = ['channel-accounts'];
  const conflict = {
    description: 'The workspace already has an active account for this channel (CHANNEL_ACCOUNT_ACTIVE_EXISTS)',
  };
  return [
    {
      method: 'get',
      path: '/channel-accounts/',
      summary: "The caller's workspace's accounts, by channel then id",
      tags,
      access: 'user',
      schemas: { query: listAccountsQuery },
      responses: { 200: { description: 'A page of accounts', schema: accountPage } },
      handler: async (req, res) => {
        const page = await channelAccounts.list(
          principalOf(req),
          req.valid.query as { limit: number; cursor?: string },
        );
        res.json({ items: page.items.map(serializeAccount), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'post',
      path: '/channel-accounts/',
      summary:
        'An account: email by sendgrid (from_email, api_key) or smtp (from_email, smtp_url), sms or whatsapp by twilio ' +
        '(account_sid, auth_token, and sms_from or whatsapp_from). Secrets are encrypted and never answered; their ' +
        'formats are those of the platform variables (SENDGRID_API_KEY, TWILIO_*), refused under STRICT_VALIDATION. ' +
        'In production an SMTP host may not resolve to a loopback, private or link-local address.',
      tags,
      access: 'user',
      schemas: { body: createAccountBody },
      responses: {
        201: { description: 'The account', schema: accountOut },
        403: { description: 'Not in a workspace (NO_WORKSPACE), or a member' },
        404: { description: 'No such workspace' },
        409: conflict,
      },
      handler: async (req, res) => {
        const a = await channelAccounts.create(principalOf(req), req.valid.body as ChannelAccountInput);
        res.status(201).json(serializeAccount(a));
      },
    },
    {
      method: 'get',
      path: '/channel-accounts/:id',
      summary: 'An account, with its last test verdict',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 200: { description: 'The account', schema: accountOut } },
      handler: async (req, res) => {
        res.json(serializeAccount(await channelAccounts.get(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'patch',
      path: '/channel-accounts/:id',
      summary: "Change an account; a secret given replaces the stored one (channel and provider don't change)",
      tags,
      access: 'user',
      schemas: { params: idParams, body: updateAccountBody },
      responses: {
        200: { description: 'The account', schema: accountOut },
        403: { description: 'A member' },
        409: conflict,
      },
      handler: async (req, res) => {
        const a = await channelAccounts.update(principalOf(req), pathId(req), req.valid.body as ChannelAccountInput);
        res.json(serializeAccount(a));
      },
    },
    {
      method: 'delete',
      path: '/channel-accounts/:id',
      summary: 'Delete an account',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 204: { description: 'Deleted' }, 403: { description: 'A member' } },
      handler: async (req, res) => {
        await channelAccounts.remove(principalOf(req), pathId(req));
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/channel-accounts/:id/test',
      summary:
        "Queue a test send on the account's channel (email: to the caller, or `to`; SMS/WhatsApp: a check of the " +
        'Twilio credentials). The API calls no provider: the verdict shows on the account as last_test_at, ' +
        "last_test_status ('queued', then 'ok' or 'failed') and last_test_error (with the provider's code).",
      tags,
      access: 'user',
      description:
        "Email: a test mail to the caller's own address. SMS and WhatsApp: a check of the Twilio credentials.",
      schemas: { params: idParams },
      responses: {
        202: { description: 'Queued: the account, last_test_status queued', schema: accountOut },
        403: { description: 'A member' },
      },
      handler: async (req, res) => {
        res.status(202).json(serializeAccount(await channelAccounts.test(principalOf(req), pathId(req))));
      },
    },
  ];
}
