import { expect } from 'chai';
import {
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
});
