// A fake SendGrid v3 Mail Send API, plus the signed event webhook: a signer, and signed event batches about the mails
// it accepted, posted the way SendGrid posts them.
import crypto from 'node:crypto';
import {
  faultReply,
  retryAfterHeader,
  startHttpFake,
  type FaultControls,
  type FakeRequest,
  type Reply,
} from './http-fake';

export interface SendgridErrorItem {
  message: string;
  field: string | null;
  help: string | null;
}

export interface SendgridMail {
  messageId: string;
  /** The JSON body as sent (snake_case: `personalizations`, `custom_args`...). */
  body: Record<string, unknown>;
  authorization: string | undefined;
  at: number;
}

export interface FakeSendgrid extends FaultControls {
  url: string;
  port: number;
  /** The only key the fake accepts, as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Every request, faulted or not. */
  requests: FakeRequest[];
  /** Accepted mails (202), in order. */
  mails: SendgridMail[];
  /** This fake's event-webhook key pair; `signer.publicKeyBase64Der` is the verification key to configure. */
  signer: SendgridWebhookSigner;
  /**
   * One event about an accepted mail (or its x-message-id), shaped as SendGrid sends it: `email`, `timestamp`,
   * `event`, a unique `sg_event_id`, `sg_message_id` starting with the x-message-id, and the mail's `custom_args`
   * as top-level fields. `extra` adds or overrides fields (`reason`, `type`...).
   */
  eventFor: (mail: SendgridMail | string, event: SendgridEventType, extra?: Record<string, unknown>) => SendgridEvent;
  /**
   * POSTs a batch of events to `url` as one JSON array, signed with `signer` (the current time unless `timestamp`
   * is given; `signedBody` signs another body than the one sent, for tampering tests). Answers the app's response.
   */
  postEvents: (
    url: string,
    events: SendgridEvent[],
    options?: { timestamp?: number; postTo?: string; signedBody?: string },
  ) => Promise<Response>;
  close: () => Promise<void>;
}

export type SendgridEventType =
  | 'processed'
  | 'deferred'
  | 'delivered'
  | 'open'
  | 'click'
  | 'bounce'
  | 'dropped'
  | 'spamreport'
  | 'unsubscribe'
  | 'group_unsubscribe'
  | 'group_resubscribe';

export type SendgridEvent = Record<string, unknown> & { event: string; sg_event_id: string; timestamp: number };

const errors = (
  message: string,
  field: string | null = null,
  help: string | null = null,
): { errors: SendgridErrorItem[] } => ({ errors: [{ message, field, help }] });

function defaultErrorBody(status: number): { errors: SendgridErrorItem[] } {
  if (status === 429) return errors('too many requests');
  if (status === 400)
    return errors('Bad Request', null, 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html');
  if (status === 401) return errors('The provided authorization grant is invalid, expired, or revoked');
  if (status === 403) return errors('access forbidden');
  return errors('internal error');
}

/** The checks SendGrid makes that a client is most likely to trip over, with its field names. */
function validate(body: Record<string, unknown>): Reply | undefined {
  const personalizations = body.personalizations as Array<{ to?: Array<{ email?: string }> }> | undefined;
  if (!Array.isArray(personalizations) || personalizations.length === 0)
    return {
      status: 400,
      body: errors(
        'The personalizations field is required and must have at least one personalization.',
        'personalizations',
      ),
    };
  if (
    !personalizations.every(
      (p) =>
        Array.isArray(p.to) &&
        p.to.length > 0 &&
        p.to.every((t) => typeof t.email === 'string' && t.email.includes('@')),
    )
  ) {
    return { status: 400, body: errors('Does not contain a valid address.', 'personalizations.0.to') };
  }
  const from = body.from as { email?: string } | undefined;
  if (!from || typeof from.email !== 'string' || !from.email.includes('@'))
    return { status: 400, body: errors('The from object must be provided for every email send.', 'from') };
  const content = body.content as unknown[] | undefined;
  if (!body.template_id && (!Array.isArray(content) || content.length === 0))
    return {
      status: 400,
      body: errors('Unless a valid template_id is provided, the content parameter is required.', 'content'),
    };
  return undefined;
}

export async function startFakeSendgrid(opts: { apiKey?: string } = {}): Promise<FakeSendgrid> {
  const apiKey =
    opts.apiKey ?? `SG.${crypto.randomBytes(11).toString('base64url')}.${crypto.randomBytes(32).toString('base64url')}`;
  const mails: SendgridMail[] = [];
  const http = await startHttpFake(({ req, path, body, fault }) => {
    if (path !== '/v3/mail/send' || req.method !== 'POST') return { status: 404, body: errors('resource not found') };
    if (fault !== undefined && fault !== 'hang' && fault !== 'reset') {
      const f = faultReply(fault);
      const retry = f.status === 429 ? (f.retryAfterSeconds ?? 1) : f.retryAfterSeconds;
      const rateHeaders: Record<string, string> =
        f.status === 429
          ? {
              'x-ratelimit-limit': '600',
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + (retry ?? 1)),
            }
          : {};
      return {
        status: f.status,
        headers: { ...rateHeaders, ...retryAfterHeader(retry), ...f.headers },
        body: f.body ?? defaultErrorBody(f.status),
      };
    }
    const authorization = req.headers.authorization;
    if (!authorization) return { status: 401, body: errors('authorization required') };
    if (authorization !== `Bearer ${apiKey}`) return { status: 401, body: defaultErrorBody(401) };
    if (!body || typeof body !== 'object')
      return { status: 400, body: errors('Bad Request', null, 'The request body must be JSON.') };
    const invalid = validate(body as Record<string, unknown>);
    if (invalid) return invalid;
    // From randomUUID's cached pool, as the fake Twilio's SIDs (fake-twilio.ts says why).
    const messageId = Buffer.from(crypto.randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    mails.push({ messageId, body: body as Record<string, unknown>, authorization, at: Date.now() });
    return { status: 202, headers: { 'x-message-id': messageId } };
  });
  const signer = createSendgridWebhookSigner();
  const firstRecipient = (mail: SendgridMail): string => {
    const p = (mail.body.personalizations as Array<{ to?: Array<{ email?: string }> }> | undefined)?.[0];
    return p?.to?.[0]?.email ?? '';
  };
  return {
    url: http.url,
    port: http.port,
    apiKey,
    requests: http.requests,
    mails,
    signer,
    eventFor(mail, event, extra = {}) {
      const found = typeof mail === 'string' ? mails.find((m) => m.messageId === mail) : mail;
      if (!found) throw new Error(`fake sendgrid: no mail ${typeof mail === 'string' ? mail : mail.messageId}`);
      const defaults: Record<string, unknown> =
        event === 'bounce'
          ? { reason: '550 5.1.1 The email account that you tried to reach does not exist.', type: 'bounce' }
          : event === 'dropped'
            ? { reason: 'Bounced Address' }
            : {};
      return {
        email: firstRecipient(found),
        timestamp: Math.floor(Date.now() / 1000),
        'smtp-id': `<${found.messageId}@fake.sendgrid.net>`,
        event,
        category: [],
        sg_event_id: crypto.randomBytes(16).toString('base64url'),
        sg_message_id: `${found.messageId}.filterdrecv-fake-1-0`,
        ...((found.body.custom_args as Record<string, unknown> | undefined) ?? {}),
        ...defaults,
        ...extra,
      };
    },
    postEvents(url, events, { timestamp, postTo, signedBody } = {}) {
      const raw = JSON.stringify(events);
      const ts = timestamp ?? Math.floor(Date.now() / 1000);
      return fetch(postTo ?? url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'SendGrid Event API',
          ...signer.headers(signedBody ?? raw, ts),
        },
        body: raw,
        redirect: 'manual',
      });
    },
    inject: http.inject,
    setMode: http.setMode,
    reset: () => {
      http.reset();
      mails.length = 0;
    },
    close: http.close,
  };
}

export interface SendgridWebhookSigner {
  /** The verification key as SendGrid shows it: base64 DER (SPKI). */
  publicKeyBase64Der: string;
  /** The `X-Twilio-Email-Event-Webhook-Signature` value for this timestamp and exact raw body. */
  sign: (timestamp: string | number, rawBody: string | Buffer) => string;
  /** Both headers, ready to send, with the current time unless given. */
  headers: (rawBody: string | Buffer, timestamp?: string | number) => Record<string, string>;
}

/** A fresh P-256 key pair signing event-webhook payloads as SendGrid does (ECDSA over SHA-256 of timestamp + body). */
export function createSendgridWebhookSigner(): SendgridWebhookSigner {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sign = (timestamp: string | number, rawBody: string | Buffer): string =>
    crypto
      .sign(
        'sha256',
        Buffer.concat([Buffer.from(String(timestamp)), Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody)]),
        privateKey,
      )
      .toString('base64');
  return {
    publicKeyBase64Der: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    sign,
    headers: (rawBody, timestamp = Math.floor(Date.now() / 1000)) => ({
      'X-Twilio-Email-Event-Webhook-Signature': sign(timestamp, rawBody),
      'X-Twilio-Email-Event-Webhook-Timestamp': String(timestamp),
    }),
  };
}
