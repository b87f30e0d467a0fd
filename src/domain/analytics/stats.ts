import { D, ZERO, sum } from '../decimal';

/**
 * Sample statistics on Decimal series. Undefined statistics are null: the mean
 * of nothing, a variance or covariance of fewer than two observations.
 * Paired series must have the same length (a caller bug otherwise: plain Error).
 */

export function mean(xs: readonly D[]): D | null {
  return xs.length === 0 ? null : sum(xs).div(xs.length);
}

/** Sample covariance, divisor n − 1. */
export function sampleCovariance(xs: readonly D[], ys: readonly D[]): D | null {
  if (xs.length !== ys.length) throw new Error(`paired series differ in length: ${xs.length} vs ${ys.length}`);
  const n = xs.length;
  if (n < 2) return null;
  const mx = sum(xs).div(n);
  const my = sum(ys).div(n);
  return sum(xs.map((x, i) => x.minus(mx).times((ys[i] as D).minus(my)))).div(n - 1);
}

/**
 * Sample variance, divisor n − 1 (sampleCovariance(xs, xs), each deviation computed once).
 * `m` is mean(xs) when the caller has it (the same value: sum(xs) / n).
 */
export function sampleVariance(xs: readonly D[], m: D | null = mean(xs)): D | null {
  const n = xs.length;
  if (n < 2 || m === null) return null;
  let total: D = ZERO;
  for (const x of xs) {
    const d = x.minus(m);
    total = total.plus(d.times(d));
  }
  return total.div(n - 1);
}

/** Sample standard deviation, divisor n − 1. */
export function sampleStdev(xs: readonly D[]): D | null {
  const v = sampleVariance(xs);
  return v === null ? null : v.sqrt();
}

/** Mean and sample standard deviation of one series, computed once for several measures. */
export interface SeriesStats {
  mean: D | null;
  stdev: D | null;
}

export function seriesStats(xs: readonly D[]): SeriesStats {
  const m = mean(xs);
  const v = sampleVariance(xs, m);
  return { mean: m, stdev: v === null ? null : v.sqrt() };
}

/** x_i − y_i. */
export function differences(xs: readonly D[], ys: readonly D[]): D[] {
  if (xs.length !== ys.length) throw new Error(`paired series differ in length: ${xs.length} vs ${ys.length}`);
  return xs.map((x, i) => x.minus(ys[i] as D));
}

