/**
 * The end of a trading day, for DAY orders: a wall-clock time in an IANA time zone (one clock
 * for every security: the security master has no exchange calendar, so neither holidays nor
 * weekends are known here; a day is a calendar day in that zone).
 */
export interface DayClose {
  timeZone: string;
  /** Minutes after local midnight, 1..1440 (1440 is the end of the calendar day, 24:00). */
  minutes: number;
}

const HH_MM = /^(\d{2}):(\d{2})$/;

/** Parses `ORDER_DAY_TIMEZONE` and `ORDER_DAY_CLOSE` (`HH:MM`, 00:01–24:00); throws on anything else. */
export function parseDayClose(timeZone: string, close: string): DayClose {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`ORDER_DAY_TIMEZONE "${timeZone}" is not an IANA time zone`);
  }
  const m = HH_MM.exec(close);
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || minutes < 1 || minutes > 1440) throw new Error(`ORDER_DAY_CLOSE "${close}" must be HH:MM between 00:01 and 24:00`);
  return { timeZone, minutes };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `t` in `timeZone`. */
function wallClock(t: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  const part = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return { y: Number(part.year), mo: Number(part.month), d: Number(part.day), h: Number(part.hour), mi: Number(part.minute), s: Number(part.second) };
}

/** How far `timeZone` is ahead of UTC at instant `t`, in ms (whole seconds). */
function offsetAt(t: number, timeZone: string): number {
  const w = wallClock(t, timeZone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000;
}

/** The instant the wall clock in `timeZone` shows `minutes` after midnight of local day y-mo-d (Date.UTC normalises overflow). */
function instantOf(y: number, mo: number, d: number, minutes: number, timeZone: string): number {
  const wall = Date.UTC(y, mo - 1, d, 0, minutes);
  // The offset at the guess can differ from the offset at the answer across a DST change: take it twice.
  const first = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(first, timeZone);
}

/** The latest end of a trading day at or before `now`: a DAY order placed before it has expired. */
export function lastDayCloseAtOrBefore(now: Date, close: DayClose): Date {
  const t = now.getTime();
  const w = wallClock(t, close.timeZone);
  const today = instantOf(w.y, w.mo, w.d, close.minutes, close.timeZone);
  return new Date(today <= t ? today : instantOf(w.y, w.mo, w.d - 1, close.minutes, close.timeZone));
}

/**
 * lastDayCloseAtOrBefore for a caller that asks on every fill: the answer stays the same from one
 * close until the next, so it is worked out again only when `now` leaves that span (each answer
 * costs a few Intl formattings, ~20 µs of CPU).
 */
export function dayCloseClock(close: DayClose): (now: Date) => Date {
  let from = Infinity;
  let until = -Infinity;
  let last = new Date(0);
  return (now) => {
    const t = now.getTime();
    if (t < from || t >= until) {
      last = lastDayCloseAtOrBefore(now, close);
      from = last.getTime();
      // Consecutive closes are 23–25 h apart (a change of UTC offset moves one by an hour or
      // less): 36 h after this close is past the next one and before the one after that.
      until = lastDayCloseAtOrBefore(new Date(from + 36 * 3_600_000), close).getTime();
    }
    return last;
  };
}
