import { expect } from 'chai';
import { providerFailure } from '../provider-failure';
import { startFakeStripe, type FakeStripe } from '@nudge/testing';
import { PermanentProviderError, StripeAdapter, TransientProviderError } from '@nudge/channels';

const params = {
  amount: 12_500,
  currency: 'EUR',
  productName: 'Quarterly VAT return',
  successUrl: 'https://nudge.test/pay/success?session_id={CHECKOUT_SESSION_ID}',
  cancelUrl: 'https://nudge.test/pay/cancel',
  metadata: { workspace_id: 'w1', payment_id: 'p1' },
};

describe('StripeAdapter', () => {
  let fake: FakeStripe;
  let adapter: StripeAdapter;
  beforeEach(async () => {
    fake = await startFakeStripe();
    adapter = new StripeAdapter({ secretKey: fake.secretKey, apiUrl: fake.url, timeoutMs: 300 });
  });
  afterEach(async () => {
    await adapter.close();
    await fake.close();
  });

  it('makes no request until a method is called', () => {
    expect(fake.requests).to.have.length(0);
  });

  it('creates an Express account and an onboarding link for it, on the platform account', async () => {
    const account = await adapter.createConnectAccount();
    expect(account.id).to.match(/^acct_/);
    expect(account.chargesEnabled).to.equal(false);
    expect(fake.accounts.get(account.id)?.type).to.equal('express');
    const link = await adapter.createAccountLink(account.id, {
      refreshUrl: 'https://nudge.test/r',
      returnUrl: 'https://nudge.test/done',
    });
    expect(link.url).to.equal(fake.accountLinks[0]!.url);
    expect(fake.accountLinks[0]).to.include({ account: account.id, type: 'account_onboarding' });
    expect(fake.requests.map((r) => fake.stripeAccountOf(r))).to.deep.equal([null, null]);
  });

  it("creates a payment session with inline price_data and metadata on the connected account's Stripe-Account", async () => {
    const { id: acct } = await adapter.createConnectAccount();
    const session = await adapter.createCheckoutSession(params, { stripeAccount: acct, idempotencyKey: 'checkout-p1' });
    expect(session.url).to.be.a('string');
    expect(session).to.include({ status: 'open', paymentStatus: 'unpaid', amountTotal: 12_500, currency: 'EUR' });
    const create = fake.creates[0]!;
    expect(create).to.include({ stripeAccount: acct, idempotencyKey: 'checkout-p1', sessionId: session.id });
    expect(create.params).to.deep.include({
      mode: 'payment',
      success_url: params.successUrl,
      cancel_url: params.cancelUrl,
      metadata: params.metadata,
      line_items: [
        {
          quantity: '1',
          price_data: { currency: 'eur', unit_amount: '12500', product_data: { name: 'Quarterly VAT return' } },
        },
      ],
    });
  });

  it('replays a create with the same idempotency key instead of making a second session', async () => {
    const first = await adapter.createCheckoutSession(params, { stripeAccount: null, idempotencyKey: 'k1' });
    const again = await adapter.createCheckoutSession(params, { stripeAccount: null, idempotencyKey: 'k1' });
    expect(again.id).to.equal(first.id);
    expect(fake.creates).to.have.length(1);
  });

  it('retrieves and expires a session on the account it lives on', async () => {
    const { id: acct } = await adapter.createConnectAccount();
    const s = await adapter.createCheckoutSession(params, { stripeAccount: acct });
    fake.completeSession(s.id);
    const done = await adapter.retrieveCheckoutSession(s.id, { stripeAccount: acct });
    expect(done).to.include({ status: 'complete', paymentStatus: 'paid' });
    expect(done.paymentIntentId).to.match(/^pi_/);
    const other = await adapter.createCheckoutSession(params, { stripeAccount: acct });
    const expired = await adapter.expireCheckoutSession(other.id, { stripeAccount: acct });
    expect(expired).to.include({ status: 'expired', url: null });
    const missing = await providerFailure(adapter.retrieveCheckoutSession(other.id, { stripeAccount: null }));
    expect(missing).to.be.instanceOf(PermanentProviderError);
    expect(missing.code).to.equal('not_found');
  });

  it('maps a 429 to a transient rate_limited error with Retry-After, and 5xx to provider_unavailable', async () => {
    fake.inject({ status: 429, retryAfterSeconds: 3 });
    const limited = await providerFailure(adapter.createCheckoutSession(params, { stripeAccount: null }));
    expect(limited).to.be.instanceOf(TransientProviderError);
    expect(limited).to.include({ code: 'rate_limited', retryAfterMs: 3000, providerCode: 'rate_limit' });
    fake.inject(503);
    const down = await providerFailure(adapter.createCheckoutSession(params, { stripeAccount: null }));
    expect(down).to.include({ transient: true, code: 'provider_unavailable', status: 503 });
  });

  it('maps a timeout to a transient timeout and a bad key to auth_failed, never echoing the key', async () => {
    fake.inject('hang');
    const slow = await providerFailure(adapter.createConnectAccount({ timeoutMs: 100 }));
    expect(slow).to.include({ transient: true, code: 'timeout' });
    const wrong = new StripeAdapter({ secretKey: 'sk_test_obviouslyfakekey123', apiUrl: fake.url });
    try {
      const denied = await providerFailure(wrong.createConnectAccount());
      expect(denied).to.include({ transient: false, code: 'auth_failed', status: 401 });
      expect(denied.message).to.not.contain('sk_test_obviouslyfakekey123');
    } finally {
      await wrong.close();
    }
  });

  it('maps a reused idempotency key with other parameters to a permanent idempotency_conflict', async () => {
    await adapter.createCheckoutSession(params, { stripeAccount: null, idempotencyKey: 'k2' });
    const err = await providerFailure(
      adapter.createCheckoutSession({ ...params, amount: 1 }, { stripeAccount: null, idempotencyKey: 'k2' }),
    );
    expect(err).to.include({ transient: false, code: 'idempotency_conflict' });
  });
});
