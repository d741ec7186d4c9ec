import { expect } from 'chai';
import { PermanentProviderError, TransientProviderError } from '@nudge/channels';
import {
  backoffStrategy,
  DEFAULT_RETRY_POLICY,
  dispatchJobOptions,
  DISPATCH_BACKOFF_TYPE,
  retryDelay,
  retryVerdict,
} from '../../src/dispatch/retry-policy';

const transient = (retryAfterMs?: number) =>
  new TransientProviderError('busy', {
    provider: 'sandbox',
    code: retryAfterMs === undefined ? 'provider_unavailable' : 'rate_limited',
    status: retryAfterMs === undefined ? 503 : 429,
    retryAfterMs,
  });
const permanent = () =>
  new PermanentProviderError('refused', { provider: 'sandbox', code: 'invalid_recipient', status: 400 });

describe('the dispatch retry policy', () => {
  it('defaults to 5 attempts, 1 s doubling, ±50% jitter, a 5 minute cap and a 15 minute Retry-After limit', () => {
    expect(DEFAULT_RETRY_POLICY).to.deep.equal({
      attempts: 5,
      baseDelayMs: 1000,
      jitter: 0.5,
      maxDelayMs: 300_000,
      maxRetryAfterMs: 900_000,
    });
    expect(dispatchJobOptions('n1')).to.deep.equal({
      jobId: 'n1',
      attempts: 5,
      backoff: { type: DISPATCH_BACKOFF_TYPE },
    });
  });

  it('doubles from the base delay, with jitter spanning ±50%', () => {
    const low = () => 0;
    const high = () => 1;
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => retryDelay(n, transient(), DEFAULT_RETRY_POLICY, mid))).to.deep.equal([
      1000, 2000, 4000, 8000,
    ]);
    expect(retryDelay(1, transient(), DEFAULT_RETRY_POLICY, low)).to.equal(500);
    expect(retryDelay(1, transient(), DEFAULT_RETRY_POLICY, high)).to.equal(1500);
  });

  it('keeps every jittered delay within ±50% of its doubling, and varies it', () => {
    for (const n of [1, 2, 3, 4]) {
      const nominal = 1000 * 2 ** (n - 1);
      const delays = Array.from({ length: 200 }, () => retryDelay(n, transient()));
      for (const d of delays) expect(d).to.be.within(nominal * 0.5, nominal * 1.5);
      expect(new Set(delays).size).to.be.greaterThan(1);
    }
  });

  it('caps the delay at five minutes', () => {
    expect(retryDelay(12, transient(), DEFAULT_RETRY_POLICY, () => 1)).to.equal(300_000);
    expect(retryDelay(40, transient(), { ...DEFAULT_RETRY_POLICY, maxDelayMs: 200 }, () => 1)).to.equal(200);
  });

  it('waits exactly what Retry-After asks, whatever the attempt', () => {
    expect(retryDelay(1, transient(7000), DEFAULT_RETRY_POLICY, () => 0)).to.equal(7000);
    expect(retryDelay(4, transient(7000), DEFAULT_RETRY_POLICY, () => 1)).to.equal(7000);
  });

  it('gives BullMQ the same delays through the worker backoffStrategy', () => {
    const strategy = backoffStrategy({ ...DEFAULT_RETRY_POLICY, jitter: 0 });
    expect(strategy(3, DISPATCH_BACKOFF_TYPE, transient())).to.equal(4000);
    expect(strategy(3, DISPATCH_BACKOFF_TYPE, transient(2500))).to.equal(2500);
  });

  describe('retryVerdict', () => {
    it('retries a transient error before the last try', () => {
      expect(retryVerdict(transient(), 1, 5)).to.deep.equal({ retry: true });
      expect(retryVerdict(transient(60_000), 4, 5)).to.deep.equal({ retry: true });
    });

    it('asks for no delay after the last try: the send fails instead', () => {
      expect(retryVerdict(transient(), 5, 5)).to.deep.equal({
        retry: false,
        reason: 'provider_unavailable',
        permanent: false,
      });
      expect(retryVerdict(transient(), 1, 1)).to.deep.equal({
        retry: false,
        reason: 'provider_unavailable',
        permanent: false,
      });
    });

    it('never retries a permanent error', () => {
      expect(retryVerdict(permanent(), 1, 5)).to.deep.equal({
        retry: false,
        reason: 'invalid_recipient',
        permanent: true,
      });
    });

    it('fails at once when Retry-After asks for more than the limit', () => {
      expect(retryVerdict(transient(901_000), 1, 5)).to.deep.equal({
        retry: false,
        reason: 'rate_limited: Retry-After 901 s is over the 900 s limit',
        permanent: false,
      });
      expect(retryVerdict(transient(900_000), 1, 5)).to.deep.equal({ retry: true });
    });
  });
});
