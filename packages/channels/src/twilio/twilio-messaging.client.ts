// The one Twilio Programmable Messaging sender behind the SMS and WhatsApp adapters: the official SDK, pointed at
// TWILIO_API_URL through its httpClient option (setting `client.httpClient` later has no effect), with keep-alive
// agents this object owns and closes, and Twilio's answers turned into provider errors with Retry-After kept.
import http from 'node:http';
import twilio from 'twilio';
import { twilioProviderError, TwilioHttpFailure } from './twilio-errors';

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Replaces https://api.twilio.com (the fake in tests, local demos): TWILIO_API_URL. */
  apiUrl?: string;
  /** Per-request timeout, also the socket's (10 s). */
  timeoutMs?: number;
  /**
   * Sockets per host (100). The SDK's default of 20 would queue a dispatch queue's concurrent sends behind each
   * other, and a queued request's timeout runs while it waits for a socket.
   */
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

// api.twilio.com, or a regional/edge host the SDK derives from it (api.sydney.au1.twilio.com).
const TWILIO_API = /^https:\/\/api(?:\.[a-z0-9-]+)*\.twilio\.com(?=[/:?]|$)/;

export class TwilioMessagingClient {
  readonly accountSid: string;
  private readonly authToken: string;
  private readonly base: RequestClient;
  private readonly httpAgent: http.Agent;
  private readonly client: ReturnType<typeof twilio>;
  private closed = false;

  constructor(options: TwilioClientOptions) {
    this.accountSid = options.accountSid;
    this.authToken = options.authToken;
    const timeout = options.timeoutMs ?? 10_000;
    // autoRetry stays off: retrying, and when, is the dispatcher's decision (it honours Retry-After).
    const maxSockets = options.maxSockets ?? 100;
    this.base = new twilio.RequestClient({ timeout, keepAlive: true, maxSockets, maxTotalSockets: maxSockets });
    // The SDK builds a keep-alive agent for https only; a plain-http API URL (the fake) gets one of ours.
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets, timeout });
    this.base.axios.defaults.httpAgent = this.httpAgent;
    const apiUrl = options.apiUrl?.replace(/\/+$/, '');
    const base = this.base;
    const httpClient = {
      async request(o: RequestOptions) {
        const res = await base.request(apiUrl ? { ...o, uri: o.uri.replace(TWILIO_API, apiUrl) } : o);
        // The SDK's own exception drops the headers, and with them Retry-After.
        if (res.statusCode >= 400)
          throw new TwilioHttpFailure(res.statusCode, res.body, (res.headers ?? {}) as Record<string, unknown>);
        return res;
      },
    };
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
    this.httpAgent.destroy();
    const httpsAgent = this.base.axios.defaults.httpsAgent as { destroy?: () => void } | undefined;
    httpsAgent?.destroy?.();
    return Promise.resolve();
  }
}
