import { expect } from 'chai';
import { nextBirthday } from '../../src/services/birthdays.service';

describe('nextBirthday', () => {
  const cases: [dob: string, today: string, rule: 'feb28' | 'mar1', expected: string][] = [
    // 29 February in a common year: 28 February or 1 March, per the workspace's rule.
    ['2000-02-29', '2027-02-28', 'feb28', '2027-02-28'],
    ['2000-02-29', '2027-02-28', 'mar1', '2027-03-01'],
    ['2000-02-29', '2027-03-01', 'mar1', '2027-03-01'],
    ['2000-02-29', '2027-03-01', 'feb28', '2028-02-29'],
    ['2000-02-29', '2026-12-31', 'feb28', '2027-02-28'],
    ['2000-02-29', '2026-12-31', 'mar1', '2027-03-01'],
    ['2000-02-29', '2027-01-15', 'mar1', '2027-03-01'],
    // In a leap year it is 29 February, whatever the rule.
    ['2000-02-29', '2028-02-28', 'feb28', '2028-02-29'],
    ['2000-02-29', '2028-02-28', 'mar1', '2028-02-29'],
    ['2000-02-29', '2028-02-29', 'mar1', '2028-02-29'],
    ['2000-02-29', '2027-12-31', 'feb28', '2028-02-29'],
    ['2000-02-29', '2028-03-01', 'mar1', '2029-03-01'],
    ['2000-02-29', '2028-03-01', 'feb28', '2029-02-28'],
    // Century years: 2100 is common, 2000 was leap.
    ['1996-02-29', '2100-02-01', 'feb28', '2100-02-28'],
    ['1996-02-29', '2100-02-01', 'mar1', '2100-03-01'],
    ['1996-02-29', '1999-12-31', 'mar1', '2000-02-29'],
    // Other dates ignore the rule.
    ['1990-02-28', '2027-02-28', 'mar1', '2027-02-28'],
    ['1990-03-01', '2028-02-29', 'feb28', '2028-03-01'],
    ['1990-02-28', '2028-02-29', 'feb28', '2029-02-28'],
    // Today counts; yesterday is next year; the year wraps.
    ['1990-11-22', '2026-11-22', 'feb28', '2026-11-22'],
    ['1990-11-21', '2026-11-22', 'feb28', '2027-11-21'],
    ['1990-12-31', '2026-12-31', 'feb28', '2026-12-31'],
    ['1990-01-01', '2026-12-31', 'feb28', '2027-01-01'],
  ];
  for (const [dob, today, rule, expected] of cases) {
    it(`is ${expected} for ${dob} on ${today} with ${rule}`, () => {
      expect(nextBirthday(dob, today, rule)).to.equal(expected);
    });
  }
});
