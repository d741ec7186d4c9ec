// A rate limit on one workspace's provider account holds that account alone: two workspaces send SMS through their
// own Twilio accounts on the one dispatch-sms queue, the fake answers 429 with Retry-After to the first account only,
// and the second workspace's messages go out while the first one's wait out the Retry-After.
import { expect } from 'chai';
import { getConfig } from '@nudge/config';
import { insertChannelAccount, listNotificationAttempts } from '@nudge/db';
import { jobIdFor, QUEUES } from '@nudge/queue';
import { startFakeTwilio, waitFor, type FakeTwilio, type TwilioAccount } from '@nudge/testing';
import { startReminderHarness, type ReminderHarness } from '../helpers/reminder-harness';

/** Long enough for the other workspace's sends to go out meanwhile, even on a slow machine. */
const RETRY_AFTER_SECONDS = 8;

describe("a 429 on one workspace's provider account", function () {
  this.timeout(60_000);
  let twilio: FakeTwilio;
  let h: ReminderHarness;

  before(async function () {
    this.timeout(60_000);
    twilio = await startFakeTwilio();
    h = await startReminderHarness({
      config: {
        publicBaseUrl: 'https://nudge.test',
        usePlatformCredentials: false,
        twilio: { ...getConfig().twilio, accountSid: undefined, authToken: undefined, apiUrl: twilio.url },
      },
    });
  });
  after(async () => {
    await h.close();
    await twilio.close();
  });

  /** A workspace sending SMS through its own account on the fake, from its own number. */
  const workspaceOn = async (account: TwilioAccount, from: string) => {
    const ws = await h.workspace();
    await insertChannelAccount(
      h.db,
      ws,
      { channel: 'sms', provider: 'twilio', account_sid: account.accountSid, sms_from: from, is_active: true },
      { auth_token: account.authToken },
    );
    return ws;
  };

  /** A queued SMS to a client of its own (per-client pacing has nothing to hold), and its job. */
  const send = async (workspaceId: string, phone: string) =>
    (await h.notify(['sms'], { phone }, { workspaceId, message: 'Hi' })).n;

  const to = (account: TwilioAccount) => twilio.requests.filter((r) => r.path.includes(account.accountSid));

  it("delays only that workspace's jobs: the other workspace's messages go out meanwhile", async () => {
    const limited = twilio.addAccount();
    const other = twilio.addAccount();
    const [wsLimited, wsOther] = [await workspaceOn(limited, '+15550101001'), await workspaceOn(other, '+15550101002')];
    twilio.inject({ status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS }, 1, limited.accountSid);

    const first = await send(wsLimited, '+447700910011');
    await waitFor(async () => (await listNotificationAttempts(h.db, wsLimited, first.id)).length > 0, {
      what: 'the rate-limited try',
    });
    const second = await send(wsLimited, '+447700910012');
    const others = [
      await send(wsOther, '+447700920011'),
      await send(wsOther, '+447700920012'),
      await send(wsOther, '+447700920013'),
    ];
    for (const n of others) expect((await h.settled(wsOther, n.id)).notification.status).to.equal('sent');

    // Meanwhile the limited account saw the one request it refused, and its second job waits without a try.
    expect(to(limited).map((r) => r.outcome)).to.deep.equal([429]);
    expect(to(other).map((r) => r.outcome)).to.deep.equal([201, 201, 201]);
    expect(await listNotificationAttempts(h.db, wsLimited, second.id)).to.deep.equal([]);
    expect(await h.producers.queue(QUEUES.dispatchSms).getJobState(jobIdFor(second.id, 0))).to.equal('delayed');

    // After the Retry-After both go out, the first on its second try.
    await waitFor(() => to(limited).length === 3, { timeoutMs: 40_000, what: 'the held messages to go out' });
    const a = await h.settled(wsLimited, first.id);
    const b = await h.settled(wsLimited, second.id);
    expect(a.attempts.map((x) => [x.outcome, x.error])).to.deep.equal([
      ['retry', 'rate_limited'],
      ['sent', null],
    ]);
    expect(b.attempts.map((x) => x.outcome)).to.deep.equal(['sent']);
    expect(to(limited).map((r) => r.outcome)).to.deep.equal([429, 201, 201]);
  });
});
