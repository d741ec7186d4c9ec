import { expect } from 'chai';
import { startFakeTwilio, rejectionOf, type FakeTwilio } from '@nudge/testing';
import { PermanentProviderError, TransientProviderError, verifyTwilioAccount } from '@nudge/channels';

describe('verifyTwilioAccount', () => {
  let fake: FakeTwilio;
  beforeEach(async () => (fake = await startFakeTwilio()));
  afterEach(() => fake.close());

  it('resolves for credentials Twilio accepts, fetching the account with the SDK', async () => {
    await verifyTwilioAccount({ accountSid: fake.accountSid, authToken: fake.authToken, apiUrl: fake.url });
    expect(fake.requests.map((r) => r.path)).to.deep.equal([`/2010-04-01/Accounts/${fake.accountSid}.json`]);
  });

  it("refuses a wrong token as auth_failed with Twilio's code, never echoing the token", async () => {
    const token = '0'.repeat(32);
    const err = (await rejectionOf(
      verifyTwilioAccount({ accountSid: fake.accountSid, authToken: token, apiUrl: fake.url }),
    )) as PermanentProviderError;
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err).to.include({ code: 'auth_failed', providerCode: 20003, status: 401 });
    expect(err.message).to.not.include(token);
  });

  it('calls a 500 transient', async () => {
    fake.inject(500);
    const err = await rejectionOf(
      verifyTwilioAccount({ accountSid: fake.accountSid, authToken: fake.authToken, apiUrl: fake.url }),
    );
    expect(err).to.be.instanceOf(TransientProviderError);
  });
});
