import { expect } from 'chai';
import { recurrenceRuleError } from '@nudge/domain';

describe('recurrence rule validation', () => {
  it('accepts a plain RRULE, with or without the RRULE: prefix and a floating DTSTART', () => {
    expect(recurrenceRuleError('FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9')).to.equal(null);
    expect(recurrenceRuleError('RRULE:FREQ=MONTHLY;BYMONTHDAY=-1')).to.equal(null);
    expect(recurrenceRuleError('DTSTART:20270101T090000\nRRULE:FREQ=DAILY;COUNT=3')).to.equal(null);
  });

  it('rejects what the library cannot parse', () => {
    expect(recurrenceRuleError('garbage')).to.match(/not an RRULE/);
    expect(recurrenceRuleError('FREQ=DAILY;FOO=1')).to.match(/Unknown RRULE property/);
    expect(recurrenceRuleError('')).to.match(/exactly one RRULE/);
  });

  it('rejects values the library lets through out of range', () => {
    expect(recurrenceRuleError('FREQ=DAILY;BYHOUR=25')).to.match(/BYHOUR/);
    expect(recurrenceRuleError('FREQ=DAILY;BYMINUTE=60')).to.match(/BYMINUTE/);
    expect(recurrenceRuleError('FREQ=MONTHLY;BYMONTHDAY=0')).to.match(/BYMONTHDAY/);
    expect(recurrenceRuleError('FREQ=DAILY;COUNT=x')).to.match(/COUNT/);
    expect(recurrenceRuleError('FREQ=DAILY;INTERVAL=0')).to.match(/INTERVAL/);
    expect(recurrenceRuleError('FREQ=DAILY;BYDAY=XX')).to.match(/BYDAY/);
    expect(recurrenceRuleError('BYHOUR=9')).to.match(/FREQ/);
  });

  it('refuses a rule that matches no date, which the library would iterate up to the year 9999', () => {
    expect(recurrenceRuleError('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30')).to.match(/matches no date/);
    expect(recurrenceRuleError('FREQ=YEARLY;BYYEARDAY=1;BYMONTH=2')).to.match(/matches no date/);
    expect(recurrenceRuleError('FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=2')).to.match(/matches no date/);
    expect(recurrenceRuleError('FREQ=MONTHLY;BYDAY=6MO')).to.match(/BYDAY/);
    expect(recurrenceRuleError('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29')).to.equal(null);
  });

  it('refuses an INTERVAL that, from the creation time, may never reach the hours, weekdays or months named', () => {
    expect(recurrenceRuleError('FREQ=HOURLY;INTERVAL=2;BYHOUR=3')).to.match(/INTERVAL/);
    expect(recurrenceRuleError('FREQ=DAILY;INTERVAL=7;BYDAY=MO')).to.match(/INTERVAL/);
    expect(recurrenceRuleError('FREQ=MONTHLY;INTERVAL=2;BYMONTH=3')).to.match(/INTERVAL/);
    expect(recurrenceRuleError('FREQ=HOURLY;INTERVAL=5;BYHOUR=3')).to.equal(null);
    expect(recurrenceRuleError('FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE')).to.equal(null);
  });

  it('refuses BY parts RFC 5545 does not allow with the FREQ', () => {
    expect(recurrenceRuleError('FREQ=MONTHLY;BYWEEKNO=3')).to.match(/BYWEEKNO/);
    expect(recurrenceRuleError('FREQ=WEEKLY;BYMONTHDAY=3')).to.match(/BYMONTHDAY/);
    expect(recurrenceRuleError('FREQ=DAILY;BYSETPOS=1')).to.match(/BYSETPOS/);
  });

  it('rejects rules finer than an hour, RDATE/EXDATE and a DTSTART with its own TZID', () => {
    expect(recurrenceRuleError('FREQ=SECONDLY')).to.match(/FREQ/);
    expect(recurrenceRuleError('FREQ=MINUTELY')).to.match(/FREQ/);
    expect(recurrenceRuleError('FREQ=DAILY;BYSECOND=30')).to.match(/BYSECOND/);
    expect(recurrenceRuleError('RRULE:FREQ=DAILY\nEXDATE:20270101T090000')).to.match(/EXDATE/);
    expect(recurrenceRuleError('DTSTART;TZID=Europe/Paris:20270101T090000\nRRULE:FREQ=DAILY')).to.match(/TZID/);
  });
});
