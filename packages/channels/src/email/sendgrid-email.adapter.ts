// Email through SendGrid's v3 Mail Send API with the official SDK, over keep-alive agents the adapter owns (one
// adapter is reused for every message of its account, and closed with it).
import http from 'node:http';
import https from 'node:https';
import { MailService } from '@sendgrid/mail';
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

// The SDK's typings leave out the client that MailService carries; its type is the one setClient takes.
type SendgridClient = Parameters<MailService['setClient']>[0];

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
  private readonly agents: Array<http.Agent | https.Agent>;

  constructor(options: SendgridEmailAdapterOptions) {
    this.apiKey = options.apiKey;
    this.from = options.from;
    // Our own instance, not the SDK's shared default, so a workspace's key and the platform's never mix.
    this.mail = new MailService();
    this.mail.setApiKey(options.apiKey);
    this.mail.setTimeout(options.timeoutMs ?? 10_000);
    const client = (this.mail as unknown as { client: SendgridClient }).client;
    const httpAgent = new http.Agent({ keepAlive: true });
    const httpsAgent = new https.Agent({ keepAlive: true });
    this.agents = [httpAgent, httpsAgent];
    client.setDefaultRequest('httpAgent' as never, httpAgent as never);
    client.setDefaultRequest('httpsAgent' as never, httpsAgent as never);
    // Mail Send answers 202 or an error, never a redirect: without axios's redirect-following wrapper
    // (follow-redirects) each send costs less CPU.
    client.setDefaultRequest('maxRedirects' as never, 0 as never);
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
    for (const agent of this.agents) agent.destroy();
    return Promise.resolve();
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
