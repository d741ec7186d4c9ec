// What providers tell Nudge after a send, each webhook verified before anything else is read: Twilio's status
// callbacks and inbound messages (X-Twilio-Signature over PUBLIC_BASE_URL + the path and query it called, with the
// auth token of the account that sent), and SendGrid's signed event batches. A missing signature is a 400, a wrong
// or stale one a 401, and neither changes anything; a body that cannot be read is a 400, never a 500.
import type { Config } from '@nudge/config';
import {
  ALL_WORKSPACES,
  applyDeliveryOutcome,
  findActiveChannelAccount,
  findChannelAccountById,
  findClientsByPhoneHash,
  findNotificationForDispatch,
  findTwilioAccountsBySid,
  findWorkspaceById,
  recordProviderEvent,
  setClientChannelOptOut,
  type Db,
  type NotificationRow,
} from '@nudge/db';
import {
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  isTwilioAddressError,
  verifySendgridEventSignature,
  verifyTwilioSignature,
} from '@nudge/channels';
import { parseOptOutKeyword } from '@nudge/domain';
import type { Logger } from '@nudge/logger';
import { BadRequest, Unauthorized } from '../errors/domain-errors';
import type { AuditLog } from './audit';

export type FormParams = Record<string, string | string[]>;
type TextChannel = 'sms' | 'whatsapp';

const missing = (what: string) => new BadRequest('WEBHOOK_SIGNATURE_MISSING', `${what} is missing`);
const invalid = () => new Unauthorized('The webhook signature is wrong or stale', 'WEBHOOK_SIGNATURE_INVALID');

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const WHATSAPP = /^whatsapp:/i;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function twiml(message?: string): string {
  const body = message ? `<Message>${escapeXml(message)}</Message>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;
}

export class ProviderWebhooksService {
  constructor(private readonly deps: { db: Db; config: Config; logger: Logger; audit: AuditLog }) {}

  /** The public URL Twilio signed: PUBLIC_BASE_URL + the path and query string it called. */
  private publicUrl(originalUrl: string): string {
    return `${this.deps.config.publicBaseUrl}${originalUrl}`;
  }

  /** The auth tokens that may have signed a webhook about this workspace's channel: its own account's, the platform's. */
  private async tokensFor(workspaceId: string | undefined, channel: TextChannel | undefined): Promise<string[]> {
    const tokens: string[] = [];
    if (workspaceId && channel) {
      const account = await findActiveChannelAccount(this.deps.db, workspaceId, channel);
      if (account?.credentials?.auth_token) tokens.push(account.credentials.auth_token);
    }
    if (this.deps.config.twilio.authToken) tokens.push(this.deps.config.twilio.authToken);
    return tokens;
  }

  /**
   * POST /webhooks/twilio/status?n=<notification id>: moves the notification forward only (sent → delivered, `read`
   * counting as delivered; undelivered and failed → failed, or undeliverable for an address error). Duplicates and
   * callbacks out of order change nothing.
   */
  async twilioStatus(originalUrl: string, signature: string | undefined, params: FormParams, n: string | undefined) {
    if (!signature) throw missing('X-Twilio-Signature');
    const notification =
      n && /^[0-9a-f-]{36}$/i.test(n) ? await findNotificationForDispatch(this.deps.db, n) : undefined;
    const channel =
      notification?.channel === 'sms' || notification?.channel === 'whatsapp' ? notification.channel : undefined;
    const tokens = await this.tokensFor(notification?.workspace_id, channel);
    const url = this.publicUrl(originalUrl);
    if (!tokens.some((t) => verifyTwilioSignature(t, signature, url, params))) throw invalid();
    if (!notification) return;
    const status = one(params.MessageStatus);
    const code = one(params.ErrorCode);
    if (status === 'delivered' || status === 'read')
      await applyDeliveryOutcome(this.deps.db, notification.id, 'delivered');
    else if (status === 'undelivered' || status === 'failed') {
      const undeliverable = code !== undefined && isTwilioAddressError(code);
      await applyDeliveryOutcome(
        this.deps.db,
        notification.id,
        undeliverable ? 'undeliverable' : 'failed',
        `${undeliverable ? 'invalid_recipient' : status} (twilio${code ? ` ${code}` : ''})`,
      );
    }
  }

  /**
   * POST /webhooks/sendgrid/events: a signed batch; each event applied once (provider_events), to the notification
   * its custom_args name. A bounce, a spam report or an unsubscribe also opts the client out of email.
   */
  async sendgridEvents(raw: Buffer | undefined, headers: Record<string, string | undefined>) {
    const signature = headers[SENDGRID_SIGNATURE_HEADER.toLowerCase()];
    const timestamp = headers[SENDGRID_TIMESTAMP_HEADER.toLowerCase()];
    if (!signature || !timestamp) throw missing(`${SENDGRID_SIGNATURE_HEADER} or ${SENDGRID_TIMESTAMP_HEADER}`);
    const key = this.deps.config.sendgrid.webhookPublicKey;
    const body = raw ?? Buffer.alloc(0);
    if (!key || !verifySendgridEventSignature(key, signature, timestamp, body)) throw invalid();
    let events: unknown;
    try {
      events = JSON.parse(body.toString('utf8'));
    } catch {
      throw new BadRequest('WEBHOOK_MALFORMED', 'The body is not a JSON array of events');
    }
    if (!Array.isArray(events)) throw new BadRequest('WEBHOOK_MALFORMED', 'The body is not a JSON array of events');
    let applied = 0;
    for (const e of events as Record<string, unknown>[]) {
      if (!e || typeof e !== 'object') continue;
      const eventId = typeof e.sg_event_id === 'string' ? e.sg_event_id : undefined;
      const id = typeof e.notification_id === 'string' ? e.notification_id : undefined;
      if (!eventId || !id || !/^[0-9a-f-]{36}$/i.test(id)) continue;
      const n = await findNotificationForDispatch(this.deps.db, id);
      if (!n || n.channel !== 'email') continue;
      if (
        !(await this.deps.db.transaction(async (trx) => {
          if (!(await recordProviderEvent(trx, 'sendgrid', eventId))) return false;
          await this.applySendgridEvent(trx, n, String(e.event));
          return true;
        }))
      )
        continue;
      applied += 1;
    }
    return { received: events.length, applied };
  }

  private async applySendgridEvent(trx: Db, n: NotificationRow, event: string) {
    if (event === 'delivered') await applyDeliveryOutcome(trx, n.id, 'delivered');
    else if (event === 'bounce') await applyDeliveryOutcome(trx, n.id, 'bounced', 'bounced (sendgrid)');
    else if (event === 'dropped') await applyDeliveryOutcome(trx, n.id, 'failed', 'dropped (sendgrid)');
    if (['bounce', 'spamreport', 'unsubscribe'].includes(event) && n.client_id) {
      const { changed } = await setClientChannelOptOut(trx, n.workspace_id, n.client_id, 'email', true);
      if (changed)
        await this.deps.audit.event('client.opt_out', {
          workspaceId: n.workspace_id,
          targetType: 'client',
          targetId: n.client_id,
          details: { channel: 'email', source: `sendgrid ${event}` },
        });
    }
  }

  /**
   * POST /webhooks/twilio/inbound: STOP and its synonyms opt the sender out of the channel (queued notifications on
   * it are cancelled), START and UNSTOP back in, HELP is answered. A STOP to the platform's number counts in every
   * workspace that sends from it; to a workspace's own number, in that workspace only. Answers TwiML.
   */
  async twilioInbound(originalUrl: string, signature: string | undefined, params: FormParams): Promise<string> {
    if (!signature) throw missing('X-Twilio-Signature');
    const accountSid = one(params.AccountSid) ?? '';
    const platform = this.deps.config.twilio;
    const own = platform.accountSid === accountSid ? [] : await findTwilioAccountsBySid(this.deps.db, accountSid);
    const tokens: string[] = [];
    if (platform.accountSid === accountSid && platform.authToken) tokens.push(platform.authToken);
    for (const a of own) {
      const token = (await findChannelAccountById(this.deps.db, a.id))?.credentials?.auth_token;
      if (token && !tokens.includes(token)) tokens.push(token);
    }
    const url = this.publicUrl(originalUrl);
    if (!tokens.some((t) => verifyTwilioSignature(t, signature, url, params))) throw invalid();

    const from = one(params.From) ?? '';
    const to = one(params.To) ?? '';
    const channel: TextChannel = WHATSAPP.test(from) ? 'whatsapp' : 'sms';
    const keyword = parseOptOutKeyword(one(params.Body) ?? '');
    if (!keyword) return twiml();
    // The workspaces this number speaks for: the platform's number, every workspace without its own account on
    // the channel; a workspace's own number, that workspace alone.
    const toNumber = to.replace(WHATSAPP, '');
    const scope =
      platform.accountSid === accountSid
        ? ALL_WORKSPACES
        : own.find((a) => (channel === 'sms' ? a.sms_from : a.whatsapp_from) === toNumber)?.workspace_id;
    if (scope === undefined) return twiml();
    const clients = await findClientsByPhoneHash(this.deps.db, scope, channel, from.replace(WHATSAPP, ''));
    if (keyword === 'help') {
      const ws = clients[0] ? await findWorkspaceById(this.deps.db, clients[0].workspace_id) : undefined;
      const name = ws?.sender_name ?? ws?.name ?? 'Nudge';
      return twiml(
        `${name}: reminders by ${channel === 'sms' ? 'SMS' : 'WhatsApp'}. Reply STOP to opt out, START to opt back in.`,
      );
    }
    const optOut = keyword === 'stop';
    for (const c of clients) {
      if (scope === ALL_WORKSPACES && (await findActiveChannelAccount(this.deps.db, c.workspace_id, channel))) continue;
      // The client's flag and its cancelled notifications change together.
      const { changed, cancelled } = await this.deps.db.transaction((trx) =>
        setClientChannelOptOut(trx, c.workspace_id, c.id, channel, optOut),
      );
      if (changed)
        await this.deps.audit.event(optOut ? 'client.opt_out' : 'client.opt_in', {
          workspaceId: c.workspace_id,
          targetType: 'client',
          targetId: c.id,
          details: { channel, source: 'twilio inbound', cancelled },
        });
    }
    return twiml();
  }
}
