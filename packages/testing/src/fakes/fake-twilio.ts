// A fake Twilio Programmable Messaging API (2010-04-01), plus signed status callbacks and inbound messages as Twilio
// sends them. Recipients pick the refusal: a To ending 0000 gets 21211 (invalid number), 0001 gets 21610 (replied
// STOP), 0002 gets 21614 (not a mobile number), and a WhatsApp To ending 6301 gets 63016 (outside the 24-hour
// session window). `num_segments` is counted as carriers count it (GSM-7 or UCS-2); a WhatsApp message is one.
// Several accounts can share the fake (workspaces on their own Twilio accounts behind one TWILIO_API_URL), each with
// its own auth token, and faults can be injected for one account alone.
import crypto from 'node:crypto';
import { countSmsSegments } from '@nudge/domain';
import {
  faultReply,
  retryAfterHeader,
  startHttpFake,
  type FakeMode,
  type Fault,
  type FaultControls,
  type FakeRequest,
  type Reply,
} from './http-fake';

export interface TwilioMessage {
  sid: string;
  accountSid: string;
  /** The form fields as sent: `To`, `From`, `Body`, `StatusCallback`... */
  form: Record<string, string>;
  status: string;
  at: number;
}

/** An account the fake accepts: its SID (in the path and as the Basic user) and auth token. */
export interface TwilioAccount {
  accountSid: string;
  authToken: string;
}

export interface FakeTwilio extends FaultControls {
  url: string;
  port: number;
  /** The credentials the fake accepts (Basic auth, and the account in the path): its first account. */
  accountSid: string;
  authToken: string;
  /** Adds another account (a workspace's own), with fresh credentials unless given. */
  addAccount: (account?: Partial<TwilioAccount>) => TwilioAccount;
  /** Applies `fault` to the next `times` requests, to one account's requests alone when `accountSid` is given. */
  inject: (fault: Fault, times?: number, accountSid?: string) => void;
  /** Standing behaviour for one account's requests, or for all when `accountSid` is omitted. */
  setMode: (mode: FakeMode, accountSid?: string) => void;
  requests: FakeRequest[];
  /** Accepted messages (201), in order. */
  messages: TwilioMessage[];
  /**
   * Moves a message to `status` and, when it was sent with a StatusCallback, POSTs Twilio's signed callback there.
   * Answers the callback's response, or undefined when the message had no StatusCallback.
   */
  deliver: (sid: string, status?: TwilioMessageStatus, extra?: Record<string, string>) => Promise<Response | undefined>;
  /**
   * POSTs a signed inbound-message webhook to `url`, as Twilio does when `from` texts the Twilio number `to`
   * (`whatsapp:`-prefixed numbers make it a WhatsApp message). Answers the app's response (TwiML, usually).
   */
  inbound: (
    url: string,
    from: string,
    to: string,
    body: string,
    options?: { postTo?: string; extra?: Record<string, string> },
  ) => Promise<Response>;
  close: () => Promise<void>;
}

/** The statuses a status callback can carry; `read` exists for WhatsApp only. */
export type TwilioMessageStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read' | 'canceled';

const isWhatsapp = (address: string | undefined): boolean => /^whatsapp:/i.test(address ?? '');

/** What Twilio reports as num_segments: carrier segments for SMS, always 1 for WhatsApp. */
function segmentsOf(form: Record<string, string>): number {
  return isWhatsapp(form.To) ? 1 : countSmsSegments(form.Body ?? '').segments;
}

const MORE_INFO = 'https://www.twilio.com/docs/errors/';
const twilioError = (status: number, code: number, message: string): Reply => ({
  status,
  body: { code, message, more_info: `${MORE_INFO}${code}`, status },
});

function defaultError(status: number): Reply {
  if (status === 429) return twilioError(429, 20429, 'Too Many Requests');
  if (status === 401) return twilioError(401, 20003, 'Authenticate');
  if (status === 404) return twilioError(404, 20404, 'The requested resource was not found');
  if (status >= 500) return twilioError(status, 20500, 'An internal server error has occurred');
  return twilioError(status, 21000, 'Bad Request');
}

/** Twilio's request signature: HMAC-SHA1 over the URL followed by each POST parameter name and value, sorted by name. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return crypto.createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

/**
 * POSTs a form-encoded callback signed as Twilio signs it. The signature covers `url` (the public URL Twilio would
 * call); `postTo` sends it elsewhere, for an app listening on another address than its public one.
 */
export async function statusCallback(
  url: string,
  params: Record<string, string>,
  authToken: string,
  { postTo }: { postTo?: string } = {},
): Promise<Response> {
  return fetch(postTo ?? url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(authToken, url, params),
    },
    body: new URLSearchParams(params).toString(),
    redirect: 'manual',
  });
}

function parseBasic(header: string | undefined): { user: string; pass: string } | undefined {
  const m = /^Basic (.+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

function messageJson(m: TwilioMessage): Record<string, unknown> {
  const created = new Date(m.at).toUTCString();
  return {
    sid: m.sid,
    account_sid: m.accountSid,
    status: m.status,
    to: m.form.To,
    from: m.form.From ?? null,
    body: m.form.Body ?? '',
    messaging_service_sid: m.form.MessagingServiceSid ?? null,
    direction: 'outbound-api',
    num_segments: String(segmentsOf(m.form)),
    num_media: '0',
    price: null,
    price_unit: 'USD',
    error_code: null,
    error_message: null,
    api_version: '2010-04-01',
    date_created: created,
    date_updated: created,
    date_sent: null,
    uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
  };
}

function accountJson(sid: string): Record<string, unknown> {
  const created = new Date(0).toUTCString();
  return {
    sid,
    owner_account_sid: sid,
    friendly_name: 'Fake account',
    status: 'active',
    type: 'Full',
    auth_token: '[redacted]',
    date_created: created,
    date_updated: created,
    subresource_uris: {},
    uri: `/2010-04-01/Accounts/${sid}.json`,
  };
}

const ACCOUNT_PATH = /^\/2010-04-01\/Accounts\/([^/.]+)/;

export async function startFakeTwilio(opts: { accountSid?: string; authToken?: string } = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? crypto.randomBytes(16).toString('hex');
  /** Auth token by account SID. */
  const accounts = new Map<string, string>([[accountSid, authToken]]);
  const messages: TwilioMessage[] = [];
  const bySid = new Map<string, TwilioMessage>();
  /** Whether the Basic credentials name a known account, and the one in the path. */
  const authorised = (header: string | undefined, pathSid: string | undefined): boolean => {
    const auth = parseBasic(header);
    return !!auth && auth.user === pathSid && accounts.get(auth.user) === auth.pass;
  };

  const http = await startHttpFake(
    ({ req, path, body, fault }) => {
      if (fault !== undefined && fault !== 'hang' && fault !== 'reset') {
        const f = faultReply(fault);
        const base = defaultError(f.status);
        return {
          status: f.status,
          headers: {
            ...retryAfterHeader(f.status === 429 ? (f.retryAfterSeconds ?? 1) : f.retryAfterSeconds),
            ...f.headers,
          },
          body: f.body ?? base.body,
        };
      }
      // GET /Accounts/{sid}.json: what a credentials check fetches.
      const account = /^\/2010-04-01\/Accounts\/([^/]+)\.json$/.exec(path);
      if (account && req.method === 'GET') {
        if (!authorised(req.headers.authorization, account[1])) return defaultError(401);
        return { status: 200, body: accountJson(account[1]!) };
      }
      const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/([^/]+))?\.json$/.exec(path);
      if (!m) return defaultError(404);
      if (!authorised(req.headers.authorization, m[1])) return defaultError(401);

      if (m[2]) {
        const found = req.method === 'GET' ? bySid.get(m[2]) : undefined;
        return found ? { status: 200, body: messageJson(found) } : defaultError(404);
      }
      if (req.method !== 'POST') return twilioError(405, 20004, 'Method not allowed');
      const form = (body ?? {}) as Record<string, string>;
      if (!form.To) return twilioError(400, 21604, "A 'To' phone number is required.");
      if (!form.From && !form.MessagingServiceSid) return twilioError(400, 21603, "A 'From' phone number is required.");
      if (!form.Body && !form.MediaUrl && !form.ContentSid) return twilioError(400, 21602, 'Message body is required.');
      if (/0000$/.test(form.To)) return twilioError(400, 21211, "The 'To' number is not a valid phone number.");
      if (/0001$/.test(form.To)) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
      if (/0002$/.test(form.To)) return twilioError(400, 21614, "'To' number is not a valid mobile number");
      if (isWhatsapp(form.To) && /6301$/.test(form.To))
        return twilioError(
          400,
          63016,
          'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
        );
      const msg: TwilioMessage = {
        // From randomUUID, which draws on a cached pool: randomBytes(16) for every message was a tenth of the fakes'
        // CPU in bench/dispatch.ts, on the cores the dispatch it measures runs on.
        sid: `SM${crypto.randomUUID().replaceAll('-', '')}`,
        accountSid: m[1]!,
        form,
        status: 'queued',
        at: Date.now(),
      };
      messages.push(msg);
      bySid.set(msg.sid, msg);
      return { status: 201, body: messageJson(msg) };
    },
    { scopeOf: (path) => ACCOUNT_PATH.exec(path)?.[1] },
  );

  return {
    url: http.url,
    port: http.port,
    accountSid,
    authToken,
    requests: http.requests,
    messages,
    addAccount(account = {}) {
      const added = {
        accountSid: account.accountSid ?? `AC${crypto.randomBytes(16).toString('hex')}`,
        authToken: account.authToken ?? crypto.randomBytes(16).toString('hex'),
      };
      accounts.set(added.accountSid, added.authToken);
      return added;
    },
    inject: (fault, times = 1, sid) => http.plan.inject(fault, times, sid),
    setMode: (mode, sid) => http.plan.setMode(mode, sid),
    reset: () => {
      http.reset();
      messages.length = 0;
      bySid.clear();
    },
    async deliver(sid, status = 'delivered', extra = {}) {
      const msg = bySid.get(sid);
      if (!msg) throw new Error(`fake twilio: no message ${sid}`);
      if (status === 'read' && !isWhatsapp(msg.form.To))
        throw new Error(`fake twilio: an SMS has no read status (${sid})`);
      msg.status = status;
      const callback = msg.form.StatusCallback;
      if (!callback) return undefined;
      const params: Record<string, string> = {
        AccountSid: msg.accountSid,
        ApiVersion: '2010-04-01',
        MessageSid: sid,
        SmsSid: sid,
        MessageStatus: status,
        SmsStatus: status,
        To: msg.form.To ?? '',
        From: msg.form.From ?? '',
        ...(isWhatsapp(msg.form.To) ? { ChannelPrefix: 'whatsapp' } : { NumSegments: String(segmentsOf(msg.form)) }),
        ...extra,
      };
      return statusCallback(callback, params, accounts.get(msg.accountSid) ?? authToken);
    },
    inbound(url, from, to, body, { postTo, extra = {} } = {}) {
      const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
      const whatsapp = isWhatsapp(from);
      const params: Record<string, string> = {
        ToCountry: 'US',
        SmsMessageSid: sid,
        NumMedia: '0',
        SmsSid: sid,
        SmsStatus: 'received',
        Body: body,
        To: to,
        NumSegments: whatsapp ? '1' : String(countSmsSegments(body).segments),
        MessageSid: sid,
        AccountSid: accountSid,
        From: from,
        ApiVersion: '2010-04-01',
        ...(whatsapp
          ? { ProfileName: 'Fake Person', WaId: from.replace(/^whatsapp:\+?/i, ''), MessageType: 'text' }
          : {}),
        ...extra,
      };
      return statusCallback(url, params, authToken, { postTo });
    },
    close: http.close,
  };
}
