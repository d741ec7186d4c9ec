// Stripe through the official SDK, as a Connect platform: onboarding (an Express account and its Account Link) and
// Checkout Sessions (create with inline price_data, retrieve, expire), each on a connected account (the SDK's
// `stripeAccount`, sent as the Stripe-Account header) or, with null, on the platform's own. Pointed at STRIPE_API_URL
// (host, port, protocol) with a keep-alive agent this object owns. Nothing is called until a method is: no request
// at start-up. SDK retries stay off: retrying, and when, belongs to the queue (or the API's caller).
import http from 'node:http';
import https from 'node:https';
import Stripe from 'stripe';
import type { Config } from '@nudge/config';
import {
  PermanentProviderError,
  providerErrorFromNetwork,
  providerErrorFromStatus,
  scrub,
  TransientProviderError,
  type ProviderError,
} from '../errors';

export interface StripeAdapterOptions {
  secretKey: string;
  /** Replaces https://api.stripe.com (the fake in tests, local demos): STRIPE_API_URL. */
  apiUrl?: string;
  /** Per-request timeout (10 s). */
  timeoutMs?: number;
  /** Sockets kept per host (20). */
  maxSockets?: number;
}

/** Where a call acts: a connected account (`acct_...`), or null for the platform's own account. */
export interface StripeCallOptions {
  stripeAccount: string | null;
  /** Sent as Idempotency-Key: Stripe replays the first answer for a key, so a retried create makes nothing new. */
  idempotencyKey?: string;
  /** This call's timeout, when it must be shorter than the adapter's (the API waits for onboarding). */
  timeoutMs?: number;
}

export interface CheckoutSessionParams {
  /** Minor units (cents). */
  amount: number;
  /** ISO 4217; sent lower-case, as Stripe expects. */
  currency: string;
  /** The line item's name the payer sees. */
  productName: string;
  successUrl: string;
  cancelUrl: string;
  /** Echoed on the session and its events: names the workspace, reminder, client, payment and notification. */
  metadata: Record<string, string>;
  clientReferenceId?: string;
  /** When the session stops accepting payment (Stripe allows 30 minutes to 24 hours ahead). */
  expiresAt?: Date;
}

export interface CheckoutSessionInfo {
  id: string;
  url: string | null;
  status: 'open' | 'complete' | 'expired';
  paymentStatus: 'paid' | 'unpaid' | 'no_payment_required';
  paymentIntentId: string | null;
  amountTotal: number | null;
  currency: string | null;
  expiresAt: Date;
  metadata: Record<string, string>;
}

export interface ConnectAccountInfo {
  id: string;
  chargesEnabled: boolean;
}

export interface AccountLinkInfo {
  url: string;
  expiresAt: Date;
}

export class StripeAdapter {
  private readonly stripe: Stripe;
  private readonly secretKey: string;
  private readonly agent: http.Agent | https.Agent;
  private closed = false;

  constructor(options: StripeAdapterOptions) {
    this.secretKey = options.secretKey;
    const timeout = options.timeoutMs ?? 10_000;
    const target = options.apiUrl ? new URL(options.apiUrl) : undefined;
    const protocol = target ? (target.protocol === 'http:' ? 'http' : 'https') : 'https';
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 20 };
    this.agent = protocol === 'http' ? new http.Agent(agentOptions) : new https.Agent(agentOptions);
    this.stripe = new Stripe(options.secretKey, {
      timeout,
      maxNetworkRetries: 0,
      httpAgent: this.agent,
      telemetry: false,
      ...(target
        ? {
            host: target.hostname,
            port: target.port ? Number(target.port) : protocol === 'http' ? 80 : 443,
            protocol,
          }
        : {}),
    });
  }

  /** An Express connected account: the business onboards through its Account Link. */
  async createConnectAccount(opts: { idempotencyKey?: string; timeoutMs?: number } = {}): Promise<ConnectAccountInfo> {
    const account = await this.call(() =>
      this.stripe.accounts.create({ type: 'express' }, this.requestOptions({ stripeAccount: null, ...opts })),
    );
    return { id: account.id, chargesEnabled: account.charges_enabled ?? false };
  }

  /** A one-time onboarding URL for a connected account (a fresh one each call: they expire within minutes). */
  async createAccountLink(
    accountId: string,
    urls: { refreshUrl: string; returnUrl: string },
    opts: { timeoutMs?: number } = {},
  ): Promise<AccountLinkInfo> {
    const link = await this.call(() =>
      this.stripe.accountLinks.create(
        { account: accountId, refresh_url: urls.refreshUrl, return_url: urls.returnUrl, type: 'account_onboarding' },
        this.requestOptions({ stripeAccount: null, ...opts }),
      ),
    );
    return { url: link.url, expiresAt: new Date(link.expires_at * 1000) };
  }

  async createCheckoutSession(params: CheckoutSessionParams, opts: StripeCallOptions): Promise<CheckoutSessionInfo> {
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: params.currency.toLowerCase(),
                unit_amount: params.amount,
                product_data: { name: params.productName },
              },
            },
          ],
          success_url: params.successUrl,
          cancel_url: params.cancelUrl,
          metadata: params.metadata,
          ...(params.clientReferenceId ? { client_reference_id: params.clientReferenceId } : {}),
          ...(params.expiresAt ? { expires_at: Math.floor(params.expiresAt.getTime() / 1000) } : {}),
        },
        this.requestOptions(opts),
      ),
    );
    return sessionInfo(session);
  }

  async retrieveCheckoutSession(id: string, opts: StripeCallOptions): Promise<CheckoutSessionInfo> {
    const session = await this.call(() => this.stripe.checkout.sessions.retrieve(id, {}, this.requestOptions(opts)));
    return sessionInfo(session);
  }

  /** Expires an open session, so its link no longer takes payment. Stripe refuses a session no longer open (400). */
  async expireCheckoutSession(id: string, opts: StripeCallOptions): Promise<CheckoutSessionInfo> {
    const session = await this.call(() => this.stripe.checkout.sessions.expire(id, {}, this.requestOptions(opts)));
    return sessionInfo(session);
  }

  /** Ends the kept-alive sockets; later calls are refused. */
  close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
    return Promise.resolve();
  }

  private requestOptions(opts: StripeCallOptions): Stripe.RequestOptions {
    return {
      ...(opts.stripeAccount ? { stripeAccount: opts.stripeAccount } : {}),
      ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('stripe adapter is closed');
    try {
      return await fn();
    } catch (err) {
      throw stripeProviderError(err, [this.secretKey]);
    }
  }
}

function sessionInfo(s: Stripe.Checkout.Session): CheckoutSessionInfo {
  const intent = s.payment_intent;
  return {
    id: s.id,
    url: s.url ?? null,
    status: (s.status ?? 'open') as CheckoutSessionInfo['status'],
    paymentStatus: s.payment_status as CheckoutSessionInfo['paymentStatus'],
    paymentIntentId: typeof intent === 'string' ? intent : (intent?.id ?? null),
    amountTotal: s.amount_total ?? null,
    currency: s.currency ? s.currency.toUpperCase() : null,
    expiresAt: new Date(s.expires_at * 1000),
    metadata: s.metadata ?? {},
  };
}

interface StripeErrorShape {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  headers?: Record<string, unknown>;
  detail?: unknown;
}

/**
 * Maps what the SDK throws onto the provider taxonomy: no answer (timeout, refused, reset) is transient; an HTTP
 * answer goes by its status (429 and 5xx transient, Retry-After kept; 401/403 auth_failed, 404 not_found, other 4xx
 * invalid_request), with Stripe's own error code as the provider code. An idempotency key reused with other
 * parameters is a permanent `idempotency_conflict`: retrying the same job cannot fix it.
 */
export function stripeProviderError(err: unknown, secrets: Array<string | undefined> = []): ProviderError {
  if (err instanceof TransientProviderError || err instanceof PermanentProviderError) return err;
  const e = (err ?? {}) as StripeErrorShape;
  if (e.type === 'StripeConnectionError') {
    const network = providerErrorFromNetwork('stripe', e.detail);
    if (network) return network;
    const timedOut = /timeout/i.test(e.message ?? '');
    return new TransientProviderError(timedOut ? 'stripe did not answer in time' : 'stripe could not be reached', {
      provider: 'stripe',
      code: timedOut ? 'timeout' : 'network',
    });
  }
  if (typeof e.statusCode === 'number') {
    const idempotency = e.type === 'StripeIdempotencyError';
    return providerErrorFromStatus('stripe', e.statusCode, {
      retryAfter: e.headers?.['retry-after'],
      detail: e.message,
      secrets,
      ...(e.code ? { providerCode: e.code } : idempotency ? { providerCode: 'idempotency_error' } : {}),
      ...(idempotency ? { code: 'idempotency_conflict' } : {}),
    });
  }
  const network = providerErrorFromNetwork('stripe', err);
  if (network) return network;
  return new PermanentProviderError(
    `stripe refused the request before sending: ${scrub(err instanceof Error ? err.message : String(err), secrets)}`,
    { provider: 'stripe', code: 'invalid_request' },
  );
}

/** The platform's Stripe adapter from config (STRIPE_SECRET_KEY, STRIPE_API_URL, STRIPE_TIMEOUT_MS); none without a key. */
export function createPlatformStripeAdapter(
  stripe: Pick<Config['stripe'], 'secretKey' | 'apiUrl' | 'timeoutMs'>,
): StripeAdapter | undefined {
  if (!stripe.secretKey) return undefined;
  return new StripeAdapter({
    secretKey: stripe.secretKey,
    ...(stripe.apiUrl ? { apiUrl: stripe.apiUrl } : {}),
    timeoutMs: stripe.timeoutMs,
  });
}
