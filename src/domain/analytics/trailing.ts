import { D, ZERO, ONE } from '../decimal';
import { DomainError } from '../errors';
import type { FxTable } from '../fx';
import type { PriceSeries } from '../nav-series';
import { cumulativeSeries } from './performance';
import { annualize, isLongerThanOneYear, periodStart, type PeriodCode } from './periods';
import type { NavPoint } from './types';

/**
 * Helpers that compose the tested formulas for the API: slicing a stored NAV series to a
 * period, trailing period returns, and the value series of constant holdings.
 */

/**
 * The points of the period from..to: the last point on or before `from` (the starting
 * close), then every point after `from` up to `to`. `from` before the first point (before
 * the first transaction) → BAD_USER_INPUT.
 */
export function slicePeriod(all: readonly NavPoint[], from: string, to: string): NavPoint[] {
  if (from > to) throw new DomainError('BAD_USER_INPUT', `from ${from} is after to ${to}`);
  if (!all.length) throw new DomainError('BAD_USER_INPUT', 'the portfolio has no NAV history yet (no transactions)');
  const first = all[0]!.date;
  if (from < first) throw new DomainError('BAD_USER_INPUT', `from ${from} is before the portfolio's first NAV point ${first} (its first transaction)`);
  let start = -1;
  for (let i = 0; i < all.length && all[i]!.date <= from; i++) start = i;
  const out: NavPoint[] = [all[start]!];
  for (let i = start + 1; i < all.length && all[i]!.date <= to; i++) out.push(all[i]!);
  return out;
}

export const TRAILING_PERIODS: PeriodCode[] = ['MTD', 'QTD', 'YTD', '1Y', '3Y', '5Y', 'ITD'];

export interface TrailingReturn {
  period: PeriodCode;
  from: string;
  to: string;
  return: D | null;
  annualized: boolean;
}

/**
 * Trailing TWRs ending at the last point of `all` (all = inception..asOf). One pass of the
 * cumulative TWR; a period's return is G(to)/G(start) − 1 with G the growth index at the
 * last point on or before its start, annualized beyond one year. `precomputed` is
 * cumulativeSeries(all) when the caller already has it. A period starting before
 * inception has no return (null), except ITD which starts at inception.
 */
export function trailingReturns(all: readonly NavPoint[], precomputed?: readonly { date: string; cumulative: D }[]): TrailingReturn[] {
  if (!all.length) return [];
  const cum = precomputed ?? cumulativeSeries(all);
  const inception = all[0]!.date;
  const asOf = all[all.length - 1]!.date;
  // G at the last point on or before `date` (binary search; 1 before the first point).
  const growthAt = (date: string): D => {
    let lo = 0;
    let hi = cum.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]!.date <= date) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? ONE : ONE.plus(cum[lo - 1]!.cumulative);
  };
  const end = ONE.plus(cum[cum.length - 1]!.cumulative);
  return TRAILING_PERIODS.map((period) => {
    const from = periodStart(asOf, period, inception);
    if (from < inception) return { period, from, to: asOf, return: null, annualized: false };
    const g0 = growthAt(from);
    const r = g0.isZero() ? ZERO : end.div(g0).minus(ONE);
    return { period, from, to: asOf, return: annualize(r, from, asOf), annualized: isLongerThanOneYear(from, asOf) };
  });
}

/**
 * Value in the base currency, at each day's close, of constant quantities and cash:
 * Σ q × close(≤ day) × FX(≤ day) + Σ cash × FX(≤ day), as NAV points without flows (so the
 * risk functions apply). A security with no close on or before a day is valued at `fallback`.
 */
export function constantHoldingsSeries(
  base: string,
  quantities: ReadonlyMap<string, { quantity: D; currency: string; fallback: D | null }>,
  cash: ReadonlyMap<string, D>,
  prices: ReadonlyMap<string, PriceSeries>,
  fx: FxTable,
  days: readonly string[],
): NavPoint[] {
  const pointer = new Map<string, number>();
  return days.map((day) => {
    let v: D = ZERO;
    for (const [sid, h] of quantities) {
      if (h.quantity.isZero()) continue;
      const s = prices.get(sid);
      let i = pointer.get(sid) ?? -1;
      if (s) while (i + 1 < s.dates.length && s.dates[i + 1]! <= day) i++;
      pointer.set(sid, i);
      const px = s && i >= 0 ? s.closes[i]! : h.fallback;
      const r = fx.convertRate(h.currency, base, day);
      if (px && r) v = v.plus(h.quantity.times(px).times(r.rate));
    }
    for (const [ccy, bal] of cash) {
      const r = fx.convertRate(ccy, base, day);
      if (r) v = v.plus(bal.times(r.rate));
    }
    return { date: day, nav: v, netFlow: ZERO };
  });
}
