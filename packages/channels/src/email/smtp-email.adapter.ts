// Email through any SMTP server with nodemailer, configured by one URL (`smtp://user:pass@host:587`, `smtps://...:465`).
// The URL may be a tenant's, so the transport options are built here rather than handed to nodemailer's own URL
// parser (whose query string can turn off TLS or certificate checks, or replace the host): `smtps://` is TLS from
// the first byte, `smtp://` must upgrade with STARTTLS, and only a loopback host outside production (the fake SMTP
// server, which has no TLS) may stay plain. A workspace's own server is a tenant-supplied address: with a blocking
// host policy its name is resolved and checked right before connecting, and the connection goes to the approved
// address (net/outbound-host.ts), with TLS still verified against the name the tenant gave.
import net from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import { checkOutboundHost, type OutboundHostPolicy, type OutboundHostProblem } from '../net/outbound-host';
import {
  PermanentProviderError,
  TransientProviderError,
  providerErrorFromNetwork,
  scrub,
  type ProviderError,
} from '../errors';
import { isLoopbackHost } from '../net/loopback';
import { checkedHeaders, senderOf } from './email-envelope';
import type { EmailAdapter, EmailMessage, EmailSendResult } from './email.types';

/** Why a host may not be used (a stable code such as `host_not_allowed`), or undefined when it may. */
export type SmtpHostCheck = (host: string, port: number) => string | undefined | Promise<string | undefined>;

export interface SmtpEmailAdapterOptions {
  /** `smtp://` or `smtps://`, credentials in the URL; see SMTP_QUERY_OPTIONS for what its query string may set. */
  url: string;
  /** Default sender when a message names none. */
  from: string;
  /** Connection, greeting and socket inactivity timeout each (10 s), unless the URL sets them. */
  timeoutMs?: number;
  /** Plain `smtp://` without STARTTLS to a loopback host: outside production only (the fake SMTP server). */
  allowInsecureLoopback?: boolean;
  /**
   * Asked before every send with the URL's host and port; a returned code refuses the send as a permanent error with
   * that code. Whatever it throws propagates unchanged.
   */
  checkHost?: SmtpHostCheck;
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

/** The query-string options an SMTP URL may carry: pooling, timeouts and the EHLO name. Anything else is refused. */
export const SMTP_QUERY_OPTIONS = [
  'pool',
  'maxConnections',
  'maxMessages',
  'connectionTimeout',
  'greetingTimeout',
  'socketTimeout',
  'name',
] as const;

/** The nodemailer SMTP (pool) transport options this adapter uses. */
export interface SmtpTransportOptions {
  pool: boolean;
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
  maxConnections?: number;
  maxMessages?: number;
  name?: string;
}

const NUMERIC = new Set(['maxConnections', 'maxMessages', 'connectionTimeout', 'greetingTimeout', 'socketTimeout']);

function invalidUrl(why: string): PermanentProviderError {
  return new PermanentProviderError(`smtp URL refused: ${why}`, { provider: 'smtp', code: 'invalid_config' });
}

/**
 * nodemailer's transport options for an SMTP URL: TLS from the start for `smtps://`, STARTTLS required for
 * `smtp://` unless `allowInsecureLoopback` and the host is loopback. Connections are pooled (reused across sends)
 * unless the URL says `pool=false`. Throws a permanent `invalid_config` for anything else.
 */
export function smtpTransportOptions(
  url: string,
  { timeoutMs = 10_000, allowInsecureLoopback = false }: { timeoutMs?: number; allowInsecureLoopback?: boolean } = {},
): SmtpTransportOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidUrl('not a URL');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw invalidUrl('it must start with smtp:// or smtps://');
  if (!u.hostname) throw invalidUrl('no host');
  const secure = u.protocol === 'smtps:';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: SmtpTransportOptions & Record<string, unknown> = {
    pool: true,
    host,
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    // On smtp://, a server that offers no STARTTLS (or a man in the middle who strips it) ends the send.
    requireTLS: !secure && !(allowInsecureLoopback && isLoopbackHost(u.hostname)),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
  if (u.username || u.password)
    options.auth = { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
  for (const [key, value] of u.searchParams) {
    if (!(SMTP_QUERY_OPTIONS as readonly string[]).includes(key)) throw invalidUrl(`option ${key} is not allowed`);
    if (key === 'pool') options.pool = value !== 'false';
    else if (NUMERIC.has(key)) {
      if (!/^\d{1,7}$/.test(value)) throw invalidUrl(`option ${key} must be a number`);
      options[key] = Number(value);
    } else options[key] = value;
  }
  return options;
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
  private readonly transportOptions: SmtpTransportOptions;
  private readonly from: string;
  private readonly password: string;
  private readonly checkHost: SmtpHostCheck | undefined;
  private readonly hostPolicy: OutboundHostPolicy | undefined;

  constructor(options: SmtpEmailAdapterOptions) {
    this.transportOptions = smtpTransportOptions(options.url, options);
    this.password = this.transportOptions.auth?.pass ?? '';
    this.checkHost = options.checkHost;
    this.hostPolicy = options.hostPolicy?.blockInternalAddresses ? options.hostPolicy : undefined;
    if (!this.hostPolicy) this.transport = this.createTransport(this.transportOptions);
    this.from = options.from;
  }

  private createTransport(options: SmtpTransportOptions & { tls?: { servername: string } }): Transporter {
    return nodemailer.createTransport(options as Parameters<typeof nodemailer.createTransport>[0]);
  }

  /** The transport for this send: under a host policy, checked now and pinned to the address approved. */
  private async connect(): Promise<Transporter> {
    if (!this.hostPolicy) return this.transport as Transporter;
    const { host } = this.transportOptions;
    const checked = await checkOutboundHost(host, this.hostPolicy);
    if ('problem' in checked)
      throw new PermanentProviderError(`smtp host refused: ${checked.problem}`, {
        provider: 'smtp',
        code: checked.problem,
      });
    if (!this.transport || this.pinnedAddress !== checked.address) {
      this.transport?.close();
      this.transport = this.createTransport({
        ...this.transportOptions,
        host: checked.address,
        ...(net.isIP(host) ? {} : { tls: { servername: host } }),
      });
      this.pinnedAddress = checked.address;
    }
    return this.transport;
  }

  async send(message: EmailMessage): Promise<EmailSendResult> {
    const problem = this.checkHost
      ? await this.checkHost(this.transportOptions.host, this.transportOptions.port)
      : undefined;
    if (problem) throw new PermanentProviderError(`smtp host refused: ${problem}`, { provider: 'smtp', code: problem });
    const headers = checkedHeaders('smtp', message);
    const sender = senderOf(message, this.from);
    const transport = await this.connect();
    try {
      const info = (await transport.sendMail({
        to: message.to,
        from: sender.name ? { name: sender.name, address: sender.address } : sender.address,
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        headers,
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
