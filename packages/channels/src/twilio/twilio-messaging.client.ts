// The one Twilio Programmable Messaging sender behind the SMS and WhatsApp adapters: the official SDK, whose
// requests go through its httpClient option (setting `client.httpClient` later has no effect) to undici
// (../net/provider-http.ts) over keep-alive connections this object owns and closes, pointed at TWILIO_API_URL when
// set, and Twilio's answers turned into provider errors with Retry-After kept.
import twilio from 'twilio';
import { ProviderHttp } from '../net/provider-http';
import { twilioProviderError, TwilioHttpFailure } from './twilio-errors';

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Replaces https://api.twilio.com (the fake in tests, local demos): TWILIO_API_URL. */
  apiUrl?: string;
  /** Per-request timeout, also the socket's (10 s). */
  timeoutMs?: number;
  /** Connections per host (100): a dispatch queue's concurrent sends must not queue behind each other. */
  maxSockets?: number;
}

export interface TwilioSendParams {
  to: string;
  from: string;
  body: string;
  statusCallback?: string;
}

export interface TwilioSent {
  sid: string;
  status: string;
  numSegments: number;
}

type RequestClient = InstanceType<typeof twilio.RequestClient>;
type RequestOptions = Parameters<RequestClient['request']>[0];

/** Form or query fields as Twilio sends them: a list repeats its key (`MediaUrl=a&MediaUrl=b`). */
function encodeFields(fields: object): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined && value !== null)
      for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) out.append(key, String(v));
  return out.toString();
}

// api.twilio.com, or a regional/edge host the SDK derives from it (api.sydney.au1.twilio.com).
const TWILIO_API = /^https:\/\/api(?:\.[a-z0-9-]+)*\.twilio\.com(?=[/:?]|$)/;

export class TwilioMessagingClient {
  readonly accountSid: string;
  private readonly authToken: string;
  private readonly http: ProviderHttp;
  private readonly client: ReturnType<typeof twilio>;
  private closed = false;

  constructor(options: TwilioClientOptions) {
    this.accountSid = options.accountSid;
    this.authToken = options.authToken;
    this.http = new ProviderHttp({ timeoutMs: options.timeoutMs ?? 10_000, connections: options.maxSockets ?? 100 });
    const apiUrl = options.apiUrl?.replace(/\/+$/, '');
    const http = this.http;
    // What the SDK's RequestClient does with a request, on undici: Basic auth from the SDK's credentials, the
    // fields form-encoded, the answer's body handed back as text (the SDK parses it).
    const httpClient = {
      async request(o: RequestOptions) {
        const headers: Record<string, string> = { ...o.headers };
        if (o.username && o.password)
          headers.Authorization = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
        else if (o.authStrategy) headers.Authorization = await o.authStrategy.getAuthString();
        const query = o.params ? encodeFields(o.params) : '';
        const uri = apiUrl ? o.uri.replace(TWILIO_API, apiUrl) : o.uri;
        const form = headers['Content-Type'] === 'application/x-www-form-urlencoded';
        const res = await http.request({
          url: query ? `${uri}${uri.includes('?') ? '&' : '?'}${query}` : uri,
          method: o.method.toUpperCase(),
          headers,
          ...(o.data ? { body: form ? encodeFields(o.data) : JSON.stringify(o.data) } : {}),
        });
        // The SDK's own exception drops the headers, and with them Retry-After.
        if (res.status >= 400) throw new TwilioHttpFailure(res.status, res.text, res.headers);
        return { statusCode: res.status, body: res.text, headers: res.headers };
      },
    };
    // autoRetry stays off: retrying, and when, is the dispatcher's decision (it honours Retry-After).
    this.client = twilio(options.accountSid, options.authToken, {
      httpClient: httpClient as unknown as RequestClient,
      autoRetry: false,
    });
  }

  /** Creates one message. Throws a TransientProviderError or PermanentProviderError. */
  async send(params: TwilioSendParams): Promise<TwilioSent> {
    if (this.closed) throw new Error('twilio messaging client is closed');
    try {
      const msg = await this.client.messages.create({
        to: params.to,
        from: params.from,
        body: params.body,
        ...(params.statusCallback ? { statusCallback: params.statusCallback } : {}),
      });
      const segments = Number(msg.numSegments);
      return {
        sid: msg.sid,
        status: msg.status,
        numSegments: Number.isInteger(segments) && segments > 0 ? segments : 1,
      };
    } catch (err) {
      throw twilioProviderError(err, [this.authToken, params.to, params.body, params.from]);
    }
  }

  /** Ends the kept-alive sockets; later sends are refused. */
  close(): Promise<void> {
    this.closed = true;
    return this.http.close();
  }
}
