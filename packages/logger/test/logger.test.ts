import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnTs, waitFor } from '@nudge/testing';
import { getConfig } from '@nudge/config';
import { createLogger, redact, redactString } from '@nudge/logger';

const SECRETS = {
  bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl',
  password: 'Hunter2-very-secret-pw',
  refresh: 'rtok_9f8e7d6c5b4a39281706',
  webhook: 'https://hooks.slack.com/services/T0SECRET1/B0SECRET2/abcdefSECRETxyz',
  phone: '+15558675309',
  apiKey: 'SG.SECRETkey123.abcdefghijklmnop',
};

describe('packages/logger', () => {
  describe('redact', () => {
    it('replaces sensitive fields and the secrets inside strings', () => {
      const out = redact({
        headers: { authorization: `Bearer ${SECRETS.bearer}` },
        body: { user: { password: SECRETS.password, note: `call ${SECRETS.phone}` } },
        message: `posting to ${SECRETS.webhook}`,
      });
      const text = JSON.stringify(out);
      for (const v of Object.values(SECRETS)) expect(text).to.not.contain(v);
    });

    // What must vanish from any log line, and what must survive it so lines can still be correlated. Every secret
    // here is a made-up value of the provider's shape: none was ever issued.
    const MUST_VANISH: [string, string][] = [
      ['an access JWT', 'eyJGAKEheader.eyJGAKEpayload.FAKE-signature-for-tests'],
      ['a bcrypt $2a$ hash', '$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW'],
      ['a bcrypt $2b$ hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
      ['a bcrypt $2y$ hash', '$2y$04$abcdefghijklmnopqrstuuJ2Nc1y0m9Wq8bT9x3u5n0v7Fk1Qe6Zy'],
      ['a SendGrid API key', 'SG.FAKE-test-key.not-a-real-sendgrid-secret'],
      ['a Stripe secret key', 'sk_test_FAKEnotarealstripekey'],
      ['a Stripe restricted key', 'rk_live_FAKEnotarealstripekey'],
      ['a Stripe webhook secret', 'whsec_FAKEnotarealsigningsecret'],
      ['a Slack webhook URL', 'https://hooks.slack.com/services/TFAKE/BFAKE/not-a-real-token'],
      ['SMTP credentials in a URL', 'smtp://mailer:s3cretPassw0rd@smtp.example.com:587'],
      ['a card number', '4242424242424242'],
      ['a card number in groups', '4000 0566 5566 5556'],
      ['a phone number', '+447700900123'],
    ];
    const MUST_STAY: [string, string][] = [
      ['a UUID', '803dc90c-abdd-4ac4-ae46-123456789012'],
      ['a UUID whose last group ends in letters', '803dc90c-abdd-4ac4-ae46-1234567890f6'],
      ['a request id', 'req-20261201-4f1c2a9b7d3e'],
      ['a Stripe Checkout Session id', 'cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ0123456789'],
      ['a Stripe event id', 'evt_1NG8Du2eZvKYlo2CUI79vXWy'],
      ['a Twilio message SID', 'SM1234567890abcdef1234567890abcdef'],
      ['a Twilio account SID', 'AC0123456789abcdef0123456789abcdef'],
      ['a job id', 'f47ac10b-58cc-4372-a567-0e02b2c3d479-2'],
    ];

    for (const [what, secret] of MUST_VANISH) {
      it(`removes ${what} from a message and from a nested field`, () => {
        expect(redactString(`failed with ${secret} while saving`)).to.not.contain(secret);
        expect(JSON.stringify(redact({ detail: { note: `value ${secret}` } }))).to.not.contain(secret);
      });
    }

    for (const [what, id] of MUST_STAY) {
      it(`keeps ${what} intact`, () => {
        expect(redactString(`req=${id} done`)).to.equal(`req=${id} done`);
        expect(redact({ requestId: id, jobId: id, id })).to.deep.equal({ requestId: id, jobId: id, id });
      });
    }

    it('redacts key=value and "key": "value" pairs inside messages', () => {
      expect(redactString(`reset?token=${SECRETS.refresh}&x=1`)).to.not.contain(SECRETS.refresh);
      expect(redactString(`{"password": "${SECRETS.password}"}`)).to.not.contain(SECRETS.password);
    });
  });

  describe('createLogger', () => {
    // A field that counts how often the logger's formats (redaction walks every field) read it.
    const watched = () => {
      const seen = { reads: 0 };
      const meta = {
        detail: {
          get note() {
            seen.reads += 1;
            return 'x';
          },
        },
      };
      return { seen, meta };
    };

    it('does not format a line below its level: a debug line at level warn is never redacted', () => {
      const logger = createLogger('test', { ...getConfig(), logLevel: 'warn' });
      const below = watched();
      logger.debug('request detail', below.meta);
      const at = watched();
      logger.warn('something odd', at.meta);
      logger.close();
      expect(below.seen.reads).to.equal(0);
      expect(at.seen.reads).to.be.greaterThan(0);
    });
  });

  describe('a real request to the API', () => {
    it('logs the request id and leaves no secret in the console output or the log file', async function () {
      this.timeout(30_000);
      const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-log-'));
      const port = await freePort();
      const api = spawnTs('apps/api/src/main.ts', {
        ...process.env,
        PORT: String(port),
        LOG_LEVEL: 'debug',
        LOG_DIR: logDir,
      });
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitFor(async () => (await fetch(`${base}/health`)).ok, { timeoutMs: 20_000, what: 'the API' });
        // Headers, a nested body, and a malformed body whose parse error quotes the secrets back.
        const headers = {
          authorization: `Bearer ${SECRETS.bearer}`,
          'x-api-key': SECRETS.apiKey,
          'content-type': 'application/json',
          'x-request-id': 'redaction-test-1',
        };
        const nested = {
          user: { password: SECRETS.password, contact: { phone: SECRETS.phone } },
          refresh_token: SECRETS.refresh,
          workspace: { slack_webhook: SECRETS.webhook },
        };
        await fetch(`${base}/auth/jwt/login`, { method: 'POST', headers, body: JSON.stringify(nested) });
        const malformed = `{"password": "${SECRETS.password}", "phone": "${SECRETS.phone}", "hook": "${SECRETS.webhook}", "token": "${SECRETS.refresh}" x`;
        const bad = await fetch(`${base}/auth/jwt/login`, {
          method: 'POST',
          headers: { ...headers, 'x-request-id': 'redaction-test-2' },
          body: malformed,
        });
        expect(bad.status).to.equal(400);
        const file = await waitFor(
          () => fs.readdirSync(logDir).find((f) => /^nudge_web_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.log$/.test(f)),
          { what: 'the log file' },
        );
        const fileText = await waitFor(
          () => {
            const t = fs.readFileSync(path.join(logDir, file), 'utf8');
            return t.includes('redaction-test-2') && t.includes('MALFORMED_JSON') ? t : undefined;
          },
          { what: 'the request lines in the log file' },
        );
        const console = api.output();
        expect(console).to.contain('redaction-test-1');
        // The request detail line really carries the headers and body, only redacted.
        expect(fileText).to.contain('"requestId":"redaction-test-1"').and.contain('[REDACTED]');
        for (const [name, value] of Object.entries(SECRETS)) {
          expect(console, `${name} in console`).to.not.contain(value);
          expect(fileText, `${name} in file`).to.not.contain(value);
        }
      } finally {
        api.child.kill('SIGTERM');
        await api.exited;
      }
    });
  });
});
