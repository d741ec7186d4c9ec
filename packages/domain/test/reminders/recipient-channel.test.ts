import { expect } from 'chai';
import {
  fallbackChannel,
  firstReceivableChannel,
  intendedChannel,
  type RecipientReach,
} from '../../src/reminders/recipient-channel';

const reach = (r: Partial<RecipientReach> = {}): RecipientReach => ({
  hasEmail: true,
  hasPhone: true,
  hasWhatsapp: true,
  optOut: { email: false, sms: false, whatsapp: false },
  preferredChannel: null,
  ...r,
});

describe('the recipient channel rule', () => {
  it('takes the first listed channel the client can receive', () => {
    expect(firstReceivableChannel(['sms', 'email'], reach())).to.equal('sms');
    expect(firstReceivableChannel(['email', 'sms'], reach({ hasEmail: false }))).to.equal('sms');
    expect(
      firstReceivableChannel(['email', 'whatsapp'], reach({ optOut: { email: true, sms: false, whatsapp: false } })),
    ).to.equal('whatsapp');
  });

  it("reads auto as the client's preferred channel, and skips it when there is none", () => {
    expect(firstReceivableChannel(['auto', 'email'], reach({ preferredChannel: 'whatsapp' }))).to.equal('whatsapp');
    expect(firstReceivableChannel(['auto', 'sms'], reach())).to.equal('sms');
  });

  it('answers null when the client can receive none, and names the intended channel for the record', () => {
    const none = reach({ hasPhone: false, optOut: { email: true, sms: false, whatsapp: false } });
    expect(firstReceivableChannel(['email', 'sms'], none)).to.equal(null);
    expect(intendedChannel(['email', 'sms'], none)).to.equal('email');
    expect(intendedChannel(['auto'], reach())).to.equal('email');
  });

  it('falls back to the next listed channel the client can receive, only further down the list', () => {
    expect(fallbackChannel(['whatsapp', 'sms', 'email'], 'whatsapp', reach())).to.equal('sms');
    expect(fallbackChannel(['whatsapp', 'sms', 'email'], 'sms', reach())).to.equal('email');
    expect(fallbackChannel(['whatsapp', 'sms', 'email'], 'email', reach())).to.equal(null);
    expect(
      fallbackChannel(['sms', 'email'], 'sms', reach({ optOut: { email: true, sms: false, whatsapp: false } })),
    ).to.equal(null);
    expect(fallbackChannel(['sms', 'auto'], 'sms', reach({ preferredChannel: 'whatsapp' }))).to.equal('whatsapp');
    // A channel listed twice falls back from its last place, so a chain of fallbacks always ends.
    expect(fallbackChannel(['sms', 'email', 'sms'], 'sms', reach())).to.equal(null);
    expect(fallbackChannel(['email'], 'sms', reach())).to.equal(null);
  });
});
