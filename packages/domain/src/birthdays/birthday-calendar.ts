// Which birthdays a workspace celebrates on its local day. Shared by the API (listings, "upcoming") and the
// birthdays worker (the daily post), so the leap-day rule is written once.
import { DateTime } from 'luxon';

export type LeapDayRule = 'feb28' | 'mar1';

const LEAP_DAY_MD = 229;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** month × 100 + day, as stored in birthdays.birth_md. */
export function birthMdOf(isoDate: string): number {
  const [, m, d] = isoDate.split('-').map(Number);
  return (m ?? 0) * 100 + (d ?? 0);
}

/** The calendar date (`YYYY-MM-DD`) at `now` in an IANA timezone; undefined for an unknown zone. */
export function localDateAt(now: Date, timezone: string): string | undefined {
  const dt = DateTime.fromJSDate(now, { zone: timezone });
  return dt.isValid ? (dt.toISODate() ?? undefined) : undefined;
}

/**
 * localDateAt that remembers, per zone, the day it answered and that day's bounds, and answers again without luxon
 * while `now` is inside them. The cached birthdays listing asks for its workspace's date on every read, and luxon's
 * zone conversion was a few percent of that request's CPU.
 */
export function localDateClock(): (now: Date, timezone: string) => string | undefined {
  const days = new Map<string, { date: string; from: number; until: number }>();
  return (now, timezone) => {
    const t = now.getTime();
    const known = days.get(timezone);
    if (known && t >= known.from && t < known.until) return known.date;
    const dt = DateTime.fromMillis(t, { zone: timezone });
    const date = dt.isValid ? dt.toISODate() : null;
    if (!date) return undefined;
    const day = dt.startOf('day');
    days.set(timezone, { date, from: day.toMillis(), until: day.plus({ days: 1 }).toMillis() });
    return date;
  };
}

/**
 * The birth_md values celebrated on a local date. In a common year a 29 February birthday is celebrated on
 * 28 February (`feb28`) or on 1 March (`mar1`): on 28 Feb 2027 with feb28, {228, 229}.
 */
export function celebratedBirthMds(localDate: string, rule: LeapDayRule): number[] {
  const year = Number(localDate.slice(0, 4));
  const md = birthMdOf(localDate);
  if (isLeapYear(year)) return [md];
  if ((rule === 'feb28' && md === 228) || (rule === 'mar1' && md === 301)) return [md, LEAP_DAY_MD];
  return [md];
}

/**
 * Every birth_md that may be "today" somewhere at `now`, whatever the zone and leap-day rule. Local dates span
 * UTC−12 to UTC+14, so the UTC date ± 1 day covers them all: at most five values, which is what lets the
 * scheduler read birthdays through the birth_md index instead of scanning workspaces or users.
 */
export function candidateBirthMds(now: Date): number[] {
  const utc = DateTime.fromJSDate(now, { zone: 'utc' });
  const mds = new Set<number>();
  for (const offsetDays of [-1, 0, 1]) {
    const date = utc.plus({ days: offsetDays }).toISODate() as string;
    for (const rule of ['feb28', 'mar1'] as const) for (const md of celebratedBirthMds(date, rule)) mds.add(md);
  }
  return [...mds].sort((a, b) => a - b);
}

/** The date (`YYYY-MM-DD`) on which a birthday is celebrated in `year`, applying the leap-day rule. */
export function celebrationDateIn(dateOfBirth: string, year: number, rule: LeapDayRule): string {
  const md = birthMdOf(dateOfBirth);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (md === LEAP_DAY_MD && !isLeapYear(year)) return rule === 'mar1' ? `${year}-03-01` : `${year}-02-28`;
  return `${year}-${pad(Math.floor(md / 100))}-${pad(md % 100)}`;
}
