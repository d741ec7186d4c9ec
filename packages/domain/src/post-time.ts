// When a workspace's post time falls on a local date, as an instant, DST included. Luxon resolves a wall time
// that a DST change skips by moving it forward by the gap, and a repeated one to the later offset; the issue asks
// for the first instant after the gap and for the first occurrence, so both cases are resolved here.
import { DateTime } from 'luxon';

const MINUTE = 60_000;

/** The wall-clock reading at an instant, as milliseconds of a UTC calendar (so readings compare as numbers). */
function wallClockMs(instantMs: number, zone: string): number {
  return instantMs + DateTime.fromMillis(instantMs, { zone }).offset * MINUTE;
}

/**
 * The first instant at which the clock in `timezone` reads `postTime` (`HH:MM`) on `localDate` (`YYYY-MM-DD`),
 * or, when a DST gap skips that reading, the first instant after the gap. Undefined for an unknown zone or a
 * malformed date or time.
 */
export function postInstant(localDate: string, postTime: string, timezone: string): Date | undefined {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(localDate);
  const t = /^(\d{2}):(\d{2})$/.exec(postTime);
  if (!d || !t || !DateTime.local().setZone(timezone).isValid) return undefined;
  const wall = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2]));
  if (Number.isNaN(wall)) return undefined;

  // Every offset the zone may use around that wall time; each gives an instant that reads `wall` if it is valid.
  const offsets = new Set(
    [-1, 0, 1].map((days) => DateTime.fromMillis(wall + days * 86_400_000, { zone: timezone }).offset),
  );
  const candidates = [...offsets].map((o) => wall - o * MINUTE).sort((a, b) => a - b);
  const exact = candidates.find((i) => wallClockMs(i, timezone) === wall);
  if (exact !== undefined) return new Date(exact);

  // A gap: the wall clock jumps over `wall` somewhere between the candidates; find the first instant past it.
  let lo = candidates[0] as number;
  let hi = candidates[candidates.length - 1] as number;
  if (wallClockMs(hi, timezone) < wall) return undefined;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClockMs(mid, timezone) >= wall) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

/** Whether the post time of `localDate` has come at `now`. */
export function isPostTimeReached(now: Date, localDate: string, postTime: string, timezone: string): boolean {
  const at = postInstant(localDate, postTime, timezone);
  return at !== undefined && now.getTime() >= at.getTime();
}
