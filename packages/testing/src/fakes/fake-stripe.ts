// A fake Stripe API for Checkout Sessions, plus webhook signing as Stripe signs events.
import crypto from 'node:crypto';
import {
  faultReply,
  retryAfterHeader,
  startHttpFake,
  type FaultControls,
  type FakeRequest,
  type Reply,
} from './http-fake';

export interface CheckoutSession {
  id: string;
  object: 'checkout.session';
  url: string | null;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid' | 'no_payment_required';
  mode: string;
  metadata: Record<string, string>;
  amount_total: number;
  currency: string | null;
  client_reference_id: string | null;
  customer_email: string | null;
  success_url: string | null;
  cancel_url: string | null;
  payment_intent: string | null;
  created: number;
  expires_at: number;
  livemode: false;
  [key: string]: unknown;
}

/** A Connect account as the fake keeps it (an Express account, onboarding not yet finished). */
export interface ConnectAccount {
  id: string;
  object: 'account';
  type: string;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  created: number;
  [key: string]: unknown;
}

export interface AccountLink {
  object: 'account_link';
  account: string;
  url: string;
  refresh_url: string | null;
  return_url: string | null;
  type: string;
  created: number;
  expires_at: number;
}

export interface StripeCreate {
  /** The decoded form parameters, nested as Stripe reads them (`line_items[0][price_data][currency]`...). */
  params: Record<string, unknown>;
  idempotencyKey: string | undefined;
  sessionId: string;
  /** The Stripe-Account header it came with (the connected account it was made on), null for the platform's own. */
  stripeAccount: string | null;
  at: number;
}

export interface StripeEvent {
  id: string;
  object: 'event';
  type: string;
  api_version: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: Record<string, unknown> };
  /** Connect events name the connected account they happened on. */
  account?: string;
}

export interface FakeStripe extends FaultControls {
  url: string;
  port: number;
  /** For `new Stripe(secretKey, { host, port, protocol: 'http' })`. */
  host: '127.0.0.1';
  protocol: 'http';
  secretKey: string;
  webhookSecret: string;
  requests: FakeRequest[];
  sessions: Map<string, CheckoutSession>;
  /** Sessions actually created (idempotent replays are not repeated here). */
  creates: StripeCreate[];
  /** Connected accounts made through POST /v1/accounts. */
  accounts: Map<string, ConnectAccount>;
  /** Account Links handed out, in order. */
  accountLinks: AccountLink[];
  /** The Stripe-Account header of a recorded request (null when absent: the platform's own account). */
  stripeAccountOf: (request: FakeRequest) => string | null;
  /** The connected account a session was created on (null: the platform's own). */
  sessionAccount: (id: string) => string | null;
  /** Changes a session as the customer or time would (`{status:'complete', payment_status:'paid'}`), and answers it. */
  updateSession: (id: string, patch: Partial<CheckoutSession>) => CheckoutSession;
  /** The payer finished: `complete`, paid (or `unpaid` for a delayed method), with a payment intent. */
  completeSession: (id: string, paymentStatus?: CheckoutSession['payment_status']) => CheckoutSession;
  /** Time ran out on the session: `expired`, its URL gone. */
  expireSession: (id: string) => CheckoutSession;
  /** Changes a connected account (`{charges_enabled: true}` once onboarding finishes), and answers it. */
  updateAccount: (id: string, patch: Partial<ConnectAccount>) => ConnectAccount;
  /**
   * An event wrapping `object` (a session by default, looked up by id), as Stripe would POST it. A session made on a
   * connected account, or an explicit `account`, gives the event its top-level `account` (a Connect event).
   */
  event: (type: string, object: Record<string, unknown> | string, opts?: { account?: string }) => StripeEvent;
  /** The raw body and `Stripe-Signature` header of an event, signed with this fake's webhook secret. */
  signedEvent: (event: StripeEvent, t?: number) => { payload: string; signature: string };
  close: () => Promise<void>;
}

/** A `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">`. */
export function signWebhook(payload: string, secret: string, t: number = Math.floor(Date.now() / 1000)): string {
  const v1 = crypto.createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}

/** Decodes Stripe's bracketed form encoding (`a[b][0][c]=v`) into nested objects and arrays. */
export function parseStripeForm(raw: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const head = /^[^[]+/.exec(key)?.[0] ?? key;
    const rest = [...key.slice(head.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
    const segments = [head, ...rest];
    let node: Record<string, unknown> | unknown[] = root;
    segments.forEach((seg, i) => {
      const last = i === segments.length - 1;
      const container = node as Record<string, unknown>;
      if (last) {
        container[seg] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(segments[i + 1]!);
      container[seg] ??= nextIsIndex ? [] : {};
      node = container[seg] as Record<string, unknown>;
    });
  }
  return root;
}

const stripeError = (status: number, type: string, message: string, extra: Record<string, unknown> = {}): Reply => ({
  status,
  body: { error: { type, message, ...extra } },
});

function defaultError(status: number): Reply {
  if (status === 429)
    return stripeError(
      429,
      'invalid_request_error',
      'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
      { code: 'rate_limit' },
    );
  if (status === 401) return stripeError(401, 'invalid_request_error', 'Invalid API Key provided');
  if (status === 404) return stripeError(404, 'invalid_request_error', 'Unrecognized request URL');
  if (status >= 500) return stripeError(status, 'api_error', 'An unknown error occurred');
  return stripeError(status, 'invalid_request_error', 'Invalid request');
}

function amountOf(params: Record<string, unknown>): { amount: number; currency: string | null } {
  const items =
    (params.line_items as
      Array<{ quantity?: string; price_data?: { unit_amount?: string; currency?: string } }> | undefined) ?? [];
  let amount = 0;
  let currency: string | null = null;
  for (const item of items) {
    amount += Number(item.price_data?.unit_amount ?? 0) * Number(item.quantity ?? 1);
    currency ??= item.price_data?.currency ?? null;
  }
  return { amount, currency };
}

export async function startFakeStripe(opts: { secretKey?: string; webhookSecret?: string } = {}): Promise<FakeStripe> {
  const secretKey = opts.secretKey ?? `sk_test_${crypto.randomBytes(24).toString('base64url')}`;
  const webhookSecret = opts.webhookSecret ?? `whsec_${crypto.randomBytes(24).toString('base64url')}`;
  const sessions = new Map<string, CheckoutSession>();
  const sessionAccounts = new Map<string, string | null>();
  const creates: StripeCreate[] = [];
  const accounts = new Map<string, ConnectAccount>();
  const accountLinks: AccountLink[] = [];
  // Stripe replays the first answer for a key (keys are scoped to the account acted on), and refuses the key with
  // different parameters.
  const idempotent = new Map<string, { path: string; raw: string; reply: Reply }>();
  const randomId = (prefix: string): string =>
    `${prefix}${crypto.randomBytes(18).toString('base64url').replace(/[-_]/g, 'a')}`;
  const stripeAccountOf = (r: { headers: FakeRequest['headers'] }): string | null => {
    const h = r.headers['stripe-account'];
    return (Array.isArray(h) ? h[0] : h) || null;
  };

  const http = await startHttpFake(({ req, baseUrl, path, raw, fault }) => {
    const requestId = `req_${crypto.randomBytes(7).toString('hex')}`;
    const withId = (r: Reply): Reply => ({ ...r, headers: { 'request-id': requestId, ...r.headers } });
    if (fault !== undefined && fault !== 'hang' && fault !== 'reset') {
      const f = faultReply(fault);
      return withId({
        status: f.status,
        headers: { ...retryAfterHeader(f.retryAfterSeconds), ...f.headers },
        body: f.body ?? defaultError(f.status).body,
      });
    }
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!auth) return withId(stripeError(401, 'invalid_request_error', 'You did not provide an API key.'));
    if (auth !== secretKey)
      return withId(
        stripeError(401, 'invalid_request_error', `Invalid API Key provided: ${auth.slice(0, 8)}****${auth.slice(-4)}`),
      );
    const actingAs = stripeAccountOf(req);
    if (actingAs && !accounts.has(actingAs))
      return withId(
        stripeError(
          403,
          'invalid_request_error',
          `The provided key does not have access to account '${actingAs}' (or that account does not exist).`,
          { code: 'account_invalid' },
        ),
      );

    // Every create is idempotent by key: the replay answers the first reply, whatever the path.
    const key = req.method === 'POST' ? (req.headers['idempotency-key'] as string | undefined) : undefined;
    const scopedKey = key ? `${actingAs ?? 'platform'}|${key}` : undefined;
    const seen = scopedKey ? idempotent.get(scopedKey) : undefined;
    if (seen) {
      if (seen.raw !== raw || seen.path !== path)
        return withId(
          stripeError(
            400,
            'idempotency_error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          ),
        );
      return withId({ ...seen.reply, headers: { 'idempotent-replayed': 'true' } });
    }
    const remember = (reply: Reply): Reply => {
      if (scopedKey && reply.status === 200)
        idempotent.set(scopedKey, { path, raw, reply: { status: 200, body: structuredClone(reply.body) } });
      return withId(reply);
    };
    const now = Math.floor(Date.now() / 1000);

    if (path === '/v1/accounts' && req.method === 'POST') {
      if (actingAs)
        return withId(stripeError(400, 'invalid_request_error', 'Connected accounts cannot create accounts.'));
      const params = parseStripeForm(raw);
      const account: ConnectAccount = {
        id: randomId('acct_'),
        object: 'account',
        type: (params.type as string | undefined) ?? 'standard',
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        created: now,
      };
      accounts.set(account.id, account);
      return remember({ status: 200, body: account });
    }
    const acct = /^\/v1\/accounts\/([^/]+)$/.exec(path);
    if (acct?.[1] && req.method === 'GET') {
      const account = accounts.get(acct[1]);
      if (!account)
        return withId(
          stripeError(404, 'invalid_request_error', `No such account: '${acct[1]}'`, { code: 'resource_missing' }),
        );
      return withId({ status: 200, body: account });
    }
    if (path === '/v1/account_links' && req.method === 'POST') {
      const params = parseStripeForm(raw);
      const accountId = params.account as string | undefined;
      if (!accountId || !accounts.has(accountId))
        return withId(
          stripeError(400, 'invalid_request_error', `No such account: '${accountId ?? ''}'`, {
            code: 'resource_missing',
            param: 'account',
          }),
        );
      const link: AccountLink = {
        object: 'account_link',
        account: accountId,
        url: `${baseUrl}/setup/e/${accountId}/${crypto.randomBytes(9).toString('hex')}`,
        refresh_url: (params.refresh_url as string | undefined) ?? null,
        return_url: (params.return_url as string | undefined) ?? null,
        type: (params.type as string | undefined) ?? 'account_onboarding',
        created: now,
        expires_at: now + 300,
      };
      accountLinks.push(link);
      return remember({ status: 200, body: link });
    }

    if (path === '/v1/checkout/sessions' && req.method === 'POST') {
      const params = parseStripeForm(raw);
      const { amount, currency } = amountOf(params);
      const id = randomId('cs_test_');
      const session: CheckoutSession = {
        id,
        object: 'checkout.session',
        url: `${baseUrl}/c/pay/${id}`,
        status: 'open',
        payment_status: 'unpaid',
        mode: (params.mode as string | undefined) ?? 'payment',
        metadata: (params.metadata as Record<string, string> | undefined) ?? {},
        amount_total: amount,
        currency,
        client_reference_id: (params.client_reference_id as string | undefined) ?? null,
        customer_email: (params.customer_email as string | undefined) ?? null,
        success_url: (params.success_url as string | undefined) ?? null,
        cancel_url: (params.cancel_url as string | undefined) ?? null,
        payment_intent: null,
        created: now,
        expires_at: params.expires_at ? Number(params.expires_at) : now + 24 * 3600,
        livemode: false,
      };
      sessions.set(id, session);
      sessionAccounts.set(id, actingAs);
      creates.push({ params, idempotencyKey: key, sessionId: id, stripeAccount: actingAs, at: Date.now() });
      return remember({ status: 200, body: session });
    }
    const m = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(path);
    if (m?.[1]) {
      // A session lives on one account: asked for from another, Stripe does not know it.
      const session = sessionAccounts.get(m[1]) === actingAs ? sessions.get(m[1]) : undefined;
      if (!session)
        return withId(
          stripeError(404, 'invalid_request_error', `No such checkout.session: '${m[1]}'`, {
            code: 'resource_missing',
            param: 'session',
          }),
        );
      if (m[2] && req.method === 'POST') {
        if (session.status !== 'open')
          return withId(
            stripeError(
              400,
              'invalid_request_error',
              'Only Checkout Sessions with a status in ["open"] can be expired.',
            ),
          );
        session.status = 'expired';
        session.url = null;
        return withId({ status: 200, body: session });
      }
      if (!m[2] && req.method === 'GET') return withId({ status: 200, body: session });
    }
    return withId(stripeError(404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${path}).`));
  });

  const fake: FakeStripe = {
    url: http.url,
    port: http.port,
    host: '127.0.0.1',
    protocol: 'http',
    secretKey,
    webhookSecret,
    requests: http.requests,
    sessions,
    creates,
    accounts,
    accountLinks,
    stripeAccountOf,
    sessionAccount: (id) => sessionAccounts.get(id) ?? null,
    inject: http.inject,
    setMode: http.setMode,
    reset: () => {
      http.reset();
      sessions.clear();
      sessionAccounts.clear();
      creates.length = 0;
      accounts.clear();
      accountLinks.length = 0;
      idempotent.clear();
    },
    updateSession(id, patch) {
      const session = sessions.get(id);
      if (!session) throw new Error(`fake stripe: no session ${id}`);
      Object.assign(session, patch);
      return session;
    },
    completeSession(id, paymentStatus = 'paid') {
      const session = fake.updateSession(id, { status: 'complete', payment_status: paymentStatus });
      session.payment_intent ??= randomId('pi_');
      session.url = null;
      return session;
    },
    expireSession(id) {
      return fake.updateSession(id, { status: 'expired', url: null });
    },
    updateAccount(id, patch) {
      const account = accounts.get(id);
      if (!account) throw new Error(`fake stripe: no account ${id}`);
      Object.assign(account, patch);
      return account;
    },
    event(type, object, opts = {}) {
      const obj = typeof object === 'string' ? sessions.get(object) : object;
      if (!obj) throw new Error(`fake stripe: no session ${typeof object === 'string' ? object : ''}`);
      const account =
        opts.account ?? (typeof object === 'string' ? (sessionAccounts.get(object) ?? undefined) : undefined);
      return {
        ...(account ? { account } : {}),
        id: `evt_${crypto.randomBytes(12).toString('hex')}`,
        object: 'event',
        type,
        api_version: '2026-10-28.endive',
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object: structuredClone(obj) },
      };
    },
    signedEvent(event, t) {
      const payload = JSON.stringify(event);
      return { payload, signature: signWebhook(payload, webhookSecret, t) };
    },
    close: http.close,
  };
  return fake;
}
