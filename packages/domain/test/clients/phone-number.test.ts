import { expect } from 'chai';
import { maskPhone, normalisePhone } from '@nudge/domain';

describe('phone numbers', () => {
  describe('normalisePhone', () => {
    it('turns an international number with spaces and dashes into E.164', () => {
      expect(normalisePhone('+44 7911-123 789')).to.deep.equal({ e164: '+447911123789' });
      expect(normalisePhone(' +1 415-555-2671 ')).to.deep.equal({ e164: '+14155552671' });
    });

    it('refuses a national number, letters or brackets', () => {
      expect(normalisePhone('07700 900789')).to.deep.equal({ problem: 'not_international' });
      expect(normalisePhone('+44 (0)7700 900789')).to.deep.equal({ problem: 'not_international' });
      expect(normalisePhone('+44 77OO 900789')).to.deep.equal({ problem: 'not_international' });
    });

    it('refuses a number that cannot exist', () => {
      expect(normalisePhone('+44 12')).to.deep.equal({ problem: 'invalid' });
      expect(normalisePhone('+999 1234567')).to.deep.equal({ problem: 'invalid' });
    });
  });

  describe('maskPhone', () => {
    it('shows the country code and the last three digits, with six dots whatever the length', () => {
      expect(maskPhone('+447911123789')).to.equal('+44••••••789');
      expect(maskPhone('+14155552671')).to.equal('+1••••••671');
    });
  });
});
