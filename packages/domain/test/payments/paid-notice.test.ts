import { expect } from 'chai';
import { paidNoticeMail } from '../../src/payments/paid-notice';

describe("the owner's paid mail", () => {
  const facts = {
    workspaceName: 'Acme Accounts',
    clientName: 'Pat Payer',
    reminderTitle: 'Invoice 1042',
    amount: 12_550,
    currency: 'EUR',
    paidAt: new Date('2026-12-01T10:15:00Z'),
  };

  it('names the client, the amount in major units, what it paid for and when', () => {
    const { subject, text } = paidNoticeMail(facts);
    expect(subject).to.equal('Pat Payer paid €125.50');
    expect(text).to.include('Pat Payer paid €125.50 for "Invoice 1042" on 2026-12-01 10:15 UTC');
    expect(text).to.include('Acme Accounts');
  });

  it('reads a currency without minor units as it is, and a client without a name as "A client"', () => {
    const { subject } = paidNoticeMail({ ...facts, currency: 'JPY', amount: 5000, clientName: null });
    expect(subject).to.equal('A client paid ¥5,000');
  });
});
