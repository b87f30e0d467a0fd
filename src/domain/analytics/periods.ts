import { D, ONE, dec } from '../decimal';
import { DomainError } from '../errors';
import { addYears, assertIsoDate, daysBetween, daysInMonth } from '../dates';

/**
 * Reporting periods. A period `from`..`to` runs from the CLOSE of `from` to the
 * close of `to` (API.md), so "month to date" starts at the close of the last
 * day of the previous month, and so on.
 */
export type PeriodCode = 'MTD' | 'QTD' | 'YTD' | '1Y' | '3Y' | '5Y' | 'ITD';

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Last calendar day of month `m` (1..12) of year `y`; m = 0 means December of y − 1. */
function monthEnd(y: number, m: number): string {
  const yy = m === 0 ? y - 1 : y;
  const mm = m === 0 ? 12 : m;
  return `${String(yy).padStart(4, '0')}-${pad2(mm)}-${pad2(daysInMonth(yy, mm))}`;
}

/**
 * The `from` date of a period ending at `asOf`:
 *   MTD → last day of the previous month      (2024-03-15 → 2024-02-29)
 *   QTD → last day of the previous quarter    (2024-05-10 → 2024-03-31)
 *   YTD → 31 December of the previous year    (2024-05-10 → 2023-12-31)
 *   1Y/3Y/5Y → same calendar day N years back; 29 Feb → 28 Feb (2024-02-29 1Y → 2023-02-28)
 *   ITD → `inception`, which must be given: the first date with a funded NAV.
 * `from` is not clamped to inception for the other codes; the caller decides
 * what to show for a portfolio younger than the period.
 */
export function periodStart(asOf: string, period: PeriodCode, inception?: string): string {
  assertIsoDate(asOf, 'asOf');
  const y = Number(asOf.slice(0, 4));
  const m = Number(asOf.slice(5, 7));
  switch (period) {
    case 'MTD':
      return monthEnd(y, m - 1);
    case 'QTD':
      return monthEnd(y, Math.floor((m - 1) / 3) * 3);
    case 'YTD':
      return monthEnd(y, 0);
    case '1Y':
      return addYears(asOf, -1);
    case '3Y':
      return addYears(asOf, -3);
    case '5Y':
      return addYears(asOf, -5);
    case 'ITD': {
      if (inception === undefined) throw new DomainError('BAD_USER_INPUT', 'ITD needs the inception date');
      assertIsoDate(inception, 'inception');
      if (daysBetween(inception, asOf) < 0) {
        throw new DomainError('BAD_USER_INPUT', `inception ${inception} is after asOf ${asOf}`);
      }
      return inception;
    }
    default: {
      const never: never = period;
      throw new DomainError('BAD_USER_INPUT', `unknown period ${String(never)}`);
    }
  }
}

/** True when `from`..`to` is longer than one calendar year (to > from + 1 year). */
export function isLongerThanOneYear(from: string, to: string): boolean {
  return daysBetween(addYears(from, 1), to) > 0;
}

/**
 * Annualizes a cumulative return R over `from`..`to` when the period is longer
 * than one calendar year: (1 + R)^(365 / days) − 1, actual/365 like XIRR.
 * Periods of a year or less are returned unchanged (a 1Y return is never
 * "annualized" over 366 days in a leap year). R = −1 stays −1.
 */
export function annualize(cumulative: D, from: string, to: string): D {
  if (!isLongerThanOneYear(from, to)) return cumulative;
  const growth = ONE.plus(cumulative);
  if (growth.lt(0)) {
    throw new DomainError('BAD_USER_INPUT', 'a cumulative return below −100% cannot be annualized');
  }
  if (growth.isZero()) return ONE.neg();
  return growth.pow(dec(365).div(daysBetween(from, to))).minus(ONE);
}
