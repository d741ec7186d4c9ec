// Email through any SMTP server with nodemailer, configured by one URL (`smtp://user:pass@host:587`, `smtps://...:465`).
import nodemailer, { type Transporter } from 'nodemailer';
import {
  PermanentProviderError,
  TransientProviderError,
  providerErrorFromNetwork,
  scrub,
  type ProviderError,
} from '../errors';
import type { EmailAdapter, EmailMessage, EmailSendResult } from './email.types';

export interface SmtpEmailAdapterOptions {
  /** nodemailer's connection URL; its query string may carry further transport options. */
  url: string;
  /** Default sender when a message names none. */
  from: string;
  /** Connection, greeting and socket inactivity timeout each (10 s), unless the URL sets them. */
  timeoutMs?: number;
}

interface NodemailerError {
  code?: string;
  responseCode?: number;
  response?: string;
}

export class SmtpEmailAdapter implements EmailAdapter {
  readonly provider = 'smtp' as const;
  private readonly transport: Transporter;
  private readonly from: string;
  private readonly password: string;

  constructor(options: SmtpEmailAdapterOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
      throw new Error('SMTP URL must start with smtp:// or smtps://');
    this.password = decodeURIComponent(url.password);
    const timeout = String(options.timeoutMs ?? 10_000);
    for (const name of ['connectionTimeout', 'greetingTimeout', 'socketTimeout'])
      if (!url.searchParams.has(name)) url.searchParams.set(name, timeout);
    this.transport = nodemailer.createTransport(url.toString());
    this.from = options.from;
  }

  async send(message: EmailMessage): Promise<EmailSendResult> {
    try {
      const info = (await this.transport.sendMail({
        to: message.to,
        from: message.from ?? this.from,
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
      })) as { messageId?: string };
      return { provider: 'smtp', messageId: info.messageId ?? '' };
    } catch (err) {
      throw this.toProviderError(err, message);
    }
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }

  private toProviderError(err: unknown, message: EmailMessage): ProviderError {
    const e = (err ?? {}) as NodemailerError;
    const secrets = [this.password, message.to, message.text, message.subject];
    const reply = e.response ? `: ${scrub(e.response, secrets)}` : '';
    const details = { provider: 'smtp' as const, providerCode: e.responseCode ?? e.code };
    if (e.code === 'EAUTH')
      return new PermanentProviderError(`smtp server refused the credentials${reply}`, {
        ...details,
        code: 'auth_failed',
      });
    if (e.code === 'ETLS')
      return new PermanentProviderError('smtp TLS negotiation failed', { ...details, code: 'tls_failed' });
    // SMTP's own rule: 4xx replies are temporary, 5xx permanent.
    if (typeof e.responseCode === 'number' && e.responseCode >= 500) {
      return new PermanentProviderError(`smtp server rejected the message (${e.responseCode})${reply}`, {
        ...details,
        code: e.code === 'EENVELOPE' ? 'invalid_recipient' : 'rejected',
      });
    }
    if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
      return new TransientProviderError(`smtp server deferred the message (${e.responseCode})${reply}`, {
        ...details,
        code: 'provider_unavailable',
      });
    }
    const network = providerErrorFromNetwork('smtp', err);
    if (network) return network;
    return new TransientProviderError(`smtp send failed (${e.code ?? 'unknown'})`, { ...details, code: 'unknown' });
  }
}
