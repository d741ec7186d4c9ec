import { expect } from 'chai';
import { rejectionOf, startFakeSlack, type FakeSlack } from '@nudge/testing';
import {
  checkSlackWebhookUrl,
  slackWebhookPolicy,
  SlackWebhookAdapter,
  type ProviderError,
  type SlackWebhookPolicy,
} from '@nudge/channels';

const testPolicy: SlackWebhookPolicy = { allowedHosts: ['hooks.slack.com', '127.0.0.1'], allowInsecureLoopback: true };

async function postError(adapter: SlackWebhookAdapter, url: string): Promise<ProviderError> {
  return (await rejectionOf(adapter.post(url, 'hello'))) as ProviderError;
}

describe('SlackWebhookAdapter', () => {
  let slack: FakeSlack;
  let adapter: SlackWebhookAdapter;
  before(async () => {
    slack = await startFakeSlack();
    adapter = new SlackWebhookAdapter({ timeoutMs: 300, policy: testPolicy });
  });
  after(() => slack.close());
  beforeEach(() => slack.reset());

  it('POSTs {"text": ...} as JSON and resolves on 200', async () => {
    const hook = slack.webhookUrl();
    const res = await adapter.post(hook, 'Happy birthday, *Ada*!');
    expect(res.status).to.equal(200);
    const [req] = slack.requestsTo(hook);
    expect(req?.method).to.equal('POST');
    expect(req?.headers['content-type']).to.match(/application\/json/);
    expect(req?.body).to.deep.equal({ text: 'Happy birthday, *Ada*!' });
  });

  it('treats a 429 as transient and carries Retry-After', async () => {
    const hook = slack.webhookUrl();
    slack.inject({ status: 429, retryAfterSeconds: 30 }, 1, hook);
    const err = await postError(adapter, hook);
    expect(err.transient).to.equal(true);
    expect(err.code).to.equal('rate_limited');
    expect(err.status).to.equal(429);
    expect(err.retryAfterMs).to.equal(30_000);
  });

  it('treats a 5xx as transient', async () => {
    const hook = slack.webhookUrl();
    slack.inject(503, 1, hook);
    const err = await postError(adapter, hook);
    expect(err.transient).to.equal(true);
    expect(err.status).to.equal(503);
  });

  for (const [status, reason] of [
    [404, 'no_service'],
    [410, 'channel_is_archived'],
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
  ] as const) {
    it(`treats a ${status} as permanent, with Slack's reason ${reason}`, async () => {
      const hook = slack.webhookUrl();
      slack.inject(status, 1, hook);
      const err = await postError(adapter, hook);
      expect(err.transient).to.equal(false);
      expect(err.code).to.equal(reason);
      expect(err.status).to.equal(status);
    });
  }

  it('does not follow a redirect: exactly one request, and redirect_not_followed', async () => {
    const hook = slack.webhookUrl();
    slack.inject(302, 1, hook);
    const err = await postError(adapter, hook);
    expect(err.transient).to.equal(false);
    expect(err.code).to.equal('redirect_not_followed');
    expect(slack.requests).to.have.length(1);
    expect(slack.requests.filter((r) => r.path === slack.redirectPath)).to.have.length(0);
  });

  it('times out on a hook that never answers, as a transient error', async () => {
    const hook = slack.webhookUrl();
    slack.inject('hang', 1, hook);
    const started = Date.now();
    const err = await postError(adapter, hook);
    expect(Date.now() - started).to.be.within(250, 3000);
    expect(err.transient).to.equal(true);
    expect(err.code).to.equal('timeout');
  });

  it('treats a refused connection as transient', async () => {
    const err = await postError(adapter, 'http://127.0.0.1:1/services/T1/B1/x');
    expect(err.transient).to.equal(true);
    expect(err.code).to.equal('network');
  });

  it('refuses a host outside SLACK_WEBHOOK_HOSTS before connecting, without naming the URL', async () => {
    const strict = new SlackWebhookAdapter({
      timeoutMs: 300,
      policy: { allowedHosts: ['hooks.slack.com'], allowInsecureLoopback: true },
    });
    const hook = slack.webhookUrl();
    const err = await postError(strict, hook);
    expect(err.transient).to.equal(false);
    expect(err.code).to.equal('host_not_allowed');
    expect(err.message).not.to.contain('/services/');
    expect(slack.requests).to.have.length(0);
  });

  describe('checkSlackWebhookUrl', () => {
    it('matches host names exactly, on any port', () => {
      expect(checkSlackWebhookUrl('https://hooks.slack.com/services/T/B/x', testPolicy)).to.equal(undefined);
      expect(checkSlackWebhookUrl('https://hooks.slack.com:8443/services/T/B/x', testPolicy)).to.equal(undefined);
      expect(checkSlackWebhookUrl('https://HOOKS.slack.com/services/T/B/x', testPolicy)).to.equal(undefined);
      expect(checkSlackWebhookUrl('https://evil.hooks.slack.com/services/T/B/x', testPolicy)).to.equal(
        'host_not_allowed',
      );
      expect(checkSlackWebhookUrl('https://hooks.slack.com.evil.example/services/T/B/x', testPolicy)).to.equal(
        'host_not_allowed',
      );
    });

    it('requires https, except http to a listed loopback host outside production', () => {
      expect(checkSlackWebhookUrl('http://hooks.slack.com/services/T/B/x', testPolicy)).to.equal('https_required');
      expect(checkSlackWebhookUrl('http://127.0.0.1:9/services/T/B/x', testPolicy)).to.equal(undefined);
      expect(
        checkSlackWebhookUrl('http://127.0.0.1:9/services/T/B/x', { ...testPolicy, allowInsecureLoopback: false }),
      ).to.equal('https_required');
    });

    it('refuses what is not an http(s) URL, and credentials in the URL', () => {
      expect(checkSlackWebhookUrl('not a url', testPolicy)).to.equal('invalid_url');
      expect(checkSlackWebhookUrl('ftp://hooks.slack.com/x', testPolicy)).to.equal('invalid_url');
      expect(checkSlackWebhookUrl('https://u:p@hooks.slack.com/services/T/B/x', testPolicy)).to.equal('invalid_url');
    });

    it('takes the allowed hosts from SLACK_WEBHOOK_HOSTS and allows loopback http only outside production', () => {
      const dev = slackWebhookPolicy({ slackWebhookHosts: ['hooks.slack.com', '127.0.0.1'], isProduction: false });
      const prod = slackWebhookPolicy({ slackWebhookHosts: ['hooks.slack.com', '127.0.0.1'], isProduction: true });
      expect(dev).to.deep.equal({ allowedHosts: ['hooks.slack.com', '127.0.0.1'], allowInsecureLoopback: true });
      expect(checkSlackWebhookUrl('http://127.0.0.1:9/services/T/B/x', prod)).to.equal('https_required');
    });
  });
});
