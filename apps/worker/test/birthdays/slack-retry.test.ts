import { expect } from 'chai';
import { DEFAULT_SLACK_RETRY, slackJobOptions, slackRetryDelay, SLACK_BACKOFF_TYPE } from '../../src/birthdays/slack-retry';

describe('Slack retry policy', () => {
  it('defaults to 5 attempts, 1 s doubling, ±50% jitter, a 5 minute cap and a 15 minute Retry-After limit', () => {
    expect(DEFAULT_SLACK_RETRY).to.deep.equal({ attempts: 5, baseDelayMs: 1000, jitter: 0.5, maxDelayMs: 300_000, maxRetryAfterMs: 900_000 });
    expect(slackJobOptions('n1')).to.deep.equal({ jobId: 'n1', attempts: 5, backoff: { type: SLACK_BACKOFF_TYPE } });
  });

  it('doubles from the base delay, with jitter spanning ±50%', () => {
    const low = () => 0;
    const high = () => 1;
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => slackRetryDelay(n, new Error('x'), DEFAULT_SLACK_RETRY, mid))).to.deep.equal([1000, 2000, 4000, 8000]);
    expect(slackRetryDelay(1, new Error('x'), DEFAULT_SLACK_RETRY, low)).to.equal(500);
    expect(slackRetryDelay(1, new Error('x'), DEFAULT_SLACK_RETRY, high)).to.equal(1500);
  });

  it('caps the delay at five minutes', () => {
    expect(slackRetryDelay(12, new Error('x'), DEFAULT_SLACK_RETRY, () => 1)).to.equal(300_000);
  });

  it('waits exactly what Retry-After asks', () => {
    const err = Object.assign(new Error('429'), { retryAfterMs: 7000 });
    expect(slackRetryDelay(1, err, DEFAULT_SLACK_RETRY, () => 0)).to.equal(7000);
    expect(slackRetryDelay(4, err, DEFAULT_SLACK_RETRY, () => 1)).to.equal(7000);
  });
});
