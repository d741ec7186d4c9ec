import { expect } from 'chai';
import { loadConfig, ConfigError, isTimezone } from '@nudge/config';
import { spawnTs } from '@nudge/testing';
import os from 'node:os';

const KEY = `v1:${Buffer.alloc(32, 7).toString('base64')}`;
const base = {
  ENV: 'development',
  JWT_SECRET: 'x'.repeat(40),
  ENCRYPTION_KEYS: KEY,
  SEARCH_HASH_KEY: 'h'.repeat(40),
};
// An empty directory, so no .env or .nudge/secrets.env of the developer's leaks into these cases.
const noFiles = os.tmpdir();

describe('packages/config', () => {
  describe('loadConfig', () => {
    it('applies the documented defaults outside production', () => {
      const c = loadConfig(base, noFiles);
      expect(c.port).to.equal(8000);
      expect(c.accessTokenTtlSeconds).to.equal(900);
      expect(c.refreshTokenTtlDays).to.equal(30);
      expect(c.rateLimits).to.deep.equal({
        loginFailures: 10,
        loginIpPerDay: 100,
        registerPerHour: 10,
        forgotPerHour: 5,
        resetPerHour: 20,
        passwordCheckFailures: 5,
        accountFailures: 20,
        accountBrakeBaseSeconds: 1,
        accountBrakeMaxSeconds: 30,
        lockoutBaseSeconds: 60,
        resetCooldownSeconds: 60,
      });
      expect(c.slackWebhookHosts).to.deep.equal(['hooks.slack.com']);
      expect(c.birthdayScanIntervalSeconds).to.equal(300);
      expect(c.reclaimAfterSeconds).to.equal(120);
      expect(c.dashboardRollupIntervalSeconds).to.equal(300);
      expect(c.workerLockSeconds).to.equal(30);
      expect(c.inviteTtlHours).to.equal(168);
      expect(c.resetPasswordUrl).to.equal('http://127.0.0.1:8000/reset-password');
      expect(c.corsOrigins).to.deep.equal([]);
      expect(c.strictValidation).to.equal(true);
      expect(c.redisPrefix).to.equal('nudge');
    });

    it("sends the payer back to the API's own pay pages by default, the success page with Stripe's session id", () => {
      const c = loadConfig({ ...base, PUBLIC_BASE_URL: 'https://api.example.com' }, noFiles);
      expect(c.stripe.successUrl).to.equal('https://api.example.com/pay/success?session_id={CHECKOUT_SESSION_ID}');
      expect(c.stripe.cancelUrl).to.equal('https://api.example.com/pay/cancel');
    });

    it("accepts Stripe's {CHECKOUT_SESSION_ID} placeholder in PAYMENT_SUCCESS_URL, and still refuses a non-URL", () => {
      const successUrl = 'https://shop.example.com/thanks?session={CHECKOUT_SESSION_ID}';
      expect(loadConfig({ ...base, PAYMENT_SUCCESS_URL: successUrl }, noFiles).stripe.successUrl).to.equal(successUrl);
      expect(() => loadConfig({ ...base, PAYMENT_SUCCESS_URL: 'not a url {CHECKOUT_SESSION_ID}' }, noFiles)).to.throw(
        ConfigError,
        /PAYMENT_SUCCESS_URL/,
      );
    });

    it('names every bad variable in one message', () => {
      try {
        loadConfig({ ...base, PORT: 'eighty', ENV: 'staging', DATABASE_URL: 'mysql://x' }, noFiles);
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        const msg = (err as Error).message;
        for (const name of ['PORT', 'ENV', 'DATABASE_URL']) expect(msg).to.contain(name);
      }
    });

    it('requires the secrets, the database, Redis and the public URL in production', () => {
      expect(() => loadConfig({ ENV: 'production' }, noFiles))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(
          /JWT_SECRET[\s\S]*ENCRYPTION_KEYS[\s\S]*SEARCH_HASH_KEY[\s\S]*DATABASE_URL[\s\S]*REDIS_URL[\s\S]*PUBLIC_BASE_URL[\s\S]*METRICS_TOKEN/,
        );
    });

    it('reads the metrics settings: no token or worker port unless set, a stuck queue after 300 s by default', () => {
      const c = loadConfig(base, noFiles);
      expect(c.metricsToken).to.equal(undefined);
      expect(c.metricsPorts).to.deep.equal({ birthdays: undefined, reminders: undefined, billing: undefined });
      expect(c.queueStuckSeconds).to.equal(300);
      const set = loadConfig(
        {
          ...base,
          METRICS_TOKEN: 'made-up-metrics-token',
          METRICS_PORT_BIRTHDAYS: '9101',
          METRICS_PORT_REMINDERS: '9102',
          METRICS_PORT_BILLING: '9103',
          QUEUE_STUCK_SECONDS: '60',
        },
        noFiles,
      );
      expect(set.metricsToken).to.equal('made-up-metrics-token');
      expect(set.metricsPorts).to.deep.equal({ birthdays: 9101, reminders: 9102, billing: 9103 });
      expect(set.queueStuckSeconds).to.equal(60);
      expect(() => loadConfig({ ...base, METRICS_PORT_BILLING: '70000' }, noFiles)).to.throw(/METRICS_PORT_BILLING/);
    });

    it('refuses in production SMS and WhatsApp without platform Twilio credentials while platform credentials are on', () => {
      const prod = {
        ...base,
        ENV: 'production',
        DATABASE_URL: 'postgres://h/db',
        REDIS_URL: 'redis://h',
        PUBLIC_BASE_URL: 'https://n.example',
        METRICS_TOKEN: 'made-up-metrics-token',
      };
      expect(() => loadConfig(prod, noFiles)).to.throw(ConfigError, /SMS has no platform credentials[\s\S]*WhatsApp/);
      const twilio = {
        TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'b'.repeat(32),
        TWILIO_SMS_FROM: '+15550001111',
      };
      expect(() => loadConfig({ ...prod, ...twilio }, noFiles)).to.throw(ConfigError, /WhatsApp has no platform/);
      expect(loadConfig({ ...prod, ...twilio, TWILIO_WHATSAPP_FROM: '+15550002222' }, noFiles).twilio.smsFrom).to.equal(
        '+15550001111',
      );
      expect(loadConfig({ ...prod, USE_PLATFORM_CREDENTIALS: 'false' }, noFiles).usePlatformCredentials).to.equal(
        false,
      );
    });

    it("reads each dispatch queue's concurrency and rate, and the tries per job", () => {
      expect(loadConfig(base, noFiles).dispatch).to.deep.include({
        maxAttempts: 5,
        sms: { concurrency: 10, ratePerSecond: 0 },
      });
      const c = loadConfig(
        { ...base, DISPATCH_SMS_CONCURRENCY: '3', DISPATCH_SMS_RATE_PER_SECOND: '30', DISPATCH_MAX_ATTEMPTS: '2' },
        noFiles,
      );
      expect(c.dispatch.sms).to.deep.equal({ concurrency: 3, ratePerSecond: 30 });
      expect(c.dispatch.email).to.deep.equal({ concurrency: 10, ratePerSecond: 0 });
      expect(c.dispatch.maxAttempts).to.equal(2);
    });

    it('reads the dispatch backoff and the email timeout, which the fault suite shortens', () => {
      const defaults = loadConfig(base, noFiles);
      expect([defaults.dispatch.backoffBaseMs, defaults.emailTimeoutMs]).to.deep.equal([1000, 10000]);
      const c = loadConfig({ ...base, DISPATCH_BACKOFF_BASE_MS: '50', EMAIL_TIMEOUT_MS: '800' }, noFiles);
      expect([c.dispatch.backoffBaseMs, c.emailTimeoutMs]).to.deep.equal([50, 800]);
    });

    it('refuses in production a bcrypt cost below 10 and a public or reset URL that is not https', () => {
      const prod = {
        ...base,
        ENV: 'production',
        DATABASE_URL: 'postgres://h/db',
        REDIS_URL: 'redis://h',
        PUBLIC_BASE_URL: 'https://n.example',
        USE_PLATFORM_CREDENTIALS: 'false',
        METRICS_TOKEN: 'made-up-metrics-token',
      };
      expect(loadConfig(prod, noFiles).bcryptCost).to.equal(12);
      expect(() => loadConfig({ ...prod, BCRYPT_COST: '9' }, noFiles)).to.throw(ConfigError, /BCRYPT_COST/);
      expect(() => loadConfig({ ...prod, PUBLIC_BASE_URL: 'http://n.example' }, noFiles)).to.throw(
        ConfigError,
        /PUBLIC_BASE_URL/,
      );
      expect(() => loadConfig({ ...prod, RESET_PASSWORD_URL: 'http://n.example/reset' }, noFiles)).to.throw(
        ConfigError,
        /RESET_PASSWORD_URL/,
      );
      // Outside production the same values are fine: local demos run on plain http with a cheap hash.
      expect(
        loadConfig({ ...base, BCRYPT_COST: '4', PUBLIC_BASE_URL: 'http://127.0.0.1:8000' }, noFiles).bcryptCost,
      ).to.equal(4);
    });

    it('refuses a missing or short search-hash key, even outside production', () => {
      expect(() => loadConfig({ ...base, SEARCH_HASH_KEY: undefined }, noFiles)).to.throw(/SEARCH_HASH_KEY/);
      expect(() => loadConfig({ ...base, SEARCH_HASH_KEY: 'short' }, noFiles)).to.throw(/SEARCH_HASH_KEY/);
      expect(loadConfig(base, noFiles).searchHashKey).to.equal('h'.repeat(40));
    });

    it('refuses a JWT secret shorter than 32 characters', () => {
      expect(() => loadConfig({ ...base, JWT_SECRET: 'short' }, noFiles)).to.throw(/JWT_SECRET/);
    });

    it('refuses * in CORS_ORIGINS', () => {
      expect(() => loadConfig({ ...base, CORS_ORIGINS: 'https://a.example,*' }, noFiles)).to.throw(/CORS_ORIGINS/);
    });

    it('reads booleans as true/false/1/0/yes/no in any case', () => {
      for (const [raw, want] of [
        ['yes', true],
        ['No', false],
        ['1', true],
        ['0', false],
        ['TRUE', true],
        ['false', false],
      ] as const) {
        expect(loadConfig({ ...base, USE_PLATFORM_CREDENTIALS: raw }, noFiles).usePlatformCredentials, raw).to.equal(
          want,
        );
      }
    });

    it('checks credential formats strictly by default and only warns when STRICT_VALIDATION is off', () => {
      const bad = { TWILIO_ACCOUNT_SID: 'nope', STRIPE_SECRET_KEY: 'pk_test_1', SENDGRID_API_KEY: 'key' };
      expect(() => loadConfig({ ...base, ...bad }, noFiles)).to.throw(
        /TWILIO_ACCOUNT_SID[\s\S]*SENDGRID_API_KEY|SENDGRID_API_KEY[\s\S]*TWILIO_ACCOUNT_SID/,
      );
      const relaxed = loadConfig({ ...base, ...bad, STRICT_VALIDATION: 'false' }, noFiles);
      expect(relaxed.warnings.join('\n')).to.contain('TWILIO_ACCOUNT_SID').and.contain('STRIPE_SECRET_KEY');
      expect(() =>
        loadConfig(
          {
            ...base,
            ...bad,
            STRICT_VALIDATION: 'false',
            ENV: 'production',
            DATABASE_URL: 'postgres://h/db',
            REDIS_URL: 'redis://h',
            PUBLIC_BASE_URL: 'https://n.example',
            USE_PLATFORM_CREDENTIALS: 'false',
          },
          noFiles,
        ),
      ).to.throw(/TWILIO_ACCOUNT_SID/);
    });

    it('reads the encryption key ring and its active version', () => {
      const k2 = Buffer.alloc(32, 9).toString('base64');
      const c = loadConfig({ ...base, ENCRYPTION_KEYS: `${KEY},v2:${k2}`, ENCRYPTION_ACTIVE_KEY: 'v2' }, noFiles);
      expect([...c.encryption.keys.keys()]).to.deep.equal(['v1', 'v2']);
      expect(c.encryption.activeKey).to.equal('v2');
      expect(() => loadConfig({ ...base, ENCRYPTION_ACTIVE_KEY: 'v3' }, noFiles)).to.throw(/ENCRYPTION_ACTIVE_KEY/);
    });

    it('ignores NODE_ENV: only ENV chooses the environment', () => {
      expect(loadConfig({ ...base, ENV: undefined, NODE_ENV: 'production' }, noFiles).env).to.equal('development');
    });
  });

  describe('timezones', () => {
    it('accepts names by exact case only', () => {
      expect(isTimezone('UTC')).to.equal(true);
      expect(isTimezone('Asia/Kolkata')).to.equal(true);
      expect(isTimezone('utc')).to.equal(false);
      expect(isTimezone('america/new_york')).to.equal(false);
    });
  });

  describe('a process started with three bad variables', () => {
    it('exits non-zero with one message naming all three', async function () {
      this.timeout(30_000);
      const p = spawnTs('apps/api/src/main.ts', {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...base,
        PORT: 'not-a-port',
        LOG_LEVEL: 'loud',
        REDIS_URL: 'http://nope',
      });
      const code = await p.exited;
      expect(code).to.not.equal(0);
      const out = p.output();
      expect(out.match(/Invalid configuration/g)).to.have.length(1);
      for (const name of ['PORT', 'LOG_LEVEL', 'REDIS_URL']) expect(out).to.contain(name);
    });
  });
});
