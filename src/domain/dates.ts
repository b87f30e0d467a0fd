import { DomainError } from './errors';

/**
 * Calendar-date arithmetic on `YYYY-MM-DD` strings (the API's `Date` scalar).
 * Pure integer math on the proleptic Gregorian calendar; no `Date` objects, so
 * no time zones and no two-digit-year quirks.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

interface YMD {
  y: number;
  m: number;
  d: number;
}

/** Parses a strict `YYYY-MM-DD` calendar date; throws BAD_USER_INPUT otherwise. */
function parse(date: string, field: string): YMD {
  const match = typeof date === 'string' ? ISO_DATE.exec(date) : null;
  if (match) {
    const y = Number(match[1]);
    const m = Number(match[2]);
    const d = Number(match[3]);
    if (y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)) return { y, m, d };
  }
  throw new DomainError('BAD_USER_INPUT', `${field} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(date)}`);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function format({ y, m, d }: YMD): string {
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Throws BAD_USER_INPUT unless `date` is a valid `YYYY-MM-DD` calendar date. */
export function assertIsoDate(date: string, field = 'date'): void {
  parse(date, field);
}

/** Days since 1970-01-01 (negative before it). Howard Hinnant's days_from_civil. */
export function toEpochDay(date: string, field = 'date'): number {
  const { y: y0, m, d } = parse(date, field);
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Signed number of calendar days from `from` to `to` (to − from). */
export function daysBetween(from: string, to: string): number {
  return toEpochDay(to, 'to') - toEpochDay(from, 'from');
}

/**
 * The same calendar day `years` years later. 29 February maps to 28 February
 * in a non-leap target year (the last day of the same month).
 */
export function addYears(date: string, years: number): string {
  const { y, m, d } = parse(date, 'date');
  const ty = y + years;
  return format({ y: ty, m, d: Math.min(d, daysInMonth(ty, m)) });
}

/**
 * Actual calendar days a position was held: soldOn − acquiredOn (0 when sold
 * the day it was bought). Throws BAD_USER_INPUT when soldOn is before acquiredOn.
 */
export function holdingDays(acquiredOn: string, soldOn: string): number {
  const days = toEpochDay(soldOn, 'soldOn') - toEpochDay(acquiredOn, 'acquiredOn');
  if (days < 0) {
    throw new DomainError('BAD_USER_INPUT', `soldOn ${soldOn} is before acquiredOn ${acquiredOn}`);
  }
  return days;
}

/**
 * Long-term = held MORE than one year (IRS Publication 550, "Holding Period":
 * count from the day after acquisition through the day of disposal). That is:
 * sold strictly after the first anniversary of the acquisition date.
 *   bought 2023-01-10 → sold 2024-01-10 short-term, 2024-01-11 long-term.
 * A 29 February purchase has its anniversary on 28 February of the next year,
 * so it becomes long-term on 1 March:
 *   bought 2024-02-29 → sold 2025-02-28 short-term, 2025-03-01 long-term.
 * Note that day counts alone do not decide it: bought 2023-03-01, sold
 * 2024-03-01 is 366 days and still short-term (the year spans 29 Feb 2024).
 */
export function isLongTerm(acquiredOn: string, soldOn: string): boolean {
  holdingDays(acquiredOn, soldOn); // validates both dates and their order
  return toEpochDay(soldOn, 'soldOn') > toEpochDay(addYears(acquiredOn, 1), 'acquiredOn');
}
