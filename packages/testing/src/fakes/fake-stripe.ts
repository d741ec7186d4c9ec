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

export interface StripeCreate {
  /** The decoded form parameters, nested as Stripe reads them (`line_items[0][price_data][currency]`...). */
  params: Record<string, unknown>;
  idempotencyKey: string | undefined;
  sessionId: string;
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
  /** Changes a session as the customer or time would (`{status:'complete', payment_status:'paid'}`), and answers it. */
  updateSession: (id: string, patch: Partial<CheckoutSession>) => CheckoutSession;
  /** An event wrapping `object` (a session by default, looked up by id), as Stripe would POST it. */
  event: (type: string, object: Record<string, unknown> | string) => StripeEvent;
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
  const creates: StripeCreate[] = [];
  // Stripe replays the first answer for a key, and refuses the key with different parameters.
  const idempotent = new Map<string, { raw: string; reply: Reply }>();

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

    if (path === '/v1/checkout/sessions' && req.method === 'POST') {
      const key = req.headers['idempotency-key'] as string | undefined;
      const seen = key ? idempotent.get(key) : undefined;
      if (seen) {
        if (seen.raw !== raw)
          return withId(
            stripeError(
              400,
              'idempotency_error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
          );
        return withId({ ...seen.reply, headers: { 'idempotent-replayed': 'true' } });
      }
      const params = parseStripeForm(raw);
      const { amount, currency } = amountOf(params);
      const now = Math.floor(Date.now() / 1000);
      const id = `cs_test_${crypto.randomBytes(24).toString('base64url').replace(/[-_]/g, 'a')}`;
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
      creates.push({ params, idempotencyKey: key, sessionId: id, at: Date.now() });
      const reply: Reply = { status: 200, body: session };
      if (key) idempotent.set(key, { raw, reply: { status: 200, body: structuredClone(session) } });
      return withId(reply);
    }
    const m = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(path);
    if (m?.[1]) {
      const session = sessions.get(m[1]);
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
    inject: http.inject,
    setMode: http.setMode,
    reset: () => {
      http.reset();
      sessions.clear();
      creates.length = 0;
      idempotent.clear();
    },
    updateSession(id, patch) {
      const session = sessions.get(id);
      if (!session) throw new Error(`fake stripe: no session ${id}`);
      Object.assign(session, patch);
      return session;
    },
    event(type, object) {
      const obj = typeof object === 'string' ? sessions.get(object) : object;
      if (!obj) throw new Error(`fake stripe: no session ${typeof object === 'string' ? object : ''}`);
      return {
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
