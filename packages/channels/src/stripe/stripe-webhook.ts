// Checks that a webhook came from Stripe: the `Stripe-Signature` header (`t=<unix seconds>,v1=<hex>[,v1=...]`) is
// an HMAC-SHA256 of `t.rawBody` under one of our endpoint secrets (the platform endpoint's, and the Connect
// endpoint's when set). The SDK's verifier checks the signature and refuses a stale timestamp, but accepts one from
// the future, so that is refused here too: a captured request cannot be replayed later with a forged clock.
import Stripe from 'stripe';

export const STRIPE_SIGNATURE_HEADER = 'Stripe-Signature';

/** How old, or how far ahead, a signed timestamp may be (Stripe's own default tolerance). */
export const STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300;

export type StripeWebhookVerdict =
  /** The body verified under one of the secrets; `secretIndex` says which. */
  | { ok: true; secretIndex: number }
  | { ok: false; reason: 'no_secret' | 'malformed_header' | 'bad_signature' | 'stale' | 'future' };

/** The `t=` of a signature header, or undefined when the header has none or more than one. */
function timestampOf(header: string): number | undefined {
  const ts = header
    .split(',')
    .map((part) => part.trim().split('='))
    .filter(([k]) => k === 't')
    .map(([, v]) => v ?? '');
  if (ts.length !== 1 || !/^\d{1,12}$/.test(ts[0]!)) return undefined;
  return Number(ts[0]);
}

/**
 * Verifies a Stripe webhook against each configured secret. `rawBody` is the body exactly as received. The caller
 * answers 400 when the header is absent and 401 for every refusal here.
 */
export function verifyStripeWebhook(
  rawBody: Buffer | string,
  header: string,
  secrets: readonly (string | undefined)[],
  { now = Date.now(), toleranceSeconds = STRIPE_WEBHOOK_TOLERANCE_SECONDS } = {},
): StripeWebhookVerdict {
  if (!secrets.some((s) => !!s)) return { ok: false, reason: 'no_secret' };
  const t = timestampOf(header);
  if (t === undefined) return { ok: false, reason: 'malformed_header' };
  const nowSeconds = Math.floor(now / 1000);
  if (t - nowSeconds > toleranceSeconds) return { ok: false, reason: 'future' };
  if (nowSeconds - t > toleranceSeconds) return { ok: false, reason: 'stale' };
  const payload = typeof rawBody === 'string' ? rawBody : new Uint8Array(rawBody);
  for (const [i, secret] of secrets.entries()) {
    if (!secret) continue;
    try {
      Stripe.webhooks.signature!.verifyHeader(payload, header, secret, toleranceSeconds, undefined, now);
      return { ok: true, secretIndex: i };
    } catch {
      // Not this secret: try the next.
    }
  }
  return { ok: false, reason: 'bad_signature' };
}
