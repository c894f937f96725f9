/**
 * Wall-clock times in a named time zone, for the two legacy APIs whose dates carry no offset
 * (LiveMinutes `yyyy-MM-dd HH:mm:ss`, Livebox `dd-mm-yyyy hr:min:sec`). The account's time zone
 * says what they mean; the core itself only stores instants (UTC).
 */

export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isValidWallClock(w: WallClock): boolean {
  return (
    w.year >= 1970 && w.year <= 9999 &&
    w.month >= 1 && w.month <= 12 &&
    w.day >= 1 && w.day <= daysInMonth(w.year, w.month) &&
    w.hour >= 0 && w.hour <= 23 &&
    w.minute >= 0 && w.minute <= 59 &&
    w.second >= 0 && w.second <= 59
  );
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function wallClockIn(instant: Date, tz: string): WallClock {
  if (tz === 'UTC') {
    // The common case, without Intl (formatToParts costs tens of µs).
    return {
      year: instant.getUTCFullYear(), month: instant.getUTCMonth() + 1, day: instant.getUTCDate(),
      hour: instant.getUTCHours(), minute: instant.getUTCMinutes(), second: instant.getUTCSeconds(),
    };
  }
  const parts: Record<string, number> = {};
  for (const p of formatterFor(tz).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

function wallAsUtcMs(w: WallClock): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/**
 * The instant at which clocks in `tz` show `w`. A time in a DST gap (that never happens) moves
 * forward by the gap, as calendars do; a time in an overlap is the earlier instant.
 */
export function instantOf(w: WallClock, tz: string): Date {
  const guess = wallAsUtcMs(w);
  if (tz === 'UTC') return new Date(guess);
  // Two refinements converge for every real zone: offset at the guess, then at the corrected time.
  let t = guess - (wallAsUtcMs(wallClockIn(new Date(guess), tz)) - guess);
  t = guess - (wallAsUtcMs(wallClockIn(new Date(t), tz)) - t);
  const earlier = t - 3600_000;
  if (wallAsUtcMs(wallClockIn(new Date(earlier), tz)) === guess) return new Date(earlier);
  return new Date(t);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `yyyy-MM-dd HH:mm:ss` (LiveMinutes). */
export function parseIsoLocal(text: string): WallClock | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const w = { year: +m[1], month: +m[2], day: +m[3], hour: +m[4], minute: +m[5], second: +m[6] };
  return isValidWallClock(w) ? w : null;
}

/** `dd-mm-yyyy hr:min:sec` (Livebox), 24-hour clock. */
export function parseDayFirst(text: string): WallClock | null {
  const m = /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const w = { year: +m[3], month: +m[2], day: +m[1], hour: +m[4], minute: +m[5], second: +m[6] };
  return isValidWallClock(w) ? w : null;
}

export function formatIsoLocal(instant: Date, tz: string): string {
  const w = wallClockIn(instant, tz);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

export function formatDayFirst(instant: Date, tz: string): string {
  const w = wallClockIn(instant, tz);
  return `${pad(w.day)}-${pad(w.month)}-${pad(w.year, 4)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

const LONG_DATE = (timeZone: string) => new Intl.DateTimeFormat('en-GB', {
  timeZone, dateStyle: 'full', timeStyle: 'short',
});

/** A start time in words, in the organiser's time zone (link pages, the room's countdown). */
export function formatStart(startsAt: Date, timeZone: string): string {
  return `${LONG_DATE(timeZone).format(startsAt)} (${timeZone})`;
}
