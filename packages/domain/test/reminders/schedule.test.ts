import { expect } from 'chai';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  nextOccurrence,
  postInstant,
  upcomingOccurrences,
  type OccurrenceContext,
  type ReminderSchedule,
} from '@nudge/domain';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const ctxIn = (zone: string, createdAt: string, leapDayRule: 'feb28' | 'mar1' = 'feb28'): OccurrenceContext => ({
  zone,
  createdAt: new Date(createdAt),
  leapDayRule,
});
const recurring = (rrule: string, extra: Partial<ReminderSchedule> = {}): ReminderSchedule =>
  ({ kind: 'recurring', rrule, timezone: 'UTC', ...extra }) as ReminderSchedule;
const upcoming = (s: ReminderSchedule, ctx: OccurrenceContext, n: number, after = ctx.createdAt) =>
  iso(upcomingOccurrences(s, ctx, new Date(after.getTime() - 1), n));

describe('reminder schedule', () => {
  describe('a one-time schedule', () => {
    const s: ReminderSchedule = { kind: 'once', send_at: '2027-05-01T10:00:00.000Z' };
    const ctx = ctxIn('UTC', '2027-04-01T00:00:00Z');

    it('fires once, at send_at', () => {
      expect(iso(upcomingOccurrences(s, ctx, ctx.createdAt, 3))).to.deep.equal(['2027-05-01T10:00:00.000Z']);
      expect(nextOccurrence(s, ctx, new Date('2027-05-01T10:00:00.000Z'))).to.equal(null);
    });

    it('never fires before the reminder was created', () => {
      expect(nextOccurrence(s, ctxIn('UTC', '2027-06-01T00:00:00Z'), new Date(0))).to.equal(null);
    });
  });

  describe('wall-clock times in the zone', () => {
    it('keeps a 09:00 Europe/London reminder at 09:00 local across both DST changes', () => {
      const ctx = ctxIn('Europe/London', '2027-03-26T12:00:00Z');
      const got = upcomingOccurrences(recurring('FREQ=DAILY;BYHOUR=9;BYMINUTE=0'), ctx, ctx.createdAt, 4);
      expect(iso(got)).to.deep.equal([
        '2027-03-27T09:00:00.000Z',
        '2027-03-28T08:00:00.000Z',
        '2027-03-29T08:00:00.000Z',
        '2027-03-30T08:00:00.000Z',
      ]);
      const autumn = ctxIn('Europe/London', '2027-10-29T12:00:00Z');
      expect(iso(upcomingOccurrences(recurring('FREQ=DAILY;BYHOUR=9'), autumn, autumn.createdAt, 3))).to.deep.equal([
        '2027-10-30T08:00:00.000Z',
        '2027-10-31T09:00:00.000Z',
        '2027-11-01T09:00:00.000Z',
      ]);
    });

    it('reads BYHOUR alone as the full hour', () => {
      const ctx = ctxIn('UTC', '2027-01-01T10:37:12Z');
      expect(upcoming(recurring('FREQ=DAILY;BYHOUR=9'), ctx, 1)).to.deep.equal(['2027-01-02T09:00:00.000Z']);
    });

    it("takes the time of day from DTSTART, read in the schedule's zone", () => {
      const ctx = ctxIn('America/New_York', '2027-01-01T00:00:00Z');
      const s = recurring('DTSTART:20261201T083000\nRRULE:FREQ=WEEKLY');
      expect(upcoming(s, ctx, 2)).to.deep.equal(['2027-01-05T13:30:00.000Z', '2027-01-12T13:30:00.000Z']);
    });

    it('takes the time of day from starts_at when the rule names none', () => {
      const ctx = ctxIn('Europe/Paris', '2027-01-01T00:00:00Z');
      const s = recurring('FREQ=DAILY', { starts_at: '2027-02-01T07:15:00Z' });
      expect(upcoming(s, ctx, 2)).to.deep.equal(['2027-02-01T07:15:00.000Z', '2027-02-02T07:15:00.000Z']);
    });

    it('moves a time skipped by the spring-forward gap to the first instant after it', () => {
      // New York, 14 March 2027: 02:00 EST jumps to 03:00 EDT (07:00Z).
      const ctx = ctxIn('America/New_York', '2027-03-12T12:00:00Z');
      expect(upcoming(recurring('FREQ=DAILY;BYHOUR=2;BYMINUTE=30'), ctx, 3)).to.deep.equal([
        '2027-03-13T07:30:00.000Z',
        '2027-03-14T07:00:00.000Z',
        '2027-03-15T06:30:00.000Z',
      ]);
    });

    it('fires a time repeated by the autumn fall-back once, the first time', () => {
      // New York, 7 November 2027: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
      const ctx = ctxIn('America/New_York', '2027-11-07T03:00:00Z');
      expect(upcoming(recurring('FREQ=HOURLY;BYMINUTE=30'), ctx, 4)).to.deep.equal([
        '2027-11-07T03:30:00.000Z',
        '2027-11-07T04:30:00.000Z',
        '2027-11-07T05:30:00.000Z',
        '2027-11-07T07:30:00.000Z',
      ]);
    });

    it('never repeats the instant a gap moved two readings to', () => {
      const ctx = ctxIn('America/New_York', '2027-03-14T06:00:00Z');
      expect(upcoming(recurring('FREQ=HOURLY;BYMINUTE=0,30'), ctx, 4)).to.deep.equal([
        '2027-03-14T06:00:00.000Z',
        '2027-03-14T06:30:00.000Z',
        '2027-03-14T07:00:00.000Z',
        '2027-03-14T07:30:00.000Z',
      ]);
    });
  });

  describe('the last day of the month', () => {
    const ctx = ctxIn('UTC', '2027-01-01T00:00:00Z');
    const expected = [
      '2027-01-31T09:00:00.000Z',
      '2027-02-28T09:00:00.000Z',
      '2027-03-31T09:00:00.000Z',
      '2027-04-30T09:00:00.000Z',
      '2027-05-31T09:00:00.000Z',
    ];

    it('follows BYMONTHDAY=-1 to the last day of shorter months, without drifting back from the 31st', () => {
      expect(upcoming(recurring('FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9'), ctx, 5)).to.deep.equal(expected);
    });

    it('gives the same dates with BYMONTHDAY=28,29,30,31;BYSETPOS=-1', () => {
      const s = recurring('FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;BYHOUR=9');
      expect(upcoming(s, ctx, 5)).to.deep.equal(expected);
    });

    it('skips months without a 31st for BYMONTHDAY=31, as RFC 5545 says', () => {
      expect(upcoming(recurring('FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9'), ctx, 3)).to.deep.equal([
        '2027-01-31T09:00:00.000Z',
        '2027-03-31T09:00:00.000Z',
        '2027-05-31T09:00:00.000Z',
      ]);
    });
  });

  describe('yearly on 29 February', () => {
    const s = recurring('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9');

    it("fires on 28 February of common years under the workspace's feb28 rule", () => {
      expect(upcoming(s, ctxIn('UTC', '2027-01-01T00:00:00Z', 'feb28'), 3)).to.deep.equal([
        '2027-02-28T09:00:00.000Z',
        '2028-02-29T09:00:00.000Z',
        '2029-02-28T09:00:00.000Z',
      ]);
    });

    it('fires on 1 March of common years under the mar1 rule', () => {
      expect(upcoming(s, ctxIn('UTC', '2027-01-01T00:00:00Z', 'mar1'), 3)).to.deep.equal([
        '2027-03-01T09:00:00.000Z',
        '2028-02-29T09:00:00.000Z',
        '2029-03-01T09:00:00.000Z',
      ]);
    });

    it('applies the rule when the date comes from DTSTART', () => {
      const fromStart = recurring('DTSTART:20280229T100000\nRRULE:FREQ=YEARLY');
      expect(upcoming(fromStart, ctxIn('UTC', '2027-01-01T00:00:00Z', 'mar1'), 2)).to.deep.equal([
        '2028-02-29T10:00:00.000Z',
        '2029-03-01T10:00:00.000Z',
      ]);
    });
  });

  describe('bounds', () => {
    const ctx = ctxIn('UTC', '2027-01-01T00:00:00Z');

    it('produces nothing before the reminder was created, even from an earlier DTSTART', () => {
      const s = recurring('DTSTART:20260101T090000\nRRULE:FREQ=DAILY');
      expect(upcoming(s, ctx, 1, new Date(0))).to.deep.equal(['2027-01-01T09:00:00.000Z']);
    });

    it('produces nothing before starts_at', () => {
      const s = recurring('FREQ=DAILY;BYHOUR=9', { starts_at: '2027-03-01T10:00:00Z' });
      expect(upcoming(s, ctx, 1)).to.deep.equal(['2027-03-02T09:00:00.000Z']);
    });

    it('stops after count occurrences, counted from the first one produced', () => {
      const s = recurring('FREQ=DAILY;BYHOUR=9', { count: 2 });
      expect(upcoming(s, ctx, 5)).to.deep.equal(['2027-01-01T09:00:00.000Z', '2027-01-02T09:00:00.000Z']);
      expect(nextOccurrence(s, ctx, new Date('2027-01-02T09:00:00.000Z'))).to.equal(null);
      expect(upcoming(recurring('FREQ=DAILY;BYHOUR=9;COUNT=1'), ctx, 5)).to.deep.equal(['2027-01-01T09:00:00.000Z']);
    });

    it('stops at until, inclusive', () => {
      const s = recurring('FREQ=DAILY;BYHOUR=9', { until: '2027-01-02T09:00:00Z' });
      expect(upcoming(s, ctx, 5)).to.deep.equal(['2027-01-01T09:00:00.000Z', '2027-01-02T09:00:00.000Z']);
    });

    it('refuses, quickly, to expand a rule that matches no date (validation keeps it out of storage)', () => {
      const s = recurring('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30');
      expect(() => nextOccurrence(s, ctx, ctx.createdAt)).to.throw(RangeError, /matches no date/);
    });

    it('answers nothing for an unknown zone', () => {
      expect(upcoming(recurring('FREQ=DAILY'), ctxIn('Nowhere/Town', '2027-01-01T00:00:00Z'), 1)).to.deep.equal([]);
    });
  });

  describe('properties over random rules and zones', () => {
    const zones = [
      'UTC',
      'Europe/London',
      'America/New_York',
      'America/Santiago',
      'Australia/Lord_Howe',
      'Pacific/Auckland',
      'Pacific/Chatham',
      'Asia/Kolkata',
      'America/St_Johns',
      'Africa/Casablanca',
    ];
    const rules = fc.oneof(
      fc
        .record({
          freq: fc.constantFrom('HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
          interval: fc.integer({ min: 1, max: 3 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
        })
        .map(({ freq, interval, hour, minute }) =>
          freq === 'HOURLY'
            ? `FREQ=HOURLY;INTERVAL=${interval};BYMINUTE=${minute}`
            : `FREQ=${freq};INTERVAL=${interval};BYHOUR=${hour};BYMINUTE=${minute}`,
        ),
      fc
        .record({ day: fc.constantFrom(-1, 1, 15, 28, 29, 30, 31), hour: fc.integer({ min: 0, max: 23 }) })
        .map(({ day, hour }) => `FREQ=MONTHLY;BYMONTHDAY=${day};BYHOUR=${hour}`),
      fc
        .subarray(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], { minLength: 1 })
        .map((days) => `FREQ=WEEKLY;BYDAY=${days.join(',')};BYHOUR=2;BYMINUTE=30`),
    );
    const created = fc.date({
      min: new Date('2024-01-01T00:00:00Z'),
      max: new Date('2030-12-31T00:00:00Z'),
      noInvalidDate: true,
    });

    it('produces strictly increasing occurrences, each the next after the one before', () => {
      fc.assert(
        fc.property(rules, fc.constantFrom(...zones), created, (rrule, zone, createdAt) => {
          const ctx: OccurrenceContext = { zone, createdAt, leapDayRule: 'feb28' };
          const s = recurring(rrule);
          const all = upcomingOccurrences(s, ctx, createdAt, 12);
          expect(all.length).to.equal(12);
          let prev = createdAt;
          for (const at of all) {
            expect(at.getTime()).to.be.greaterThan(prev.getTime());
            // Stepping one occurrence at a time (as the scan does) meets the same instants: none skipped.
            expect(nextOccurrence(s, ctx, prev)?.toISOString()).to.equal(at.toISOString());
            prev = at;
          }
        }),
        { numRuns: 100 },
      );
    });

    it('fires a daily rule exactly once on every local day, at its time or right after a gap', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 23 }),
          fc.integer({ min: 0, max: 59 }),
          fc.constantFrom(...zones),
          created,
          (hour, minute, zone, createdAt) => {
            const ctx: OccurrenceContext = { zone, createdAt, leapDayRule: 'feb28' };
            const all = upcomingOccurrences(
              recurring(`FREQ=DAILY;BYHOUR=${hour};BYMINUTE=${minute}`),
              ctx,
              createdAt,
              40,
            );
            const hhmm = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
            let day = DateTime.fromJSDate(all[0] as Date, { zone }).startOf('day');
            for (const at of all) {
              // The oracle: the birthday post-time rule, applied to each consecutive local day.
              expect(at.toISOString()).to.equal(postInstant(day.toISODate() as string, hhmm, zone)?.toISOString());
              day = day.plus({ days: 1 });
            }
          },
        ),
        { numRuns: 100 },
      );
    });
  });
});
