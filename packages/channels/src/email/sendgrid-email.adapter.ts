// Email through SendGrid's v3 Mail Send API with the official SDK, over keep-alive connections the adapter owns
// (one adapter is reused for every message of its account, and closed with it). The SDK builds the request and the
// error; undici carries it (../net/provider-http.ts), through a client the MailService is given with setClient.
import { Client } from '@sendgrid/client';
import { classes } from '@sendgrid/helpers';
import { MailService } from '@sendgrid/mail';
import { ProviderHttp } from '../net/provider-http';

// From the package's root: Node's ESM loader refuses the directory import `@sendgrid/helpers/classes` in the bundle.
const { Response, ResponseError } = classes;
import {
  PermanentProviderError,
  providerErrorFromNetwork,
  providerErrorFromStatus,
  scrub,
  type ProviderError,
} from '../errors';
import { checkedHeaders, senderOf } from './email-envelope';
import type { EmailAdapter, EmailMessage, EmailSendResult } from './email.types';

export interface SendgridEmailAdapterOptions {
  apiKey: string;
  /** Replaces https://api.sendgrid.com/ (tests, local demos). */
  apiUrl?: string;
  /** Default sender when a message names none. */
  from: string;
  /** Per-request timeout (10 s). */
  timeoutMs?: number;
}

type SendgridRequest = Parameters<Client['request']>[0];

/** The SDK's client with its request sent through undici: the headers, URL and body are the SDK's own. */
class UndiciSendgridClient extends Client {
  constructor(private readonly http: ProviderHttp) {
    super();
  }

  override async request(data: SendgridRequest): ReturnType<Client['request']> {
    // createRequest's result keeps axios's names (baseURL, data, params), which its typings leave out.
    const req = this.createRequest(data) as SendgridRequest & { baseURL?: string; data?: unknown; params?: object };
    const base = (req.baseURL ?? '').replace(/\/+$/, '');
    const query = req.params ? new URLSearchParams(req.params as Record<string, string>).toString() : '';
    const res = await this.http.request({
      url: `${base}/${(req.url ?? '').replace(/^\/+/, '')}${query ? `?${query}` : ''}`,
      method: req.method ?? 'GET',
      headers: (req.headers ?? {}) as Record<string, string>,
      ...(req.data !== undefined ? { body: JSON.stringify(req.data) } : {}),
    });
    let body: unknown = res.text;
    try {
      body = res.text ? (JSON.parse(res.text) as unknown) : '';
    } catch {
      // Not JSON (a proxy's error page): kept as text.
    }
    if (res.status >= 400)
      throw new ResponseError({ status: res.status, statusText: '', data: body, headers: res.headers } as never);
    return [new Response(res.status, body, res.headers) as never, body];
  }
}

interface SendgridResponseError {
  code: number;
  response?: { headers?: Record<string, unknown>; body?: unknown };
}

const header = (headers: Record<string, unknown> | undefined, name: string): unknown => {
  if (!headers) return undefined;
  const get = (headers as { get?: (n: string) => unknown }).get;
  return typeof get === 'function' ? get.call(headers, name) : headers[name];
};

export class SendgridEmailAdapter implements EmailAdapter {
  readonly provider = 'sendgrid' as const;
  private readonly mail: MailService;
  private readonly apiKey: string;
  private readonly from: string;
  private readonly http: ProviderHttp;

  constructor(options: SendgridEmailAdapterOptions) {
    this.apiKey = options.apiKey;
    this.from = options.from;
    // Our own instance, not the SDK's shared default, so a workspace's key and the platform's never mix.
    this.mail = new MailService();
    this.http = new ProviderHttp({ timeoutMs: options.timeoutMs ?? 10_000 });
    const client = new UndiciSendgridClient(this.http);
    this.mail.setClient(client);
    this.mail.setApiKey(options.apiKey);
    // After setApiKey, which resets the base URL to the region's.
    if (options.apiUrl)
      client.setDefaultRequest('baseUrl', options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`);
  }

  async send(message: EmailMessage): Promise<EmailSendResult> {
    const headers = checkedHeaders('sendgrid', message);
    const sender = senderOf(message, this.from);
    try {
      const [response] = await this.mail.send({
        to: message.to,
        from: sender.name ? { email: sender.address, name: sender.name } : { email: sender.address },
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        // Sent as top-level `custom_args`; SendGrid echoes them on every event of this message.
        ...(message.customArgs ? { customArgs: message.customArgs } : {}),
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
      });
      const id = header(response.headers as Record<string, unknown>, 'x-message-id');
      return { provider: 'sendgrid', messageId: typeof id === 'string' ? id : '' };
    } catch (err) {
      throw this.toProviderError(err, message);
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private toProviderError(err: unknown, message: EmailMessage): ProviderError {
    const network = providerErrorFromNetwork('sendgrid', err);
    if (network) return network;
    const secrets = [this.apiKey, message.to, message.text, message.subject];
    const e = err as Partial<SendgridResponseError> | null;
    if (e && typeof e.code === 'number' && e.response) {
      const headers = e.response.headers;
      const items =
        (e.response.body as { errors?: Array<{ message?: string; field?: string | null }> } | undefined)?.errors ?? [];
      const detail = items.map((i) => (i.field ? `${i.field}: ${i.message ?? ''}` : (i.message ?? ''))).join('; ');
      const badRecipient = items.some(
        (i) => /^personalizations\.\d+\.(to|cc|bcc)/.test(i.field ?? '') || /valid address/i.test(i.message ?? ''),
      );
      return providerErrorFromStatus('sendgrid', e.code, {
        retryAfter: header(headers, 'retry-after') ?? resetToSeconds(header(headers, 'x-ratelimit-reset')),
        detail,
        secrets,
        ...(e.code === 400 && badRecipient ? { code: 'invalid_recipient' } : {}),
      });
    }
    // The SDK's own checks throw before any request (no recipient, a malformed argument): retrying cannot help.
    return new PermanentProviderError(
      `sendgrid refused the message before sending: ${scrub(err instanceof Error ? err.message : String(err), secrets)}`,
      { provider: 'sendgrid', code: 'invalid_request' },
    );
  }
}

/** X-RateLimit-Reset is an epoch second; turn it into delay-seconds. */
function resetToSeconds(reset: unknown): number | undefined {
  const at = Number(reset);
  return Number.isFinite(at) && at > 0 ? Math.max(0, at - Date.now() / 1000) : undefined;
}
