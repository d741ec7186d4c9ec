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

  it('rejects rules finer than a minute, RDATE/EXDATE and a DTSTART with its own TZID', () => {
    expect(recurrenceRuleError('FREQ=SECONDLY')).to.match(/SECONDLY/);
    expect(recurrenceRuleError('FREQ=DAILY;BYSECOND=30')).to.match(/BYSECOND/);
    expect(recurrenceRuleError('RRULE:FREQ=DAILY\nEXDATE:20270101T090000')).to.match(/EXDATE/);
    expect(recurrenceRuleError('DTSTART;TZID=Europe/Paris:20270101T090000\nRRULE:FREQ=DAILY')).to.match(/TZID/);
  });
});
