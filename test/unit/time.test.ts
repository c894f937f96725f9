import { describe, expect, it } from 'vitest';
import { formatDayFirst, formatIsoLocal, instantOf, parseDayFirst, parseIsoLocal } from '../../src/core/time.js';

describe('legacy date formats', () => {
  it('parses yyyy-MM-dd HH:mm:ss and rejects impossible dates', () => {
    expect(parseIsoLocal('2026-12-01 10:30:05')).toEqual({ year: 2026, month: 12, day: 1, hour: 10, minute: 30, second: 5 });
    expect(parseIsoLocal('2026-02-29 10:00:00')).toBeNull(); // not a leap year
    expect(parseIsoLocal('2028-02-29 10:00:00')).not.toBeNull();
    expect(parseIsoLocal('2026-13-01 10:00:00')).toBeNull();
    expect(parseIsoLocal('2026-12-01 24:00:00')).toBeNull();
    expect(parseIsoLocal('2026-12-01T10:00:00')).toBeNull();
    expect(parseIsoLocal('01-12-2026 10:00:00')).toBeNull();
  });

  it('parses dd-mm-yyyy hr:min:sec and rejects 31-02', () => {
    expect(parseDayFirst('01-12-2026 10:30:05')).toEqual({ year: 2026, month: 12, day: 1, hour: 10, minute: 30, second: 5 });
    expect(parseDayFirst('31-02-2027 10:00:00')).toBeNull();
    expect(parseDayFirst('2027-02-01 10:00:00')).toBeNull();
    expect(parseDayFirst('01-02-2027 10:60:00')).toBeNull();
  });
});

describe('time zones', () => {
  it('reads wall-clock times in the account time zone', () => {
    const w = parseIsoLocal('2026-12-01 10:00:00')!;
    expect(instantOf(w, 'UTC').toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(instantOf(w, 'Europe/Paris').toISOString()).toBe('2026-12-01T09:00:00.000Z');
    expect(instantOf(w, 'Asia/Kolkata').toISOString()).toBe('2026-12-01T04:30:00.000Z');
    expect(instantOf(w, 'America/New_York').toISOString()).toBe('2026-12-01T15:00:00.000Z');
  });

  it('handles summer time, its gap and its overlap', () => {
    expect(instantOf(parseIsoLocal('2026-07-01 10:00:00')!, 'Europe/Paris').toISOString()).toBe('2026-07-01T08:00:00.000Z');
    // 02:30 does not exist on 2026-03-29 in Paris: it moves forward by the gap, to 03:30 CEST.
    expect(instantOf(parseIsoLocal('2026-03-29 02:30:00')!, 'Europe/Paris').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 2026-10-25: the earlier one.
    expect(instantOf(parseIsoLocal('2026-10-25 02:30:00')!, 'Europe/Paris').toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('formats instants back in the same zone', () => {
    const d = new Date('2026-12-01T09:05:07Z');
    expect(formatIsoLocal(d, 'Europe/Paris')).toBe('2026-12-01 10:05:07');
    expect(formatDayFirst(d, 'Asia/Kolkata')).toBe('01-12-2026 14:35:07');
    for (const tz of ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe']) {
      expect(instantOf(parseIsoLocal(formatIsoLocal(d, tz))!, tz).getTime()).toBe(d.getTime());
    }
  });
});
