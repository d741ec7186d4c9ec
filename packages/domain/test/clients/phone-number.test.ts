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

  describe("libphonenumber-js as installed (patches/libphonenumber-js+*.patch, applied by npm's postinstall)", () => {
    it("compiles each of its metadata's patterns once, not again for every number checked", () => {
      const numbers = Array.from({ length: 20 }, (_, i) => `+44 7911 2${String(i).padStart(5, '0')}`);
      normalisePhone('+44 7911 300000');
      // matchesEntirely's expressions are the only ones anchored at both ends; the library builds others per number.
      const anchored: string[] = [];
      const Original = globalThis.RegExp;
      globalThis.RegExp = new Proxy(Original, {
        construct(target, args: [string | RegExp, string?]) {
          const source = String(args[0]);
          if (source.startsWith('^(?:') && source.endsWith(')$')) anchored.push(source);
          return Reflect.construct<[string | RegExp, string?], RegExp>(target, args);
        },
      });
      try {
        for (const n of numbers) expect(normalisePhone(n)).to.have.property('e164');
      } finally {
        globalThis.RegExp = Original;
      }
      expect(anchored).to.deep.equal([]);
    });
  });

  describe('maskPhone', () => {
    it('shows the country code and the last three digits, with six dots whatever the length', () => {
      expect(maskPhone('+447911123789')).to.equal('+44••••••789');
      expect(maskPhone('+14155552671')).to.equal('+1••••••671');
    });
  });
});
