import { expect } from 'chai';
import { candidateBirthMds, celebratedBirthMds, celebrationDateIn, localDateAt, localDateClock } from '@nudge/domain';

describe('birthday calendar', () => {
  describe('localDateAt', () => {
    it('gives the local calendar date on both sides of UTC', () => {
      const now = new Date('2027-06-15T20:00:00Z');
      expect(localDateAt(now, 'Pacific/Auckland')).to.equal('2027-06-16');
      expect(localDateAt(now, 'America/Los_Angeles')).to.equal('2027-06-15');
      expect(localDateAt(new Date('2027-06-15T03:00:00Z'), 'America/Los_Angeles')).to.equal('2027-06-14');
    });

    it('answers undefined for an unknown zone', () => {
      expect(localDateAt(new Date(), 'Mars/Olympus')).to.equal(undefined);
    });
  });

  describe('localDateClock', () => {
    it("answers as localDateAt on each side of a zone's midnight, in either direction of time", () => {
      const today = localDateClock();
      const instants = [
        '2027-06-15T11:59:59.999Z', // 23:59:59.999 in Auckland (UTC+12)
        '2027-06-15T12:00:00Z', // its midnight
        '2027-06-15T11:00:00Z', // back again
        '2027-03-14T09:59:59Z', // Los Angeles, 01:59:59 PST, the night clocks go forward
        '2027-03-14T10:00:00Z', // 03:00 PDT, the same day
        '2027-03-15T06:59:59Z', // 23:59:59 PDT
        '2027-03-15T07:00:00Z', // the next day
      ];
      for (const zone of ['Pacific/Auckland', 'America/Los_Angeles', 'UTC'])
        for (const at of instants)
          expect(today(new Date(at), zone), `${zone} ${at}`).to.equal(localDateAt(new Date(at), zone));
    });

    it('answers undefined for an unknown zone', () => {
      expect(localDateClock()(new Date(), 'Mars/Olympus')).to.equal(undefined);
    });
  });

  describe('celebratedBirthMds', () => {
    it('celebrates 29 February on 28 February in a common year under feb28', () => {
      expect(celebratedBirthMds('2027-02-28', 'feb28')).to.deep.equal([228, 229]);
      expect(celebratedBirthMds('2027-03-01', 'feb28')).to.deep.equal([301]);
    });

    it('celebrates 29 February on 1 March in a common year under mar1', () => {
      expect(celebratedBirthMds('2027-02-28', 'mar1')).to.deep.equal([228]);
      expect(celebratedBirthMds('2027-03-01', 'mar1')).to.deep.equal([301, 229]);
    });

    it('celebrates 29 February on the day itself in a leap year, whatever the rule', () => {
      for (const rule of ['feb28', 'mar1'] as const) {
        expect(celebratedBirthMds('2028-02-28', rule)).to.deep.equal([228]);
        expect(celebratedBirthMds('2028-02-29', rule)).to.deep.equal([229]);
        expect(celebratedBirthMds('2028-03-01', rule)).to.deep.equal([301]);
      }
      expect(celebratedBirthMds('2100-02-28', 'feb28')).to.deep.equal([228, 229]);
      expect(celebratedBirthMds('2000-02-28', 'feb28')).to.deep.equal([228]);
    });
  });

  describe('candidateBirthMds', () => {
    it('covers every local date on Earth at the instant, with both leap-day rules', () => {
      expect(candidateBirthMds(new Date('2027-02-28T12:00:00Z'))).to.deep.equal([227, 228, 229, 301]);
      expect(candidateBirthMds(new Date('2027-06-15T00:00:00Z'))).to.deep.equal([614, 615, 616]);
      expect(candidateBirthMds(new Date('2027-12-31T23:00:00Z'))).to.deep.equal([101, 1230, 1231]);
    });
  });

  describe('celebrationDateIn', () => {
    it('applies the leap-day rule to a year', () => {
      expect(celebrationDateIn('2000-02-29', 2027, 'feb28')).to.equal('2027-02-28');
      expect(celebrationDateIn('2000-02-29', 2027, 'mar1')).to.equal('2027-03-01');
      expect(celebrationDateIn('2000-02-29', 2028, 'mar1')).to.equal('2028-02-29');
      expect(celebrationDateIn('1990-07-04', 2027, 'feb28')).to.equal('2027-07-04');
    });
  });
});
