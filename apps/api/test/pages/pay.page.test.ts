// Where Stripe Checkout returns the payer (issue 12, point 6): small public pages naming the business, a thank-you or a
// link to try again, and a generic page (never an error, never another payment's data) for anything else.
import { expect } from 'chai';
import request from 'supertest';
import { testApp, testDeps, team, unique } from '../helpers';
import { insertPayment } from '../payments/payment-fixtures';

describe('the payer pages', () => {
  const db = testDeps().db;
  // A name that needs escaping: the page must show it as text.
  const name = `Smith & <b>Sons</b> ${unique()}`;
  const session = (label: string) => `cs_test_${label}_${unique()}`;
  let workspaceId: string;
  const sessions: Record<string, string> = {};
  let openPaymentId: string;

  before(async function () {
    this.timeout(30_000);
    workspaceId = (await team(testApp())).workspaceId;
    await db('workspaces').where({ id: workspaceId }).update({ name });
    const future = new Date(Date.now() + 3600_000);
    for (const [label, fields] of [
      ['open', { checkout_expires_at: future }],
      ['lapsed', { checkout_expires_at: new Date(Date.now() - 60_000) }],
      ['paid', { status: 'paid', paid_at: new Date(), checkout_expires_at: future }],
      ['processing', { status: 'processing', checkout_expires_at: future }],
    ] as const) {
      sessions[label] = session(label);
      const p = await insertPayment(db, workspaceId, {
        checkout_session_id: sessions[label],
        checkout_url: `https://checkout.stripe.test/c/pay/${sessions[label]}`,
        ...fields,
      });
      if (label === 'open') openPaymentId = p.id;
    }
  });

  const escaped = 'Smith &#38; &#60;b&#62;Sons&#60;/b&#62;';
  const get = (path: string, query: Record<string, string | undefined> = {}) =>
    request(testApp())
      .get(path)
      .query(query)
      .expect(200)
      .expect('Content-Type', /text\/html/);

  describe('GET /pay/success', () => {
    it("thanks the payer by the business's name, escaped, when the session names a payment", async () => {
      const res = await get('/pay/success', { session_id: sessions.paid! });
      expect(res.text).to.contain('Thank you for your payment').and.contain(`to ${escaped}`);
      expect(res.text).not.to.contain('<b>Sons');
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['referrer-policy']).to.equal('no-referrer');
    });

    it('says a payment still being confirmed may take a moment', async () => {
      const res = await get('/pay/success', { session_id: sessions.processing! });
      expect(res.text).to.contain(escaped).and.contain('may take a moment');
    });

    it('renders a generic thank-you without a session id, or with an unknown or malformed one', async () => {
      for (const query of [{}, { session_id: 'cs_test_unknown' }, { session_id: '<script>' }, { session_id: '' }]) {
        const res = await get('/pay/success', query);
        expect(res.text, JSON.stringify(query)).to.contain('Thank you for your payment');
        expect(res.text).not.to.contain('Sons').and.not.contain('<script>');
      }
    });
  });

  describe('GET /pay/cancel', () => {
    it("links back to the open payment's Checkout page", async () => {
      for (const query of [{ session_id: sessions.open! }, { payment_id: openPaymentId }]) {
        const res = await get('/pay/cancel', query);
        expect(res.text).to.contain('Payment not completed').and.contain(`to ${escaped}`);
        expect(res.text).to.contain(`href="https://checkout.stripe.test/c/pay/${sessions.open}"`);
      }
    });

    it('offers no link once the payment is paid, processing or its session has lapsed', async () => {
      for (const label of ['paid', 'processing', 'lapsed']) {
        const res = await get('/pay/cancel', { session_id: sessions[label]! });
        expect(res.text, label).to.contain(escaped).and.not.contain('href=');
        expect(res.text).to.contain('use the link in the reminder');
      }
    });

    it('renders a generic page without an id, or with an unknown or malformed one', async () => {
      for (const query of [
        {},
        { session_id: 'cs_test_unknown' },
        { payment_id: '00000000-0000-4000-8000-000000000000' },
        { payment_id: 'nope' },
      ]) {
        const res = await get('/pay/cancel', query);
        expect(res.text, JSON.stringify(query)).to.contain('Payment not completed').and.not.contain('Sons');
        expect(res.text).not.to.contain('href=');
      }
    });
  });
});
