import { D, ZERO, ONE, dec, sum } from '../decimal';
import { DomainError } from '../errors';
import { decimalOf, divide, minus, unitsOf } from '../fixed';
import { daysBetween, toEpochDay } from '../dates';
import type { NavPoint } from './types';
import { xirr, type CashFlow } from './xirr';
import { annualize, isLongerThanOneYear } from './periods';

export type { NavPoint } from './types';
export { xirr, type CashFlow, type XirrResult, type XirrFailure, type XirrOptions } from './xirr';
export { periodStart, annualize, isLongerThanOneYear, type PeriodCode } from './periods';

/**
 * Return measures over a period of daily NAV points.
 *
 * Conventions (API.md "Semantics that clients rely on"):
 * - `points` are the closes of `from`, …, `to`, in strictly increasing date
 *   order (gaps such as weekends are fine). points[0] is the starting value:
 *   its netFlow is inside it and ignored.
 * - netFlow_t (deposits − withdrawals) is taken at the END of day t: it is in
 *   NAV_t but earns nothing on day t.
 * - Wealth never goes below zero: a negative NAV, or a negative value just
 *   before an end-of-day flow (NAV_t − flow_t < 0, i.e. more than 100% lost
 *   intraday), means the NAV crossed zero and returns are undefined →
 *   DomainError BAD_USER_INPUT. Dates out of order → BAD_USER_INPUT.
 */

/** r_t, or null when NAV_{t−1} = 0 (no capital at risk that day: skipped in linking). */
export interface DailyReturn {
  date: string;
  ret: D | null;
}

export function validateNavPoints(points: readonly NavPoint[]): void {
  let prevDay = -Infinity;
  points.forEach((p, i) => {
    const day = toEpochDay(p.date, 'NAV point date');
    if (day <= prevDay) {
      throw new DomainError('BAD_USER_INPUT', `NAV points must be in strictly increasing date order (at ${p.date})`);
    }
    prevDay = day;
    if (p.nav.lt(0)) {
      throw new DomainError('BAD_USER_INPUT', `NAV crosses zero on ${p.date} (${p.nav.toString()}): returns are undefined`);
    }
    // With no flow NAV − flow = NAV, already checked: skip the subtraction (most days).
    if (i > 0 && !p.netFlow.isZero() && p.nav.minus(p.netFlow).lt(0)) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `NAV crosses zero on ${p.date}: value before the day's flow is ${p.nav.minus(p.netFlow).toString()}`,
      );
    }
  });
}

/**
 * r_t = (NAV_t − flow_t − NAV_{t−1}) / NAV_{t−1}, one per point after the first.
 * A zero NAV_{t−1} (not yet funded, or fully withdrawn) gives `ret: null`.
 */
export function dailyReturns(points: readonly NavPoint[]): DailyReturn[] {
  validateNavPoints(points);
  const out: DailyReturn[] = [];
  // In fixed-point with decimal.js's rounding mirrored (fixed.ts): the digits of
  // (NAV_t − flow_t).minus(NAV_{t−1}).div(NAV_{t−1}), without a Decimal per step.
  let prev = points.length ? unitsOf((points[0] as NavPoint).nav) : null;
  for (let i = 1; i < points.length; i++) {
    const p = points[i] as NavPoint;
    const nav = unitsOf(p.nav);
    // NAV − 0 is NAV: the subtraction is skipped on days without a flow (most of them).
    const before = p.netFlow.isZero() ? nav : minus(nav, unitsOf(p.netFlow));
    let ret: D | null = null;
    if (prev!.m !== 0n) {
      const r = divide(minus(before, prev!), prev!);
      ret = decimalOf(r.m, r.scale);
    }
    out.push({ date: p.date, ret });
    prev = nav;
  }
  return out;
}

/** The defined daily returns, in order, for the risk functions. */
export function definedReturns(daily: readonly DailyReturn[]): { date: string; ret: D }[] {
  return daily.filter((r): r is { date: string; ret: D } => r.ret !== null);
}

/**
 * The growth index G at each close: G_0 = 1, then G_t = G_{t−1} × (1 + r_t) (null days keep
 * G), one per point of `daily`'s points. The wealth index of risk and the cumulative TWR
 * are read from it, so a request that asks for both multiplies once.
 */
export function growthIndex(daily: readonly DailyReturn[]): D[] {
  const out: D[] = [ONE];
  let growth: D = ONE;
  for (const r of daily) {
    if (r.ret !== null) growth = growth.times(ONE.plus(r.ret));
    out.push(growth);
  }
  return out;
}

/**
 * Cumulative TWR at each close: {from, 0}, then Π(1 + r) − 1 to date (null days count as 0).
 * `daily` is dailyReturns(points) and `growth` growthIndex(daily) when the caller already
 * has them (computed once per request).
 */
export function cumulativeSeries(
  points: readonly NavPoint[],
  daily: readonly DailyReturn[] = dailyReturns(points),
  growth: readonly D[] = growthIndex(daily),
): { date: string; cumulative: D }[] {
  if (daily.length !== Math.max(points.length - 1, 0)) throw new Error('cumulativeSeries: daily returns do not match the points');
  if (growth.length !== daily.length + 1) throw new Error('cumulativeSeries: growth index does not match the daily returns');
  if (points.length === 0) return [];
  const out = [{ date: (points[0] as NavPoint).date, cumulative: ZERO }];
  for (let i = 0; i < daily.length; i++) out.push({ date: (daily[i] as DailyReturn).date, cumulative: (growth[i + 1] as D).minus(ONE) });
  return out;
}

/** Time-weighted return: Π(1 + r_t) − 1 over the defined daily returns. 0 for fewer than two points. */
export function twr(points: readonly NavPoint[]): D {
  let growth: D = ONE;
  for (const r of dailyReturns(points)) if (r.ret !== null) growth = growth.times(ONE.plus(r.ret));
  return growth.minus(ONE);
}

/**
 * Modified Dietz: (V1 − V0 − ΣF) / (V0 + Σ W_i F_i), W_i = (T − t_i) / T with
 * T = calendar days from `from` to `to` and t_i the days from `from` to the
 * flow's date. Flows are end-of-day, so a flow on the last day has weight 0
 * and one on the first day after `from` has weight (T − 1)/T.
 * 0 for fewer than two points. Average capital ≤ 0 with a non-zero gain
 * (e.g. funded only on the last day, or withdrawn past zero) → BAD_USER_INPUT.
 */
export function modifiedDietz(points: readonly NavPoint[]): D {
  validateNavPoints(points);
  if (points.length < 2) return ZERO;
  const start = points[0] as NavPoint;
  const end = points[points.length - 1] as NavPoint;
  const T = daysBetween(start.date, end.date);
  // Days without a flow add exactly 0 to both sums: left out.
  const flows = points.slice(1).filter((p) => !p.netFlow.isZero());
  const gain = end.nav.minus(start.nav).minus(sum(flows.map((p) => p.netFlow)));
  const capital = start.nav.plus(
    sum(flows.map((p) => dec(T - daysBetween(start.date, p.date)).div(T).times(p.netFlow))),
  );
  if (capital.isZero() && gain.isZero()) return ZERO;
  if (!capital.gt(0)) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `Modified Dietz is undefined from ${start.date} to ${end.date}: average invested capital is ${capital.toString()}`,
    );
  }
  return gain.div(capital);
}

/**
 * Investor cash flows of the period, investor perspective: what the investor
 * puts in is negative, what the investor gets (or could get) back is positive.
 *   −NAV_from at `from` (buying the starting portfolio),
 *   −netFlow_t on each later day (a deposit is negative, a withdrawal positive),
 *   +NAV_to at `to` (liquidating the ending portfolio).
 */
export function investorCashFlows(points: readonly NavPoint[]): CashFlow[] {
  validateNavPoints(points);
  if (points.length === 0) return [];
  const start = points[0] as NavPoint;
  const end = points[points.length - 1] as NavPoint;
  const flows: CashFlow[] = [{ date: start.date, amount: start.nav.neg() }];
  for (const p of points.slice(1)) if (!p.netFlow.isZero()) flows.push({ date: p.date, amount: p.netFlow.neg() });
  flows.push({ date: end.date, amount: end.nav });
  return flows;
}

/**
 * Money-weighted return: the annualized XIRR (actual/365) of `investorCashFlows`.
 * null when it is undefined: fewer than two points, or no sign change in the
 * flows (e.g. nothing ever invested).
 */
export function mwr(points: readonly NavPoint[]): D | null {
  return moneyWeighted(points).rate;
}

/**
 * `mwr` with the reason when it is null (the solver's message), so that a client is told
 * why no money-weighted return exists rather than only given none.
 */
export function moneyWeighted(points: readonly NavPoint[]): { rate: D | null; problem: string | null } {
  if (points.length < 2) {
    validateNavPoints(points);
    return { rate: null, problem: 'the period has a single close: no IRR over zero days' };
  }
  const result = xirr(investorCashFlows(points));
  return result.ok ? { rate: result.rate, problem: null } : { rate: null, problem: result.message };
}

export interface PerformanceSummary {
  from: string | null;
  to: string | null;
  days: number;
  /** true when twr and modifiedDietz are annualized (period longer than one year). */
  annualized: boolean;
  twr: D;
  modifiedDietz: D;
  /** Always annualized (XIRR); null when undefined. */
  mwr: D | null;
}

/**
 * The API's `Performance`: TWR and Modified Dietz are cumulative for periods
 * of up to one calendar year and annualized (actual/365) beyond; MWR is
 * always the annualized IRR.
 */
export function performanceSummary(points: readonly NavPoint[]): PerformanceSummary {
  const cumulativeTwr = twr(points);
  const md = modifiedDietz(points);
  const m = mwr(points);
  if (points.length === 0) {
    return { from: null, to: null, days: 0, annualized: false, twr: cumulativeTwr, modifiedDietz: md, mwr: m };
  }
  const from = (points[0] as NavPoint).date;
  const to = (points[points.length - 1] as NavPoint).date;
  return {
    from,
    to,
    days: daysBetween(from, to),
    annualized: isLongerThanOneYear(from, to),
    twr: annualize(cumulativeTwr, from, to),
    modifiedDietz: annualize(md, from, to),
    mwr: m,
  };
}
