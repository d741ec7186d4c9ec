import { expect } from 'chai';
import {
  formatReminderAmount,
  isKnownCurrency,
  renderReminderTemplate,
  validateReminderTemplate,
  REMINDER_TEMPLATE_VARIABLES,
} from '@nudge/domain';

const values = { clientName: 'Ann Lee', title: 'Invoice 42' };

describe('reminder templates', () => {
  describe('validateReminderTemplate', () => {
    it('accepts every documented variable, with or without inner spaces', () => {
      const all = REMINDER_TEMPLATE_VARIABLES.map((v) => `{{${v}}} {{ ${v} }}`).join(' ');
      expect(validateReminderTemplate(all)).to.deep.equal([]);
    });

    it('names each unknown variable once, in order', () => {
      expect(validateReminderTemplate('{{client.email}} {{amount}} {{nope}} {{client.email}}')).to.deep.equal([
        'client.email',
        'nope',
      ]);
    });

    it('treats single braces as text', () => {
      expect(validateReminderTemplate('{client.email} {{')).to.deep.equal([]);
    });
  });

  describe('renderReminderTemplate', () => {
    it('fills in the client, the title, the links and the due date in the client locale', () => {
      const text = renderReminderTemplate(
        'Hi {{client.name}}: {{reminder.title}} due {{due_date}}. {{payment_link}} {{document_link}}',
        {
          ...values,
          dueDate: '2027-03-15',
          locale: 'en-GB',
          paymentLink: 'https://pay.example/x',
          documentLink: 'https://docs.example/y',
        },
      );
      expect(text).to.equal('Hi Ann Lee: Invoice 42 due 15 March 2027. https://pay.example/x https://docs.example/y');
    });

    it('renders missing values as empty text', () => {
      expect(renderReminderTemplate('[{{amount}}|{{due_date}}|{{payment_link}}]', values)).to.equal('[||]');
    });
  });

  describe('formatReminderAmount', () => {
    it("formats minor units in the client's locale and the currency's own digits", () => {
      expect(formatReminderAmount(123456, 'eur', 'de-DE')).to.equal('1.234,56\u00a0€');
      expect(formatReminderAmount(123456, 'USD', 'en-US')).to.equal('$1,234.56');
      expect(formatReminderAmount(1234, 'JPY', 'en-US')).to.equal('¥1,234');
      expect(formatReminderAmount(1234, 'BHD', 'en-US')).to.equal('BHD\u00a01.234');
    });

    it('falls back to English for a locale Intl does not accept', () => {
      expect(formatReminderAmount(500, 'GBP', 'not a locale')).to.equal('£5.00');
    });
  });

  it('knows ISO 4217 codes in any case', () => {
    expect(isKnownCurrency('eur')).to.equal(true);
    expect(isKnownCurrency('XYZ')).to.equal(false);
    expect(isKnownCurrency('EURO')).to.equal(false);
  });
});
