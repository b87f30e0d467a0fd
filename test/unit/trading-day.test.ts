import { dayCloseClock, lastDayCloseAtOrBefore, parseDayClose } from '../../src/domain/trading-day';

const at = (iso: string, zone: string, close: string) => lastDayCloseAtOrBefore(new Date(iso), parseDayClose(zone, close)).toISOString();

describe('the end of the trading day a DAY order lives until', () => {
  test('UTC at 24:00: the midnight that began today', () => {
    expect(at('2026-12-01T10:17:27.123Z', 'UTC', '24:00')).toBe('2026-12-01T00:00:00.000Z');
    expect(at('2026-12-01T00:00:00.000Z', 'UTC', '24:00')).toBe('2026-12-01T00:00:00.000Z');
    expect(at('2026-11-30T23:59:59.999Z', 'UTC', '24:00')).toBe('2026-11-30T00:00:00.000Z');
  });

  test('New York at 16:00 in winter (EST, UTC−5) and summer (EDT, UTC−4)', () => {
    expect(at('2026-12-01T20:59:59.000Z', 'America/New_York', '16:00')).toBe('2026-11-30T21:00:00.000Z');
    expect(at('2026-12-01T21:00:00.000Z', 'America/New_York', '16:00')).toBe('2026-12-01T21:00:00.000Z');
    expect(at('2026-07-01T20:00:00.000Z', 'America/New_York', '16:00')).toBe('2026-07-01T20:00:00.000Z');
    expect(at('2026-07-01T19:59:00.000Z', 'America/New_York', '16:00')).toBe('2026-06-30T20:00:00.000Z');
  });

  test('across the switch to and from daylight saving time', () => {
    // 2026-03-08: clocks go 02:00 EST → 03:00 EDT; 2026-11-01: 02:00 EDT → 01:00 EST.
    expect(at('2026-03-09T19:30:00.000Z', 'America/New_York', '16:00')).toBe('2026-03-08T20:00:00.000Z');
    expect(at('2026-03-08T12:00:00.000Z', 'America/New_York', '16:00')).toBe('2026-03-07T21:00:00.000Z');
    expect(at('2026-11-01T20:30:00.000Z', 'America/New_York', '16:00')).toBe('2026-10-31T20:00:00.000Z');
    expect(at('2026-11-01T21:00:00.000Z', 'America/New_York', '16:00')).toBe('2026-11-01T21:00:00.000Z');
  });

  test('east of UTC: Tokyo at 15:00 (UTC+9) and Sydney at 16:00 across its date line from UTC', () => {
    expect(at('2026-12-01T05:59:00.000Z', 'Asia/Tokyo', '15:00')).toBe('2026-11-30T06:00:00.000Z');
    expect(at('2026-12-01T06:00:00.000Z', 'Asia/Tokyo', '15:00')).toBe('2026-12-01T06:00:00.000Z');
    // 2026-12-01 in Sydney is AEDT (UTC+11): 16:00 local is 05:00Z.
    expect(at('2026-11-30T23:00:00.000Z', 'Australia/Sydney', '16:00')).toBe('2026-11-30T05:00:00.000Z');
  });

  test('dayCloseClock answers as lastDayCloseAtOrBefore at every instant, forwards, backwards and across DST changes', () => {
    for (const [zone, close, from] of [
      ['America/New_York', '16:00', '2026-03-06T00:00:00Z'],
      ['America/New_York', '16:00', '2026-10-30T00:00:00Z'],
      ['Australia/Sydney', '16:00', '2026-04-03T00:00:00Z'],
      ['Australia/Lord_Howe', '02:15', '2026-04-03T00:00:00Z'],
      ['UTC', '24:00', '2026-11-30T00:00:00Z'],
    ] as const) {
      const dayClose = parseDayClose(zone, close);
      const clock = dayCloseClock(dayClose);
      const start = Date.parse(from);
      // Every 7 minutes over four days, then back again, then jumps across the span.
      const instants = Array.from({ length: 4 * 24 * 60 / 7 }, (_, i) => start + i * 7 * 60_000);
      for (const t of [...instants, ...[...instants].reverse(), start + 3 * 86_400_000, start, start + 86_400_000 - 1]) {
        expect([zone, new Date(t).toISOString(), clock(new Date(t)).toISOString()]).toEqual([zone, new Date(t).toISOString(), lastDayCloseAtOrBefore(new Date(t), dayClose).toISOString()]);
      }
    }
  });

  test('settings are checked', () => {
    expect(() => parseDayClose('Mars/Olympus', '16:00')).toThrow(/ORDER_DAY_TIMEZONE "Mars\/Olympus"/);
    for (const bad of ['00:00', '24:01', '16:60', '4pm', '9:30']) expect(() => parseDayClose('UTC', bad)).toThrow(/ORDER_DAY_CLOSE/);
    expect(parseDayClose('Europe/London', '16:30')).toEqual({ timeZone: 'Europe/London', minutes: 990 });
  });
});
