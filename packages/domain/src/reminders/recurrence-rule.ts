// Reading a reminder's RRULE (RFC 5545) with the rrule library, and checking it before it is saved. The library is
// lenient (it accepts BYHOUR=25, COUNT=x, an empty rule), so the parsed options are range-checked here: the API
// answers 422 for a bad rule instead of storing one that throws or loops later in the scan.
import * as rruleModule from 'rrule';
import type { Options } from 'rrule';

// rrule's main entry is CommonJS, whose named exports Node cannot all see from ESM: under Node they hang off
// `default`, under a bundler (which reads its ESM build) off the namespace itself.
const rrule = (rruleModule as unknown as { default?: typeof rruleModule }).default ?? rruleModule;
export const { RRule, Frequency } = rrule;

export interface ParsedRecurrenceRule {
  /** The RRULE options (no DTSTART, no TZID). */
  options: Partial<Options>;
  /** A DTSTART given in the rule: a wall-clock time in the schedule's zone or, with a trailing Z, an instant. */
  dtstart?: { kind: 'wall'; wallMs: number } | { kind: 'instant'; at: Date };
}

const DTSTART_LINE = /^DTSTART(;TZID=[^:;]+)?:(\d{8}(T\d{6}Z?)?)$/i;

function isIntIn(v: unknown, lo: number, hi: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

function asList<T>(v: T | T[] | null | undefined): T[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Why `rrule` is not a rule a reminder can follow, or null when it is. */
export function recurrenceRuleError(rrule: string): string | null {
  const parsed = parseRecurrenceRule(rrule);
  return typeof parsed === 'string' ? parsed : null;
}

/** The rule's parts, or a message saying what is wrong with it. */
export function parseRecurrenceRule(rrule: string): ParsedRecurrenceRule | string {
  const lines = rrule
    .trim()
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const dtLines = lines.filter((l) => /^DTSTART/i.test(l));
  const ruleLines = lines.filter((l) => !/^DTSTART/i.test(l));
  if (dtLines.length > 1) return 'must have at most one DTSTART';
  if (ruleLines.length !== 1) return 'must hold exactly one RRULE (RDATE and EXDATE are not supported)';
  const ruleLine = (ruleLines[0] as string).replace(/^RRULE:/i, '');
  if (!/^[A-Z]+=/i.test(ruleLine)) return 'is not an RRULE';

  let options: Partial<Options>;
  try {
    options = RRule.parseString(ruleLine);
  } catch (err) {
    return `is not a valid RRULE: ${(err as Error).message}`;
  }
  const problem = rangeProblem(options, ruleLine) ?? combinationProblem(options) ?? emptinessProblem(options);
  if (problem) return problem;

  let dtstart: ParsedRecurrenceRule['dtstart'];
  if (dtLines.length === 1) {
    const m = DTSTART_LINE.exec(dtLines[0] as string);
    if (!m) return 'has a malformed DTSTART (use DTSTART:YYYYMMDDTHHMMSS)';
    if (m[1]) return "DTSTART takes no TZID: it is read in the schedule's timezone";
    let parsedStart: Partial<Options>;
    try {
      parsedStart = RRule.parseString(dtLines[0] as string);
    } catch (err) {
      return `has an invalid DTSTART: ${(err as Error).message}`;
    }
    const at = parsedStart.dtstart;
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) return 'has an invalid DTSTART';
    dtstart = (m[2] as string).toUpperCase().endsWith('Z')
      ? { kind: 'instant', at }
      : { kind: 'wall', wallMs: at.getTime() };
  }
  return { options, dtstart };
}

function rangeProblem(o: Partial<Options>, raw: string): string | null {
  if (o.freq === undefined || o.freq === null) return 'must name a FREQ';
  if (o.freq === Frequency.SECONDLY || o.freq === Frequency.MINUTELY) {
    return 'FREQ must be HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY';
  }
  if (o.interval !== undefined && !isIntIn(o.interval, 1, 1000)) return 'INTERVAL must be an integer from 1 to 1000';
  if (o.count !== undefined && o.count !== null && !isIntIn(o.count, 1, 100_000)) {
    return 'COUNT must be a positive integer';
  }
  if (o.until !== undefined && o.until !== null && Number.isNaN(o.until.getTime())) return 'UNTIL is not a date';
  if (o.count != null && o.until != null) return 'COUNT and UNTIL cannot both be given';
  if (/(^|;)WKST=/i.test(raw) && o.wkst === undefined) return 'WKST is not a weekday';
  const checks: [keyof Options, string, (v: number) => boolean][] = [
    ['bymonth', 'BYMONTH must be from 1 to 12', (v) => isIntIn(v, 1, 12)],
    ['bymonthday', 'BYMONTHDAY must be from 1 to 31 or -31 to -1', (v) => isIntIn(v, -31, 31) && v !== 0],
    ['byyearday', 'BYYEARDAY must be from 1 to 366 or -366 to -1', (v) => isIntIn(v, -366, 366) && v !== 0],
    ['byweekno', 'BYWEEKNO must be from 1 to 53 or -53 to -1', (v) => isIntIn(v, -53, 53) && v !== 0],
    ['byhour', 'BYHOUR must be from 0 to 23', (v) => isIntIn(v, 0, 23)],
    ['byminute', 'BYMINUTE must be from 0 to 59', (v) => isIntIn(v, 0, 59)],
    ['bysecond', 'BYSECOND must be 0: reminders are scheduled to the minute', (v) => v === 0],
    ['bysetpos', 'BYSETPOS must be from 1 to 366 or -366 to -1', (v) => isIntIn(v, -366, 366) && v !== 0],
  ];
  for (const [key, message, ok] of checks) {
    for (const v of asList(o[key] as number | number[] | null | undefined)) if (!ok(v)) return message;
  }
  for (const w of asList(o.byweekday as unknown)) {
    if (w === null || w === undefined)
      return 'BYDAY must list weekdays (MO, TU, WE, TH, FR, SA, SU, optionally numbered)';
    const n = (w as { n?: number }).n;
    if (n !== undefined && n !== null && !(isIntIn(n, -53, 53) && n !== 0)) return 'BYDAY has an invalid ordinal';
  }
  return null;
}

function ordinalsOf(o: Partial<Options>): number[] {
  return asList(o.byweekday as unknown)
    .map((w) => (w as { n?: number | null }).n)
    .filter((n): n is number => typeof n === 'number' && n !== 0);
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The BY parts RFC 5545 does not allow with the rule's FREQ (the library would silently read them otherwise), and
 * the INTERVALs that, from a start the caller does not control (the creation time), may never reach the hours,
 * weekdays or months the rule names: every other hour never meets BYHOUR=3 from an even hour.
 */
function combinationProblem(o: Partial<Options>): string | null {
  const interval = o.interval ?? 1;
  if (o.freq === Frequency.HOURLY && o.byhour != null && gcd(interval, 24) > 1) {
    return 'with FREQ=HOURLY and BYHOUR, INTERVAL must have no factor in common with 24';
  }
  if (o.freq === Frequency.DAILY && o.byweekday != null && interval % 7 === 0) {
    return 'with FREQ=DAILY and BYDAY, INTERVAL cannot be a multiple of 7 (use FREQ=WEEKLY)';
  }
  if (o.freq === Frequency.MONTHLY && o.bymonth != null && gcd(interval, 12) > 1) {
    return 'with FREQ=MONTHLY and BYMONTH, INTERVAL must have no factor in common with 12 (use FREQ=YEARLY)';
  }
  const monthlyOrYearly = o.freq === Frequency.MONTHLY || o.freq === Frequency.YEARLY;
  if (o.byweekno != null && o.freq !== Frequency.YEARLY) return 'BYWEEKNO is only allowed with FREQ=YEARLY';
  if (o.byyearday != null && [Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY].includes(o.freq as never)) {
    return 'BYYEARDAY is not allowed with FREQ=DAILY, WEEKLY or MONTHLY';
  }
  if (o.bymonthday != null && o.freq === Frequency.WEEKLY) return 'BYMONTHDAY is not allowed with FREQ=WEEKLY';
  if (o.bysetpos != null && !monthlyOrYearly) return 'BYSETPOS is supported with FREQ=MONTHLY or YEARLY only';
  const ordinals = ordinalsOf(o);
  if (ordinals.length && !monthlyOrYearly) return 'a numbered BYDAY (such as 1MO) needs FREQ=MONTHLY or YEARLY';
  const monthScoped = o.freq === Frequency.MONTHLY || o.bymonth != null;
  if (monthScoped && ordinals.some((n) => Math.abs(n) > 5)) return 'a numbered BYDAY within a month is from -5 to 5';
  return null;
}

const PROBE_START = new Date(Date.UTC(2000, 0, 1));

/**
 * A rule whose BY parts no date satisfies (BYMONTH=2;BYMONTHDAY=30) would make the library iterate up to the year
 * 9999 on every expansion, as it checks UNTIL only on a matching date. Such a rule is refused here, by probes that
 * stay cheap even when they find nothing: the day filters alone under FREQ=YEARLY (one step a year), then, when
 * BYSETPOS or a numbered BYDAY can still empty the set, the rule itself (MONTHLY or YEARLY only, see above).
 */
function emptinessProblem(o: Partial<Options>): string | null {
  const NONE = 'matches no date';
  const dayParts = {
    bymonth: o.bymonth,
    byweekno: o.byweekno,
    byyearday: o.byyearday,
    bymonthday: o.bymonthday,
    byweekday:
      o.byweekday == null ? undefined : asList(o.byweekday as unknown).map((w) => (w as { weekday: number }).weekday),
  };
  if (Object.values(dayParts).every((v) => v == null)) return null;
  const filters = new RRule({ freq: Frequency.YEARLY, dtstart: PROBE_START, ...(dayParts as Partial<Options>) });
  if (!filters.after(PROBE_START, true)) return NONE;
  if (o.bysetpos == null && !ordinalsOf(o).length) return null;
  const { count: _count, until: _until, ...rest } = o;
  const rule = new RRule({ ...rest, dtstart: PROBE_START });
  return rule.after(PROBE_START, true) ? null : NONE;
}
