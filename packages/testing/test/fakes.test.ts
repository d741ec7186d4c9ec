// Each fake is driven through the provider's official SDK, pointed at it as RECIPES.md shows, so the fakes speak
// the wire format the real adapters will meet.
import http from 'node:http';
import { expect } from 'chai';
import { MailService } from '@sendgrid/mail';
import { EventWebhook } from '@sendgrid/eventwebhook';
import twilio from 'twilio';
import Stripe from 'stripe';
import nodemailer from 'nodemailer';
import {
  createSendgridWebhookSigner,
  signWebhook,
  startFakeSendgrid,
  startFakeSlack,
  startFakeSmtp,
  startFakeStripe,
  startFakeTwilio,
  twilioSignature,
  type FakeSendgrid,
  type FakeSlack,
  type FakeSmtp,
  type FakeStripe,
  type FakeTwilio,
} from '@nudge/testing';

type SgClient = Parameters<MailService['setClient']>[0];

function sendgridSdk(
  fake: FakeSendgrid,
  { key = fake.apiKey, timeoutMs }: { key?: string; timeoutMs?: number } = {},
): MailService {
  const sg = new MailService();
  sg.setApiKey(key);
  if (timeoutMs) sg.setTimeout(timeoutMs);
  (sg as unknown as { client: SgClient }).client.setDefaultRequest('baseUrl', `${fake.url}/`);
  return sg;
}

const mail = {
  to: 'ada@example.com',
  from: 'noreply@nudge.test',
  subject: 'Invoice due',
  text: 'Please pay',
  customArgs: { notification_id: 'n1' },
};

/** A local server standing in for our webhook endpoint: records each form Twilio posts and its signature. */
async function twilioCallbackReceiver(pathAndQuery: string) {
  const received: Array<{ signature: string; params: Record<string, string> }> = [];
  const receiver = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({
        signature: String(req.headers['x-twilio-signature']),
        params: Object.fromEntries(new URLSearchParams(raw)),
      });
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}${pathAndQuery}`;
  return { received, receiver, url };
}

async function rejection(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('packages/testing fakes', () => {
  describe('startFakeSendgrid', () => {
    let fake: FakeSendgrid;
    beforeEach(async () => (fake = await startFakeSendgrid()));
    afterEach(() => fake.close());

    it('accepts a mail from @sendgrid/mail with 202 and the x-message-id it records', async () => {
      const [res] = await sendgridSdk(fake).send(mail);
      expect(res.statusCode).to.equal(202);
      expect(fake.mails).to.have.length(1);
      expect(res.headers['x-message-id']).to.equal(fake.mails[0]!.messageId);
      const body = fake.mails[0]!.body as {
        personalizations: Array<{ to: Array<{ email: string }> }>;
        subject: string;
        custom_args: unknown;
        content: Array<{ type: string; value: string }>;
      };
      expect(body.personalizations[0]!.to[0]!.email).to.equal('ada@example.com');
      expect(body.subject).to.equal('Invoice due');
      expect(body.custom_args).to.deep.equal({ notification_id: 'n1' });
      expect(body.content[0]).to.deep.equal({ type: 'text/plain', value: 'Please pay' });
      expect(fake.mails[0]!.authorization).to.equal(`Bearer ${fake.apiKey}`);
    });

    it('answers 401 in SendGrid error shape to another key', async () => {
      const err = await rejection(sendgridSdk(fake, { key: 'SG.wrong.key' }).send(mail));
      expect(err.code).to.equal(401);
      expect((err.response as { body: { errors: unknown[] } }).body.errors[0]).to.have.keys('message', 'field', 'help');
      expect(fake.mails).to.have.length(0);
    });

    it('injects 429 with Retry-After, then 503, then accepts again', async () => {
      fake.inject({ status: 429, retryAfterSeconds: 7 });
      fake.inject(503);
      const sg = sendgridSdk(fake);
      const first = await rejection(sg.send(mail));
      expect(first.code).to.equal(429);
      expect((first.response as { headers: Record<string, string> }).headers['retry-after']).to.equal('7');
      expect((await rejection(sg.send(mail))).code).to.equal(503);
      const [ok] = await sg.send(mail);
      expect(ok.statusCode).to.equal(202);
      expect(fake.requests.map((r) => r.outcome)).to.deep.equal([429, 503, 202]);
    });

    it('injects a 400 with errors [{message, field, help}]', async () => {
      fake.inject({
        status: 400,
        body: {
          errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to', help: null }],
        },
      });
      const err = await rejection(sendgridSdk(fake).send(mail));
      expect(err.code).to.equal(400);
      expect((err.response as { body: unknown }).body).to.deep.equal({
        errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to', help: null }],
      });
    });

    it('hangs until the client gives up, and still closes at once', async () => {
      fake.inject('hang');
      const err = await rejection(sendgridSdk(fake, { timeoutMs: 100 }).send(mail));
      expect(err.code).to.equal('ECONNABORTED');
      expect(fake.requests[0]!.outcome).to.equal('hang');
    });

    it('signs event webhooks that @sendgrid/eventwebhook verifies', () => {
      const signer = createSendgridWebhookSigner();
      const payload = JSON.stringify([{ event: 'delivered', sg_message_id: 'abc', notification_id: 'n1' }]);
      const headers = signer.headers(payload, 1_700_000_000);
      const ew = new EventWebhook();
      const key = ew.convertPublicKeyToECDSA(signer.publicKeyBase64Der);
      expect(
        ew.verifySignature(key, payload, headers['X-Twilio-Email-Event-Webhook-Signature']!, '1700000000'),
      ).to.equal(true);
      expect(
        ew.verifySignature(key, payload + ' ', headers['X-Twilio-Email-Event-Webhook-Signature']!, '1700000000'),
      ).to.equal(false);
    });
  });

  describe('startFakeTwilio', () => {
    let fake: FakeTwilio;
    beforeEach(async () => (fake = await startFakeTwilio()));
    afterEach(() => fake.close());

    function client(authToken = fake.authToken, accountSid = fake.accountSid): ReturnType<typeof twilio> {
      const base = new twilio.RequestClient();
      const httpClient = {
        request: (o: Parameters<typeof base.request>[0]) =>
          base.request({ ...o, uri: o.uri.replace(/^https:\/\/api\.twilio\.com/, fake.url) }),
      };
      return twilio(accountSid, authToken, { httpClient: httpClient as unknown as typeof base });
    }

    it('queues a message sent by the twilio SDK and records its form', async () => {
      const msg = await client().messages.create({
        to: '+15551230042',
        from: '+15550001111',
        body: 'Hello',
        statusCallback: 'http://127.0.0.1:1/cb',
      });
      expect(msg.sid).to.match(/^SM[0-9a-f]{32}$/);
      expect(msg.status).to.equal('queued');
      expect(msg.accountSid).to.equal(fake.accountSid);
      expect(fake.messages[0]!.form).to.include({
        To: '+15551230042',
        From: '+15550001111',
        Body: 'Hello',
        StatusCallback: 'http://127.0.0.1:1/cb',
      });
      const fetched = await client().messages(msg.sid).fetch();
      expect(fetched.body).to.equal('Hello');
    });

    it('refuses a To ending 0000 with 21211 and one ending 0001 with 21610', async () => {
      const invalid = await rejection(
        client().messages.create({ to: 'whatsapp:+15551230000', from: 'whatsapp:+15550001111', body: 'x' }),
      );
      expect(invalid).to.include({ status: 400, code: 21211 });
      const unsubscribed = await rejection(
        client().messages.create({ to: '+15551230001', from: '+15550001111', body: 'x' }),
      );
      expect(unsubscribed).to.include({ status: 400, code: 21610 });
      expect(fake.messages).to.have.length(0);
    });

    it('answers an account fetch with the account, and 401 with code 20003 to a wrong token', async () => {
      const account = await client().api.v2010.accounts(fake.accountSid).fetch();
      expect(account).to.include({ sid: fake.accountSid, status: 'active' });
      const err = await rejection(client('0'.repeat(32)).api.v2010.accounts(fake.accountSid).fetch());
      expect(err).to.include({ status: 401, code: 20003 });
    });

    it('answers 401 with code 20003 to a wrong token', async () => {
      const err = await rejection(
        client('0'.repeat(32)).messages.create({ to: '+15551230042', from: '+15550001111', body: 'x' }),
      );
      expect(err).to.include({ status: 401, code: 20003 });
    });

    it('injects a 429 with Retry-After and a 500', async () => {
      fake.inject({ status: 429, retryAfterSeconds: 3 });
      fake.inject(500);
      expect(
        await rejection(client().messages.create({ to: '+15551230042', from: '+15550001111', body: 'x' })),
      ).to.include({ status: 429, code: 20429 });
      expect(
        await rejection(client().messages.create({ to: '+15551230042', from: '+15550001111', body: 'x' })),
      ).to.include({ status: 500 });
      expect(fake.requests.map((r) => r.outcome)).to.deep.equal([429, 500]);
    });

    it("takes further accounts, each with its own token, and injects a fault for one account's requests alone", async () => {
      const other = fake.addAccount();
      const send = (c: ReturnType<typeof twilio>) =>
        c.messages.create({ to: '+15551230042', from: '+15550001111', body: 'x' });
      const err = await rejection(send(client(fake.authToken, other.accountSid)));
      expect(err).to.include({ status: 401, code: 20003 });
      fake.inject({ status: 429, retryAfterSeconds: 2 }, 1, other.accountSid);
      expect((await send(client())).accountSid).to.equal(fake.accountSid);
      expect(await rejection(send(client(other.authToken, other.accountSid)))).to.include({ status: 429 });
      expect((await send(client(other.authToken, other.accountSid))).accountSid).to.equal(other.accountSid);
      expect(fake.requests.map((r) => r.outcome)).to.deep.equal([401, 201, 429, 201]);
    });

    it('signs status callbacks as the twilio SDK expects', async () => {
      const { received, receiver, url: callbackUrl } = await twilioCallbackReceiver('/webhooks/twilio/status?x=1');
      try {
        const msg = await client().messages.create({
          to: '+15551230042',
          from: '+15550001111',
          body: 'x',
          statusCallback: callbackUrl,
        });
        const res = await fake.deliver(msg.sid, 'delivered');
        expect(res?.status).to.equal(200);
        const cb = received[0]!;
        expect(cb.params).to.include({ MessageSid: msg.sid, MessageStatus: 'delivered', AccountSid: fake.accountSid });
        expect(twilio.validateRequest(fake.authToken, cb.signature, callbackUrl, cb.params)).to.equal(true);
        expect(twilioSignature(fake.authToken, callbackUrl, cb.params)).to.equal(
          twilio.getExpectedTwilioSignature(fake.authToken, callbackUrl, cb.params),
        );
      } finally {
        await new Promise((r) => receiver.close(r));
      }
    });
    describe('what issue 11 added', () => {
      const send = (to: string, body = 'x', from = '+15550001111') => client().messages.create({ to, from, body });

      it('refuses a To ending 0002 with 21614, and a WhatsApp To ending 6301 with 63016 (an SMS one goes)', async () => {
        expect(await rejection(send('+15551230002'))).to.include({ status: 400, code: 21614 });
        expect(await rejection(send('whatsapp:+15551236301', 'x', 'whatsapp:+15550001111'))).to.include({
          status: 400,
          code: 63016,
        });
        await send('+15551236301');
        expect(fake.messages).to.have.length(1);
      });

      it('counts num_segments as carriers do, and one for any WhatsApp message', async () => {
        expect((await send('+15551230042', 'a'.repeat(160))).numSegments).to.equal('1');
        expect((await send('+15551230042', 'a'.repeat(161))).numSegments).to.equal('2');
        expect((await send('+15551230042', 'ç'.repeat(71))).numSegments).to.equal('2');
        expect((await send('whatsapp:+15551230042', 'ç'.repeat(500), 'whatsapp:+1555')).numSegments).to.equal('1');
      });

      it('applies the fault plan to WhatsApp sends: status with Retry-After, hang, reset', async () => {
        fake.inject({ status: 503, retryAfterSeconds: 9 });
        fake.inject('reset');
        const wa = () => send('whatsapp:+15551230042', 'x', 'whatsapp:+15550001111');
        expect(await rejection(wa())).to.include({ status: 503 });
        expect((await rejection(wa())).code).to.equal('ECONNRESET');
        expect(fake.requests.map((r) => r.outcome)).to.deep.equal([503, 'reset']);
      });

      it('posts a signed WhatsApp `read` callback, and refuses `read` for an SMS', async () => {
        const { received, receiver, url } = await twilioCallbackReceiver('/webhooks/twilio/status?n=1');
        try {
          const wa = await client().messages.create({
            to: 'whatsapp:+15551230042',
            from: 'whatsapp:+15550001111',
            body: 'x',
            statusCallback: url,
          });
          await fake.deliver(wa.sid, 'read');
          expect(received[0]!.params).to.include({ MessageStatus: 'read', ChannelPrefix: 'whatsapp' });
          expect(twilio.validateRequest(fake.authToken, received[0]!.signature, url, received[0]!.params)).to.equal(
            true,
          );
          const sms = await send('+15551230042');
          expect(await rejection(fake.deliver(sms.sid, 'read'))).to.match(/no read status/);

          await fake.inbound(url, '+15551230042', '+15550001111', 'STOP please.');
          const inbound = received[1]!;
          expect(inbound.params).to.include({ Body: 'STOP please.', From: '+15551230042', SmsStatus: 'received' });
          expect(twilio.validateRequest(fake.authToken, inbound.signature, url, inbound.params)).to.equal(true);
        } finally {
          await new Promise((r) => receiver.close(r));
        }
      });
    });
  });

  describe('startFakeStripe', () => {
    let fake: FakeStripe;
    let stripe: Stripe;
    beforeEach(async () => {
      fake = await startFakeStripe();
      stripe = new Stripe(fake.secretKey, {
        host: fake.host,
        port: fake.port,
        protocol: fake.protocol,
        maxNetworkRetries: 0,
      });
    });
    afterEach(() => fake.close());

    const params: Stripe.Checkout.SessionCreateParams = {
      mode: 'payment',
      success_url: 'http://127.0.0.1/ok',
      cancel_url: 'http://127.0.0.1/cancel',
      metadata: { payment_id: 'p1', workspace_id: 'w1' },
      line_items: [
        { quantity: 2, price_data: { currency: 'eur', unit_amount: 1250, product_data: { name: 'Invoice 7' } } },
      ],
    };

    it('creates a session once per idempotency key, with its metadata and amount', async () => {
      const a = await stripe.checkout.sessions.create(params, { idempotencyKey: 'pay-p1-1' });
      const b = await stripe.checkout.sessions.create(params, { idempotencyKey: 'pay-p1-1' });
      expect(b.id).to.equal(a.id);
      expect(fake.creates).to.have.length(1);
      expect(a.metadata).to.deep.equal({ payment_id: 'p1', workspace_id: 'w1' });
      expect(a.amount_total).to.equal(2500);
      expect(a.currency).to.equal('eur');
      expect(a.url).to.contain(fake.url);
      const c = await stripe.checkout.sessions.create(params, { idempotencyKey: 'pay-p1-2' });
      expect(c.id).to.not.equal(a.id);
    });

    it('retrieves and expires a session', async () => {
      const s = await stripe.checkout.sessions.create(params);
      expect((await stripe.checkout.sessions.retrieve(s.id)).status).to.equal('open');
      expect((await stripe.checkout.sessions.expire(s.id)).status).to.equal('expired');
      expect((await stripe.checkout.sessions.retrieve(s.id)).status).to.equal('expired');
      const missing = await rejection(stripe.checkout.sessions.retrieve('cs_test_nope'));
      expect(missing.statusCode).to.equal(404);
    });

    it('refuses another key and injects 429 and 500', async () => {
      const other = new Stripe('sk_test_other', {
        host: fake.host,
        port: fake.port,
        protocol: fake.protocol,
        maxNetworkRetries: 0,
      });
      expect((await rejection(other.checkout.sessions.create(params))).statusCode).to.equal(401);
      fake.inject(429);
      fake.inject(500);
      expect((await rejection(stripe.checkout.sessions.create(params))).statusCode).to.equal(429);
      expect((await rejection(stripe.checkout.sessions.create(params))).statusCode).to.equal(500);
      expect(fake.creates).to.have.length(0);
    });

    it('signs webhooks that stripe.webhooks.constructEvent accepts', async () => {
      const s = await stripe.checkout.sessions.create(params);
      fake.updateSession(s.id, { status: 'complete', payment_status: 'paid' });
      const { payload, signature } = fake.signedEvent(fake.event('checkout.session.completed', s.id));
      const event = stripe.webhooks.constructEvent(payload, signature, fake.webhookSecret);
      expect(event.type).to.equal('checkout.session.completed');
      expect((event.data.object as Stripe.Checkout.Session).metadata).to.deep.equal({
        payment_id: 'p1',
        workspace_id: 'w1',
      });
      expect(() => stripe.webhooks.constructEvent(payload, signature, 'whsec_other')).to.throw();
      const t = 1_700_000_000;
      expect(signWebhook(payload, fake.webhookSecret, t)).to.equal(
        stripe.webhooks.generateTestHeaderString({ payload, secret: fake.webhookSecret, timestamp: t }),
      );
    });
  });

  describe('startFakeSlack', () => {
    let fake: FakeSlack;
    beforeEach(async () => (fake = await startFakeSlack()));
    afterEach(() => fake.close());

    const post = (url: string, body: unknown = { text: 'Happy birthday' }, signal?: AbortSignal): Promise<Response> =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal,
      });

    it('hands out Slack-shaped hook URLs and records each JSON post', async () => {
      const hook = fake.webhookUrl('acme');
      const path = new URL(hook).pathname;
      expect(path).to.match(/^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/);
      expect(path).to.match(/^\/services\/TACME\//);
      expect(fake.webhookUrl()).to.not.equal(fake.webhookUrl());
      const res = await post(hook);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('ok');
      expect(fake.requestsTo(hook)).to.have.length(1);
      expect(fake.requests[0]).to.include({ path, method: 'POST' });
      expect(fake.requests[0]!.body).to.deep.equal({ text: 'Happy birthday' });
      expect(fake.requests[0]!.headers['content-type']).to.equal('application/json');
    });

    it("answers each mode with Slack's status and body", async () => {
      const cases: Array<[number, string]> = [
        [404, 'no_service'],
        [410, 'channel_is_archived'],
        [400, 'invalid_payload'],
        [403, 'action_prohibited'],
        [500, 'internal_error'],
        [503, 'service_unavailable'],
      ];
      const hook = fake.webhookUrl();
      for (const [status, body] of cases) {
        fake.setMode(status, hook);
        const res = await post(hook);
        expect([res.status, await res.text()]).to.deep.equal([status, body]);
      }
      fake.setMode('ok', hook);
      expect((await post(hook)).status).to.equal(200);
    });

    it('queues two 429s with Retry-After for one hook, then answers ok, leaving other hooks alone', async () => {
      const hook = fake.webhookUrl();
      const other = fake.webhookUrl();
      fake.inject({ status: 429, retryAfterSeconds: 30 }, 2, hook);
      expect((await post(other)).status).to.equal(200);
      for (let i = 0; i < 2; i++) {
        const res = await post(hook);
        expect(res.status).to.equal(429);
        expect(res.headers.get('retry-after')).to.equal('30');
      }
      expect((await post(hook)).status).to.equal(200);
    });

    it('redirects with 302 to a path it records, for checking that a client does not follow', async () => {
      const hook = fake.webhookUrl();
      fake.setMode(302);
      const res = await post(hook);
      expect(res.status).to.equal(302);
      expect(res.headers.get('location')).to.equal(`${fake.url}${fake.redirectPath}`);
      expect(fake.requests.filter((r) => r.path === fake.redirectPath)).to.have.length(0);
      await fetch(res.headers.get('location')!, { method: 'POST', body: '{}' });
      expect(fake.requests.filter((r) => r.path === fake.redirectPath)).to.have.length(1);
    });

    it('refuses a post without text, as Slack does', async () => {
      const res = await post(fake.webhookUrl(), { username: 'x' });
      expect([res.status, await res.text()]).to.deep.equal([400, 'no_text']);
    });

    it('hangs without answering, and close() ends the hanging connection', async () => {
      fake.setMode('hang');
      const err = await rejection(post(fake.webhookUrl(), undefined, AbortSignal.timeout(100)));
      expect(err.name).to.equal('TimeoutError');
      expect(fake.requests[0]!.outcome).to.equal('hang');
      const started = Date.now();
      await fake.close();
      expect(Date.now() - started).to.be.below(1000);
    });
  });

  describe('startFakeSmtp', () => {
    let fake: FakeSmtp;
    beforeEach(async () => (fake = await startFakeSmtp()));
    afterEach(() => fake.close());

    it('receives a message from nodemailer with its envelope and raw text', async () => {
      const transport = nodemailer.createTransport(fake.url);
      const info = (await transport.sendMail({
        from: 'noreply@nudge.test',
        to: 'ada@example.com',
        subject: 'Reset your password',
        text: 'Open the link',
      })) as { messageId: string };
      expect(fake.messages).to.have.length(1);
      const m = fake.messages[0]!;
      expect(m).to.include({ from: 'noreply@nudge.test', user: fake.user, subject: 'Reset your password' });
      expect(m.to).to.deep.equal(['ada@example.com']);
      expect(m.raw).to.contain('Open the link').and.to.contain(info.messageId);
    });

    it('refuses a wrong password and an injected 550 recipient', async () => {
      const bad = new URL(fake.url);
      bad.password = 'wrong';
      const authErr = await rejection(
        nodemailer
          .createTransport(bad.toString())
          .sendMail({ from: 'a@nudge.test', to: 'b@example.com', subject: 's', text: 't' }),
      );
      expect(authErr.code).to.equal('EAUTH');
      fake.inject({ code: 550, message: 'No such user' });
      const rcptErr = await rejection(
        nodemailer
          .createTransport(fake.url)
          .sendMail({ from: 'a@nudge.test', to: 'b@example.com', subject: 's', text: 't' }),
      );
      expect(rcptErr).to.include({ code: 'EENVELOPE', responseCode: 550 });
      expect(fake.messages).to.have.length(0);
    });
  });
});
