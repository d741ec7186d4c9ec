// The errors every adapter throws. A dispatcher needs only `transient` (retry, after `retryAfterMs` when given) and
// `code` (what to record). Messages are built from status codes and provider error texts with addresses scrubbed,
// never from the request, so they can be logged and stored: no API key, recipient or message text.

export type ProviderName = 'sendgrid' | 'smtp' | 'sandbox' | 'twilio' | 'slack' | 'stripe';

/**
 * Stable codes. Transient: `timeout`, `network`, `rate_limited`, `provider_unavailable`. Permanent: `auth_failed`,
 * `invalid_request`, `invalid_recipient` (the address itself is bad: undeliverable), `recipient_opted_out` (the
 * provider holds an opt-out for it, Twilio 21610), `template_required` (WhatsApp outside the 24-hour session
 * window, Twilio 63016: a template or another channel can still reach the person), `not_found`, `rejected`.
 * Adapters may add provider-specific ones (a Slack hook's `channel_archived`, say).
 */
export type ProviderErrorCode =
  | 'timeout'
  | 'network'
  | 'rate_limited'
  | 'provider_unavailable'
  | 'auth_failed'
  | 'invalid_request'
  | 'invalid_recipient'
  | 'recipient_opted_out'
  | 'template_required'
  | 'not_found'
  | 'rejected'
  | (string & {});

export interface ProviderErrorDetails {
  provider: ProviderName;
  code: ProviderErrorCode;
  status?: number;
  retryAfterMs?: number;
  /** The provider's own error code (Twilio 21211, an SMTP reply code...), when it gave one. */
  providerCode?: string | number;
  /** The address itself is bad, so no retry or resend to it can work. Defaults to `code === 'invalid_recipient'`. */
  undeliverable?: boolean;
}

export abstract class ProviderError extends Error {
  abstract readonly transient: boolean;
  readonly provider: ProviderName;
  readonly code: ProviderErrorCode;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly providerCode?: string | number;
  /** A permanent failure caused by the address itself (a dispatcher ends it `undeliverable`, not `failed`). */
  readonly undeliverable: boolean;

  constructor(message: string, details: ProviderErrorDetails) {
    super(message);
    this.name = new.target.name;
    this.provider = details.provider;
    this.code = details.code;
    this.undeliverable = details.undeliverable ?? details.code === 'invalid_recipient';
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.providerCode !== undefined) this.providerCode = details.providerCode;
  }
}

/** Worth retrying: a timeout, a refused or reset connection, a 429, a 5xx. */
export class TransientProviderError extends ProviderError {
  readonly transient = true;
}

/** Retrying cannot help: bad credentials, an invalid or opted-out recipient, a payload the provider refuses. */
export class PermanentProviderError extends ProviderError {
  readonly transient = false;
}

/** A channel with no usable credentials where the sandbox is not allowed (production). */
export class ChannelNotConfiguredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelNotConfiguredError';
  }
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/**
 * What a notification's `last_error` keeps: the stable code, then the provider and its own code (or the HTTP status
 * when it gave none), e.g. `invalid_recipient (twilio 21211)`, `provider_unavailable (sendgrid 503)`. Never any
 * text from the provider, so it holds no address. An error that is not a ProviderError is `internal_error`.
 */
export function lastErrorOf(err: unknown): string {
  if (!isProviderError(err)) return 'internal_error';
  const own = err.providerCode ?? err.status;
  return own === undefined ? `${err.code} (${err.provider})` : `${err.code} (${err.provider} ${own})`;
}

/**
 * Retry-After as milliseconds: delay-seconds or an HTTP date. Undefined when absent or unreadable, so a caller
 * falls back to its own backoff.
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? (value[0] as unknown) : value;
  if (typeof v === 'number') return v >= 0 ? Math.round(v * 1000) : undefined;
  if (typeof v !== 'string' || !v.trim()) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const EMAIL_RE = /[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g;
const PHONE_RE = /\+?\d[\d\s().-]{6,}\d/g;

/** Removes what must never reach a log from a provider's error text: addresses, numbers, the given secrets. */
export function scrub(text: string, secrets: Array<string | undefined> = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out.replace(EMAIL_RE, '[address]').replace(PHONE_RE, '[number]').slice(0, 300);
}

/** The error for an HTTP answer: 429 and 5xx transient (408 too), anything else permanent. */
export function providerErrorFromStatus(
  provider: ProviderName,
  status: number,
  {
    retryAfter,
    detail,
    code,
    providerCode,
    secrets,
    undeliverable,
  }: {
    retryAfter?: unknown;
    detail?: string;
    code?: ProviderErrorCode;
    providerCode?: string | number;
    secrets?: Array<string | undefined>;
    undeliverable?: boolean;
  } = {},
): ProviderError {
  const suffix = detail ? `: ${scrub(detail, secrets)}` : '';
  if (status === 429) {
    return new TransientProviderError(`${provider} rate limited the request (429)${suffix}`, {
      provider,
      code: code ?? 'rate_limited',
      status,
      retryAfterMs: parseRetryAfter(retryAfter),
      providerCode,
    });
  }
  if (status >= 500 || status === 408) {
    return new TransientProviderError(`${provider} is unavailable (${status})${suffix}`, {
      provider,
      code: code ?? 'provider_unavailable',
      status,
      retryAfterMs: parseRetryAfter(retryAfter),
      providerCode,
    });
  }
  const fallback: ProviderErrorCode =
    status === 401 || status === 403 ? 'auth_failed' : status === 404 ? 'not_found' : 'invalid_request';
  return new PermanentProviderError(`${provider} refused the request (${status})${suffix}`, {
    provider,
    code: code ?? fallback,
    status,
    providerCode,
    undeliverable,
  });
}

const TIMEOUT_CODES = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_CANCELED',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'ERR_NETWORK',
  'ECONNECTION',
  'ESOCKET',
  'EDNS',
]);

/**
 * The error for a request that got no HTTP answer (timeout, refused, reset), from the error code the client
 * library set (`err.code`, or on `err.cause`). Undefined when the error is not a network failure.
 */
export function providerErrorFromNetwork(provider: ProviderName, err: unknown): TransientProviderError | undefined {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } } | null;
  if (!e || typeof e !== 'object') return undefined;
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  if ((code && TIMEOUT_CODES.has(code)) || e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new TransientProviderError(`${provider} did not answer in time`, {
      provider,
      code: 'timeout',
      providerCode: code,
    });
  }
  if (code && NETWORK_CODES.has(code)) {
    return new TransientProviderError(`${provider} could not be reached (${code})`, {
      provider,
      code: 'network',
      providerCode: code,
    });
  }
  return undefined;
}
