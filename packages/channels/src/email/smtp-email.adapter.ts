// Email through any SMTP server with nodemailer, configured by one URL (`smtp://user:pass@host:587`, `smtps://...:465`).
// A workspace's own server is a tenant-supplied address: with a blocking host policy its name is resolved and checked
// right before connecting, and the connection goes to the approved address (net/outbound-host.ts).
import nodemailer, { type Transporter } from 'nodemailer';
import net from 'node:net';
import { checkOutboundHost, type OutboundHostPolicy, type OutboundHostProblem } from '../net/outbound-host';
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
  /** For a tenant's server: refuse internal addresses, checked before each connection. */
  hostPolicy?: OutboundHostPolicy;
}

export type SmtpUrlProblem = 'invalid_url' | OutboundHostProblem;

/** Why an SMTP URL may not be used (scheme, host, and the host policy), or undefined when it may. */
export async function checkSmtpUrl(url: string, policy?: OutboundHostPolicy): Promise<SmtpUrlProblem | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'invalid_url';
  }
  if ((u.protocol !== 'smtp:' && u.protocol !== 'smtps:') || !u.hostname) return 'invalid_url';
  const checked = await checkOutboundHost(u.hostname, policy);
  return 'problem' in checked ? checked.problem : undefined;
}

interface NodemailerError {
  code?: string;
  responseCode?: number;
  response?: string;
}

export class SmtpEmailAdapter implements EmailAdapter {
  readonly provider = 'smtp' as const;
  private transport: Transporter | undefined;
  /** The address the current transport was pinned to, under a blocking host policy. */
  private pinnedAddress: string | undefined;
  private readonly url: URL;
  private readonly hostPolicy: OutboundHostPolicy | undefined;
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
    this.url = url;
    this.hostPolicy = options.hostPolicy?.blockInternalAddresses ? options.hostPolicy : undefined;
    if (!this.hostPolicy) this.transport = nodemailer.createTransport(url.toString());
    this.from = options.from;
  }

  /** The transport for this send: under a host policy, checked now and pinned to the address approved. */
  private async connect(): Promise<Transporter> {
    if (!this.hostPolicy) return this.transport as Transporter;
    const checked = await checkOutboundHost(this.url.hostname, this.hostPolicy);
    if ('problem' in checked)
      throw new PermanentProviderError(`smtp host refused: ${checked.problem}`, {
        provider: 'smtp',
        code: checked.problem,
      });
    if (!this.transport || this.pinnedAddress !== checked.address) {
      this.transport?.close();
      const pinned = new URL(this.url.toString());
      pinned.hostname = net.isIPv6(checked.address) ? `[${checked.address}]` : checked.address;
      const name = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
      // TLS still verifies the certificate against the name the tenant gave.
      this.transport = nodemailer.createTransport({
        url: pinned.toString(),
        ...(net.isIP(name) ? {} : { tls: { servername: name } }),
      } as Parameters<typeof nodemailer.createTransport>[0]);
      this.pinnedAddress = checked.address;
    }
    return this.transport;
  }

  async send(message: EmailMessage): Promise<EmailSendResult> {
    const transport = await this.connect();
    try {
      const info = (await transport.sendMail({
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
    this.transport?.close();
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
