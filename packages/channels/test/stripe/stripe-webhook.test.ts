// Signatures made as Stripe makes them, with the SDK's own generateTestHeaderString.
import { expect } from 'chai';
import Stripe from 'stripe';
import { verifyStripeWebhook } from '../../src/stripe/stripe-webhook';

const SECRET = 'whsec_fake_platform_endpoint_secret';
const CONNECT_SECRET = 'whsec_fake_connect_endpoint_secret';
const payload = JSON.stringify({ id: 'evt_fake_1', object: 'event', type: 'checkout.session.completed' });
const now = Date.now();
const nowSeconds = Math.floor(now / 1000);
const sign = (opts: { payload?: string; secret?: string; timestamp?: number } = {}) =>
  Stripe.webhooks.generateTestHeaderString({
    payload: opts.payload ?? payload,
    secret: opts.secret ?? SECRET,
    timestamp: opts.timestamp ?? nowSeconds,
  });

describe('verifyStripeWebhook', () => {
  it('accepts a body signed with the endpoint secret, as a string or as the raw bytes', () => {
    expect(verifyStripeWebhook(payload, sign(), [SECRET], { now })).to.deep.equal({ ok: true, secretIndex: 0 });
    expect(verifyStripeWebhook(Buffer.from(payload), sign(), [SECRET], { now })).to.deep.include({ ok: true });
  });

  it('refuses a tampered body', () => {
    const tampered = payload.replace('completed', 'expired');
    expect(verifyStripeWebhook(tampered, sign(), [SECRET], { now })).to.deep.equal({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a signature made with another secret', () => {
    const header = sign({ secret: 'whsec_fake_someone_else' });
    expect(verifyStripeWebhook(payload, header, [SECRET], { now })).to.deep.include({ reason: 'bad_signature' });
  });

  it('refuses a stale timestamp, and one more than 5 minutes in the future, however well signed', () => {
    expect(verifyStripeWebhook(payload, sign({ timestamp: nowSeconds - 301 }), [SECRET], { now })).to.deep.include({
      reason: 'stale',
    });
    expect(verifyStripeWebhook(payload, sign({ timestamp: nowSeconds + 301 }), [SECRET], { now })).to.deep.include({
      reason: 'future',
    });
    expect(verifyStripeWebhook(payload, sign({ timestamp: nowSeconds + 240 }), [SECRET], { now })).to.deep.include({
      ok: true,
    });
  });

  it('accepts a header with two v1 values when one of them is right (a secret being rolled)', () => {
    const right = sign().split(',v1=')[1]!;
    const wrong = sign({ secret: 'whsec_fake_old_secret' }).split(',v1=')[1]!;
    expect(verifyStripeWebhook(payload, `t=${nowSeconds},v1=${wrong},v1=${right}`, [SECRET], { now })).to.deep.include({
      ok: true,
    });
    expect(verifyStripeWebhook(payload, `t=${nowSeconds},v1=${wrong},v1=${wrong}`, [SECRET], { now })).to.deep.include({
      ok: false,
    });
  });

  it('accepts the Connect endpoint secret too, when one is set', () => {
    const header = sign({ secret: CONNECT_SECRET });
    expect(verifyStripeWebhook(payload, header, [SECRET, CONNECT_SECRET], { now })).to.deep.equal({
      ok: true,
      secretIndex: 1,
    });
    expect(verifyStripeWebhook(payload, header, [SECRET, undefined], { now })).to.deep.include({ ok: false });
  });

  it('refuses a header without one timestamp, and everything when no secret is configured', () => {
    expect(verifyStripeWebhook(payload, 'v1=abc', [SECRET], { now })).to.deep.include({ reason: 'malformed_header' });
    expect(verifyStripeWebhook(payload, `t=1,t=2,v1=abc`, [SECRET], { now })).to.deep.include({
      reason: 'malformed_header',
    });
    expect(verifyStripeWebhook(payload, 'garbage', [SECRET], { now })).to.deep.include({ ok: false });
    expect(verifyStripeWebhook(payload, sign(), [undefined], { now })).to.deep.include({ reason: 'no_secret' });
  });
});
