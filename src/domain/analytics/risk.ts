import { D, ZERO, ONE, dec, sum } from '../decimal';
import { DomainError } from '../errors';
import type { DatedLevel, DatedReturn, NavPoint } from './types';
import { mean, sampleCovariance, sampleStdev, sampleVariance, differences, seriesStats, type SeriesStats } from './stats';
import { inverseNormalCdf } from './normal';
import { dailyReturns, definedReturns, growthIndex, type DailyReturn } from './performance';

/**
 * Risk measures from DAILY returns (decimals: 5% = 0.05).
 *
 * Conventions (API.md): 252 periods a year; sample (n − 1) standard deviations;
 * `riskFreeRate` is annual and simple, its daily rate is riskFreeRate / 252.
 * Annualization multiplies daily means by 252 and daily deviations by √252
 * (√252 computed with Decimal.sqrt). VaR, CVaR and drawdown are reported as
 * POSITIVE loss fractions over ONE day (drawdown: over the period), not
 * annualized. A ratio whose denominator is zero or undefined is null.
 */

export const PERIODS_PER_YEAR = 252;
const N252 = dec(PERIODS_PER_YEAR);
const SQRT_252 = N252.sqrt();

export function dailyRiskFree(riskFreeRate: D): D {
  return riskFreeRate.div(N252);
}

/*
 * The functions taking `stats` accept seriesStats(returns) precomputed by a caller that
 * reports several measures of the same returns (riskReport), so the mean and the standard
 * deviation are computed once; the results are the same as without.
 */

/** Sample stdev × √252; 0 when there are fewer than two returns (no dispersion observed). */
export function annualizedVolatility(returns: readonly D[], stats?: SeriesStats): D {
  const s = stats ? stats.stdev : sampleStdev(returns);
  return s === null ? ZERO : s.times(SQRT_252);
}

/** (mean(r) − rf/252) / stdev(r) × √252; null for fewer than two returns or zero volatility. */
export function sharpeRatio(returns: readonly D[], riskFreeRate: D = ZERO, stats?: SeriesStats): D | null {
  const { mean: m, stdev: s } = stats ?? seriesStats(returns);
  if (s === null || m === null || s.isZero()) return null;
  return m.minus(dailyRiskFree(riskFreeRate)).div(s).times(SQRT_252);
}

/** Daily downside deviation √(mean(min(r − target, 0)²)), divisor n (all observations); null when empty. */
export function downsideDeviation(returns: readonly D[], target: D = ZERO): D | null {
  if (returns.length === 0) return null;
  // Returns at or above the target add exactly 0: left out of the sum (not of the divisor).
  let total: D = ZERO;
  for (const r of returns) {
    const d = r.minus(target);
    if (d.isNeg() && !d.isZero()) total = total.plus(d.pow(2));
  }
  return total.div(returns.length).sqrt();
}

/**
 * Sortino: (mean(r) − t) / downsideDeviation(r, t) × √252 with t = rf/252.
 * null when empty or when no return is below the target (deviation 0).
 */
export function sortinoRatio(returns: readonly D[], riskFreeRate: D = ZERO, stats?: SeriesStats): D | null {
  const t = dailyRiskFree(riskFreeRate);
  const dd = downsideDeviation(returns, t);
  const m = stats ? stats.mean : mean(returns);
  if (dd === null || m === null || dd.isZero()) return null;
  return m.minus(t).div(dd).times(SQRT_252);
}

export interface Drawdown {
  /** Largest fall from a running peak, as a positive fraction: (peak − trough) / peak. 0 if none. */
  maxDrawdown: D;
  peakDate: string | null;
  troughDate: string | null;
  /** First date at or above the peak level after the trough; null if not recovered (or no drawdown). */
  recoveryDate: string | null;
}

/**
 * Maximum drawdown of a non-negative level series (wealth index, NAV without
 * flows). The peak is the latest date at the running high before the trough;
 * among equal drawdowns the first is reported.
 */
export function maxDrawdown(levels: readonly DatedLevel[]): Drawdown {
  let best: Drawdown = { maxDrawdown: ZERO, peakDate: null, troughDate: null, recoveryDate: null };
  let peak: DatedLevel | null = null;
  let bestPeakValue: D | null = null;
  // Lowest level since the current peak: (peak − l)/peak is non-increasing in l, so a level
  // at or above it cannot beat the best drawdown (only divide on a new low).
  let low: D | null = null;
  for (const l of levels) {
    if (l.value.lt(0)) throw new DomainError('BAD_USER_INPUT', `drawdown needs levels ≥ 0 (${l.date})`);
    if (peak === null || l.value.gte(peak.value) || peak.value.isZero()) {
      peak = l;
      low = null;
      if (bestPeakValue !== null && best.recoveryDate === null && l.value.gte(bestPeakValue)) {
        best = { ...best, recoveryDate: l.date };
      }
      continue;
    }
    if (low !== null && l.value.gte(low)) continue;
    low = l.value;
    const dd = peak.value.minus(l.value).div(peak.value);
    if (dd.gt(best.maxDrawdown)) {
      best = { maxDrawdown: dd, peakDate: peak.date, troughDate: l.date, recoveryDate: null };
      bestPeakValue = peak.value;
    }
  }
  return best;
}

/** Wealth index 1 at `startDate` (the period's from), then Π(1 + r) at each return's date. */
export function wealthIndex(startDate: string, returns: readonly DatedReturn[]): DatedLevel[] {
  return levelsOf(startDate, returns, growthIndex(returns));
}

/** The levels of wealthIndex read from a growth index over daily returns (null days have no level). */
function levelsOf(startDate: string, daily: readonly DailyReturn[], growth: readonly D[]): DatedLevel[] {
  const out: DatedLevel[] = [{ date: startDate, value: ONE }];
  for (let i = 0; i < daily.length; i++) {
    const r = daily[i] as DailyReturn;
    if (r.ret !== null) out.push({ date: r.date, value: growth[i + 1] as D });
  }
  return out;
}

/** −x without a negative zero. */
function negate(x: D): D {
  return x.isZero() ? ZERO : x.neg();
}

function checkConfidence(confidence: D): void {
  if (!confidence.gt(0) || !confidence.lt(1)) {
    throw new DomainError('BAD_USER_INPUT', `confidence must be strictly between 0 and 1, got ${confidence.toString()}`);
  }
}

/**
 * Historical one-day VaR at confidence c, no interpolation: with the returns
 * sorted ascending x_(1) ≤ … ≤ x_(n) and k = ceil(n·(1 − c)) (computed in
 * Decimal, so 20 × 0.05 is exactly 1), the (1 − c) quantile is the lower order
 * statistic x_(k) and VaR = −x_(k). A negative VaR means even that tail gains.
 * null for no returns.
 */
export function historicalVar(returns: readonly D[], confidence: D, sorted?: readonly D[]): D | null {
  const q = tailQuantile(returns, confidence, sorted);
  return q === null ? null : negate(q);
}

/**
 * Historical CVaR (expected shortfall): −mean of all returns ≤ the VaR quantile x_(k). null for no returns.
 * `sorted` (both here and in historicalVar): the returns sorted ascending, when the caller has them.
 */
export function historicalCvar(returns: readonly D[], confidence: D, sorted?: readonly D[]): D | null {
  const q = tailQuantile(returns, confidence, sorted);
  if (q === null) return null;
  const tail = returns.filter((r) => r.lte(q));
  return negate(mean(tail) as D);
}

/** The returns sorted ascending (for historicalVar/historicalCvar). */
export function sortReturns(returns: readonly D[]): D[] {
  return [...returns].sort((a, b) => a.comparedTo(b));
}

function tailQuantile(returns: readonly D[], confidence: D, presorted?: readonly D[]): D | null {
  checkConfidence(confidence);
  if (returns.length === 0) return null;
  if (presorted && presorted.length !== returns.length) throw new Error('sorted returns do not match the returns');
  const sorted = presorted ?? sortReturns(returns);
  const k = dec(sorted.length).times(ONE.minus(confidence)).ceil().toNumber(); // 1 ≤ k ≤ n
  return sorted[Math.min(Math.max(k, 1), sorted.length) - 1] as D;
}

/**
 * Parametric (Gaussian) one-day VaR: −(mean − z·stdev) with z = Φ⁻¹(c)
 * (Acklam's approximation refined to Decimal precision, see normal.ts).
 * null for fewer than two returns.
 */
export function parametricVar(returns: readonly D[], confidence: D, stats?: SeriesStats): D | null {
  checkConfidence(confidence);
  const { mean: m, stdev: s } = stats ?? seriesStats(returns);
  if (m === null || s === null) return null;
  return negate(m.minus(inverseNormalCdf(confidence).times(s)));
}

/** cov(rp, rb) / var(rb), sample; null for fewer than two pairs or a flat benchmark. */
export function beta(rp: readonly D[], rb: readonly D[]): D | null {
  const cov = sampleCovariance(rp, rb);
  const v = sampleVariance(rb);
  if (cov === null || v === null || v.isZero()) return null;
  return cov.div(v);
}

/** Annualized Jensen's alpha: (mean(rp) − rf_d − β(mean(rb) − rf_d)) × 252; null when β is. */
export function jensensAlpha(rp: readonly D[], rb: readonly D[], riskFreeRate: D = ZERO): D | null {
  const b = beta(rp, rb);
  if (b === null) return null;
  const rf = dailyRiskFree(riskFreeRate);
  const mp = mean(rp) as D;
  const mb = mean(rb) as D;
  return mp.minus(rf).minus(b.times(mb.minus(rf))).times(N252);
}

/** Pearson correlation (sample); null for fewer than two pairs or a flat series. */
export function correlation(rp: readonly D[], rb: readonly D[]): D | null {
  const cov = sampleCovariance(rp, rb);
  const sp = sampleStdev(rp);
  const sb = sampleStdev(rb);
  if (cov === null || sp === null || sb === null || sp.isZero() || sb.isZero()) return null;
  return cov.div(sp.times(sb));
}

/** stdev(rp − rb) × √252; null for fewer than two pairs. */
export function trackingError(rp: readonly D[], rb: readonly D[]): D | null {
  const s = sampleStdev(differences(rp, rb));
  return s === null ? null : s.times(SQRT_252);
}

/** mean(rp − rb) × 252 / trackingError; null when the tracking error is null or 0. */
export function informationRatio(rp: readonly D[], rb: readonly D[]): D | null {
  const te = trackingError(rp, rb);
  if (te === null || te.isZero()) return null;
  return (mean(differences(rp, rb)) as D).times(N252).div(te);
}

/** Pairs two dated series on their common dates (inner join), in the first one's order. */
export function alignByDate(a: readonly DatedReturn[], b: readonly DatedReturn[]): { rp: D[]; rb: D[] } {
  const byDate = new Map(b.map((x) => [x.date, x.ret] as const));
  const rp: D[] = [];
  const rb: D[] = [];
  for (const x of a) {
    const y = byDate.get(x.date);
    if (y !== undefined) {
      rp.push(x.ret);
      rb.push(y);
    }
  }
  return { rp, rb };
}

export interface RiskOptions {
  /** Benchmark daily returns, dated like the portfolio's (paired on common dates). */
  benchmark?: readonly DatedReturn[];
  /** Default 0.95. */
  confidence?: D;
  /** Annual, simple. Default 0. */
  riskFreeRate?: D;
  /** dailyReturns(points), when the caller already has them (computed once per request). */
  dailyReturns?: readonly DailyReturn[];
  /** growthIndex(dailyReturns), likewise (performance's cumulative TWR multiplies the same factors). */
  growth?: readonly D[];
}

export interface RiskReport extends Drawdown {
  observations: number;
  volatility: D;
  sharpe: D | null;
  sortino: D | null;
  var: D;
  cvar: D;
  parametricVar: D;
  beta: D | null;
  alpha: D | null;
  correlation: D | null;
  trackingError: D | null;
  informationRatio: D | null;
}

/**
 * The API's `Risk` for a period of NAV points. Daily returns with a zero
 * starting NAV are left out. The API's non-null fields report 0 when the
 * sample is too small to show any dispersion or loss (volatility with < 2
 * returns, VaR/CVaR with none, parametric VaR with < 2, drawdown of an empty
 * period); the ratios and benchmark measures are null then.
 */
export function riskReport(points: readonly NavPoint[], options: RiskOptions = {}): RiskReport {
  const confidence = options.confidence ?? dec('0.95');
  const riskFreeRate = options.riskFreeRate ?? ZERO;
  checkConfidence(confidence);
  if (options.dailyReturns && options.dailyReturns.length !== Math.max(points.length - 1, 0)) {
    throw new Error('riskReport: daily returns do not match the points');
  }
  if (options.growth && !options.dailyReturns) throw new Error('riskReport: a growth index without its daily returns');
  const daily = options.dailyReturns ?? dailyReturns(points);
  if (options.growth && options.growth.length !== daily.length + 1) throw new Error('riskReport: growth index does not match the daily returns');
  const dated = definedReturns(daily);
  const r = dated.map((x) => x.ret);
  const stats = seriesStats(r);
  const sorted = sortReturns(r);
  const dd =
    points.length === 0
      ? { maxDrawdown: ZERO, peakDate: null, troughDate: null, recoveryDate: null }
      : maxDrawdown(levelsOf((points[0] as NavPoint).date, daily, options.growth ?? growthIndex(daily)));
  const pair = options.benchmark ? alignByDate(dated, options.benchmark) : null;
  return {
    observations: r.length,
    volatility: annualizedVolatility(r, stats),
    sharpe: sharpeRatio(r, riskFreeRate, stats),
    sortino: sortinoRatio(r, riskFreeRate, stats),
    ...dd,
    var: historicalVar(r, confidence, sorted) ?? ZERO,
    cvar: historicalCvar(r, confidence, sorted) ?? ZERO,
    parametricVar: parametricVar(r, confidence, stats) ?? ZERO,
    beta: pair ? beta(pair.rp, pair.rb) : null,
    alpha: pair ? jensensAlpha(pair.rp, pair.rb, riskFreeRate) : null,
    correlation: pair ? correlation(pair.rp, pair.rb) : null,
    trackingError: pair ? trackingError(pair.rp, pair.rb) : null,
    informationRatio: pair ? informationRatio(pair.rp, pair.rb) : null,
  };
}
