import { expect } from 'chai';
import { isPostTimeReached, postInstant } from '@nudge/domain';

const iso = (d: Date | undefined) => d?.toISOString();

describe('birthday post time', () => {
  describe('postInstant', () => {
    it('places the local post time in its zone, on both sides of UTC', () => {
      expect(iso(postInstant('2027-06-15', '09:00', 'America/Los_Angeles'))).to.equal('2027-06-15T16:00:00.000Z');
      expect(iso(postInstant('2027-06-15', '09:00', 'Pacific/Auckland'))).to.equal('2027-06-14T21:00:00.000Z');
      expect(iso(postInstant('2027-01-15', '09:00', 'Pacific/Auckland'))).to.equal('2027-01-14T20:00:00.000Z');
    });

    it('fires a time that the spring-forward gap skips at the first instant after the gap', () => {
      // New York, 14 March 2027: 02:00 EST jumps to 03:00 EDT (07:00Z).
      expect(iso(postInstant('2027-03-14', '02:30', 'America/New_York'))).to.equal('2027-03-14T07:00:00.000Z');
      expect(iso(postInstant('2027-03-14', '02:00', 'America/New_York'))).to.equal('2027-03-14T07:00:00.000Z');
      expect(iso(postInstant('2027-03-14', '03:00', 'America/New_York'))).to.equal('2027-03-14T07:00:00.000Z');
      expect(iso(postInstant('2027-03-14', '01:59', 'America/New_York'))).to.equal('2027-03-14T06:59:00.000Z');
      // Auckland, 26 September 2027: 02:00 NZST jumps to 03:00 NZDT (14:00Z the day before).
      expect(iso(postInstant('2027-09-26', '02:15', 'Pacific/Auckland'))).to.equal('2027-09-25T14:00:00.000Z');
    });

    it('fires a time that the fall-back repeats the first time', () => {
      // New York, 7 November 2027: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
      expect(iso(postInstant('2027-11-07', '01:30', 'America/New_York'))).to.equal('2027-11-07T05:30:00.000Z');
      // Auckland, 4 April 2027: 02:30 happens at 13:30Z (NZDT) and again at 14:30Z (NZST).
      expect(iso(postInstant('2027-04-04', '02:30', 'Pacific/Auckland'))).to.equal('2027-04-03T13:30:00.000Z');
    });

    it('answers undefined for an unknown zone or a malformed time', () => {
      expect(postInstant('2027-03-14', '09:00', 'Nowhere/Town')).to.equal(undefined);
      expect(postInstant('2027-03-14', '9:00', 'UTC')).to.equal(undefined);
    });
  });

  describe('isPostTimeReached', () => {
    it('is false until the post instant and true from it on', () => {
      expect(
        isPostTimeReached(new Date('2027-03-14T06:59:59.999Z'), '2027-03-14', '02:30', 'America/New_York'),
      ).to.equal(false);
      expect(
        isPostTimeReached(new Date('2027-03-14T07:00:00.000Z'), '2027-03-14', '02:30', 'America/New_York'),
      ).to.equal(true);
    });
  });
});
