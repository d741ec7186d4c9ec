import { expect } from 'chai';
import {
  lastErrorOf,
  PermanentProviderError,
  TransientProviderError,
  parseRetryAfter,
  providerErrorFromStatus,
  scrub,
} from '@nudge/channels';

describe('provider errors', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).to.equal(3000);
    expect(parseRetryAfter(['2'], now)).to.equal(2000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).to.equal(5000);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
  });

  it('classes 429, 408 and 5xx as transient and other statuses as permanent', () => {
    expect(providerErrorFromStatus('slack', 429, { retryAfter: '1' }))
      .to.be.instanceOf(TransientProviderError)
      .and.include({ retryAfterMs: 1000, code: 'rate_limited' });
    expect(providerErrorFromStatus('slack', 408)).to.be.instanceOf(TransientProviderError);
    expect(providerErrorFromStatus('slack', 502)).to.be.instanceOf(TransientProviderError);
    expect(providerErrorFromStatus('slack', 403))
      .to.be.instanceOf(PermanentProviderError)
      .and.include({ code: 'auth_failed' });
    expect(providerErrorFromStatus('slack', 410, { code: 'channel_archived' }))
      .to.be.instanceOf(PermanentProviderError)
      .and.include({ code: 'channel_archived' });
  });

  it('scrubs addresses, phone numbers and given secrets from provider texts', () => {
    expect(scrub('bad <ada@example.com> and +1 555 123 4567, key SG.abc.def', ['SG.abc.def'])).to.equal(
      'bad <[address]> and [number], key [redacted]',
    );
  });

  it('marks invalid_recipient undeliverable by default, and nothing else unless told', () => {
    const details = { provider: 'twilio' as const };
    expect(new PermanentProviderError('x', { ...details, code: 'invalid_recipient' }).undeliverable).to.equal(true);
    expect(new PermanentProviderError('x', { ...details, code: 'recipient_opted_out' }).undeliverable).to.equal(false);
    expect(
      new PermanentProviderError('x', { ...details, code: 'rejected', undeliverable: true }).undeliverable,
    ).to.equal(true);
    expect(
      providerErrorFromStatus('sendgrid', 400, { code: 'invalid_recipient', undeliverable: false }).undeliverable,
    ).to.equal(false);
  });

  it('formats last_error as the stable code with the provider and its own code or status', () => {
    expect(
      lastErrorOf(
        new PermanentProviderError('x', {
          provider: 'twilio',
          code: 'invalid_recipient',
          status: 400,
          providerCode: 21211,
        }),
      ),
    ).to.equal('invalid_recipient (twilio 21211)');
    expect(lastErrorOf(providerErrorFromStatus('sendgrid', 503))).to.equal('provider_unavailable (sendgrid 503)');
    expect(lastErrorOf(new TransientProviderError('x', { provider: 'smtp', code: 'network' }))).to.equal(
      'network (smtp)',
    );
    expect(lastErrorOf(new Error('boom <ada@example.com>'))).to.equal('internal_error');
  });
});
