// When a reminder fires. Shared by the API (next runs on save, the occurrences preview) and the reminders scan
// (advancing each assignment), so the recurrence rules are written once.
//
// An RRULE is read as wall-clock times in the schedule's zone: the rrule library expands it on a "floating" UTC
// calendar (its UTC fields are the local readings) and each reading becomes an instant by the birthday post-time
// rule (`postInstant`): a reading skipped by a spring-forward gap fires at the first instant after the gap, and one
// repeated by the autumn fall-back fires the first time, once. A yearly rule on 29 February fires in common years
// on the date the workspace's leap-day rule gives a 29 February birthday (`celebrationDateIn`).
import { DateTime } from 'luxon';
import type { Options } from 'rrule';
import { celebrationDateIn, type LeapDayRule } from '../birthdays/birthday-calendar';
import { postInstant } from '../post-time';
import { Frequency, RRule, parseRecurrenceRule } from './recurrence-rule';

export type ReminderSchedule =
  | { kind: 'once'; send_at: string }
  | { kind: 'recurring'; rrule: string; timezone: string; starts_at?: string; until?: string; count?: number };

export interface OccurrenceContext {
  /** The IANA zone to expand in (the client's own when the schedule's timezone is 'recipient'). */
  zone: string;
  /** Nothing before the reminder's creation (or its starts_at) is ever produced. */
  createdAt: Date;
  leapDayRule: LeapDayRule;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/**
 * How far past `after` a rule is expanded: a rule that matches no date (BYMONTH=2;BYMONTHDAY=30) would otherwise
 * be iterated day by day up to the year 9999. An occurrence further ahead than this counts as none.
 */
const HORIZON_MS = 100 * 366 * DAY;
const pad = (n: number) => String(n).padStart(2, '0');

/** The first occurrence strictly after `after`, or null when the schedule is exhausted. */
export function nextOccurrence(s: ReminderSchedule, ctx: OccurrenceContext, after: Date): Date | null {
  return upcomingOccurrences(s, ctx, after, 1)[0] ?? null;
}

/** The next `count` occurrences strictly after `after` (fewer when the schedule runs out). */
export function upcomingOccurrences(s: ReminderSchedule, ctx: OccurrenceContext, after: Date, count: number): Date[] {
  if (count <= 0) return [];
  if (s.kind === 'once') {
    const at = new Date(s.send_at);
    if (Number.isNaN(at.getTime()) || at < ctx.createdAt || at <= after) return [];
    return [at];
  }
  const out: Date[] = [];
  expandRecurring(s, ctx, after.getTime() + HORIZON_MS, (at) => {
    if (at > after.getTime()) out.push(new Date(at));
    return out.length < count;
  });
  return out;
}

/** The wall-clock reading at an instant in `zone`, on the floating calendar. */
function wallOf(instant: Date, zone: string): number {
  const dt = DateTime.fromJSDate(instant, { zone });
  return Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute);
}

/** A 29 February yearly rule: by its own BYMONTH/BYMONTHDAY, or by a DTSTART that falls on 29 February. */
function isLeapDayYearly(o: Partial<Options>, dtstartWall: number): boolean {
  if (o.freq !== Frequency.YEARLY) return false;
  if (o.byyearday != null || o.byweekno != null || o.byweekday != null || o.bysetpos != null) return false;
  const start = new Date(dtstartWall);
  const months = o.bymonth == null ? [start.getUTCMonth() + 1] : ([] as number[]).concat(o.bymonth);
  const days = o.bymonthday == null ? [start.getUTCDate()] : ([] as number[]).concat(o.bymonthday);
  return months.length === 1 && months[0] === 2 && days.length === 1 && days[0] === 29;
}

/**
 * Calls `visit` with each occurrence (epoch ms) in order, strictly increasing, from the floor on, until it
 * returns false or the schedule runs out. COUNT (the schedule's or the rule's) counts the occurrences produced,
 * so a reminder created after its DTSTART still gets all of them.
 */
function expandRecurring(
  s: Extract<ReminderSchedule, { kind: 'recurring' }>,
  ctx: OccurrenceContext,
  horizon: number,
  visit: (at: number) => boolean,
): void {
  const parsed = parseRecurrenceRule(s.rrule);
  if (typeof parsed === 'string') throw new RangeError(`invalid RRULE: ${parsed}`);
  if (!DateTime.local().setZone(ctx.zone).isValid) return;

  const startsAt = s.starts_at ? new Date(s.starts_at) : undefined;
  const floor = Math.max(ctx.createdAt.getTime(), startsAt?.getTime() ?? -Infinity);
  const until = s.until ? new Date(s.until).getTime() : Infinity;
  // COUNT is applied below, on what is produced; an UNTIL inside the rule stays a reading on the local calendar.
  const { count: ruleCount, ...options } = parsed.options;
  const limit = s.count ?? ruleCount ?? Infinity;

  const dtstartWall =
    parsed.dtstart?.kind === 'wall'
      ? parsed.dtstart.wallMs
      : wallOf(parsed.dtstart?.kind === 'instant' ? parsed.dtstart.at : (startsAt ?? ctx.createdAt), ctx.zone);
  const dtstart = new Date(Math.floor(dtstartWall / MINUTE) * MINUTE);

  // "BYHOUR=9" means 09:00, not 09 and DTSTART's minutes; nothing is ever scheduled below the minute.
  if (options.byhour != null && options.byminute == null) options.byminute = [0];
  options.bysecond = [0];
  const leapDay = isLeapDayYearly(options, dtstart.getTime());
  if (leapDay) {
    // One date a year: the last day of February, which the leap-day rule then maps (29 Feb in leap years).
    options.bymonth = [2];
    options.bymonthday = [-1];
  }
  // The rule need not be expanded past the last reading that can still come before `until` and the horizon.
  const lastWall = wallOf(new Date(Math.min(until, horizon)), ctx.zone) + 2 * DAY;
  const rule = new RRule({
    ...options,
    dtstart,
    until: new Date(Math.min(options.until?.getTime() ?? Infinity, lastWall)),
    tzid: null,
  });

  let last = -Infinity;
  let produced = 0;
  rule.all((wall) => {
    let date = isoDate(wall.getTime());
    if (leapDay) date = celebrationDateIn('2000-02-29', wall.getUTCFullYear(), ctx.leapDayRule);
    const at = postInstant(date, `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}`, ctx.zone)?.getTime();
    if (at === undefined || at < floor || at <= last) return true;
    if (at > until || at > horizon) return false;
    last = at;
    produced += 1;
    return visit(at) && produced < limit;
  });
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
