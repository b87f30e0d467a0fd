import { D, ZERO, ONE, sum } from '../decimal';
import { DomainError } from '../errors';
import type { FxTable } from '../fx';
import type { PriceSeries } from '../nav-series';
import type { DatedReturn } from './types';

/**
 * A benchmark rebalanced DAILY to fixed constituent weights (API.md: weights sum to 1; a
 * single security is allowed). With V_i(t) = close_i(≤ t) × FX(ccy_i → benchmark ccy, ≤ t),
 * the last close and rate on or before each day:
 *
 *   r_i(t) = V_i(t) / V_i(t−1) − 1
 *   R_b(t) = Σ w_i · r_i(t)
 *
 * Returns are in the benchmark's currency. `days` are the closes to use (t−1 is the
 * previous element, not the previous calendar day), so the first day yields no return.
 * A constituent without a close or an FX rate on or before a day → BAD_USER_INPUT
 * naming it (the benchmark cannot be computed there).
 */

export interface BenchmarkConstituentInput {
  securityId: string;
  symbol: string;
  currency: string;
  weight: D;
  /** Free classification for attribution (sector, asset class, country, currency). */
  group?: string;
}

export interface BenchmarkInputs {
  currency: string;
  constituents: readonly BenchmarkConstituentInput[];
  prices: ReadonlyMap<string, PriceSeries>;
  fx: FxTable;
  days: readonly string[];
}

const WEIGHT_TOLERANCE = new D('1e-20');

/** The constituents' weights must be positive and sum to exactly 1; symbols unique. */
export function validateBenchmarkWeights(constituents: readonly { symbol: string; weight: D }[]): void {
  if (!constituents.length) throw new DomainError('BAD_USER_INPUT', 'a benchmark needs at least one constituent');
  const seen = new Set<string>();
  for (const c of constituents) {
    if (seen.has(c.symbol)) throw new DomainError('BAD_USER_INPUT', `constituent ${c.symbol} appears twice`);
    seen.add(c.symbol);
    if (!c.weight.gt(0)) throw new DomainError('BAD_USER_INPUT', `constituent ${c.symbol}: weight must be > 0`);
  }
  const total = sum(constituents.map((c) => c.weight));
  if (!total.minus(ONE).abs().lte(WEIGHT_TOLERANCE)) {
    throw new DomainError('BAD_USER_INPUT', `constituent weights sum to ${total.toString()}, not 1`);
  }
}

/** V_i(t) for every constituent and day, in the benchmark currency (row per day, column per constituent). */
export function constituentValues(input: BenchmarkInputs): D[][] {
  const { constituents, prices, fx, days, currency } = input;
  const pointer = new Array<number>(constituents.length).fill(-1);
  const out: D[][] = [];
  for (const day of days) {
    const row: D[] = [];
    constituents.forEach((c, i) => {
      const s = prices.get(c.securityId);
      let k = pointer[i]!;
      if (s) while (k + 1 < s.dates.length && s.dates[k + 1]! <= day) k++;
      pointer[i] = k;
      if (!s || k < 0) throw new DomainError('BAD_USER_INPUT', `benchmark constituent ${c.symbol} has no close on or before ${day}`);
      const rate = fx.convertRate(c.currency, currency, day);
      if (!rate) throw new DomainError('BAD_USER_INPUT', `no FX rate ${c.currency}→${currency} on or before ${day} for benchmark constituent ${c.symbol}`);
      row.push(c.currency === currency ? s.closes[k]! : s.closes[k]!.times(rate.rate));
    });
    out.push(row);
  }
  return out;
}

/** R_b(t) for days[1..], daily rebalanced. */
export function benchmarkReturns(input: BenchmarkInputs): DatedReturn[] {
  return benchmarkGroupReturns(input).map((d) => ({ date: d.date, ret: d.total }));
}

export interface BenchmarkDay {
  date: string;
  total: D;
  /** Per group: weight (Σ w_i of the group) and return (Σ w_i r_i / Σ w_i). */
  groups: Map<string, { weight: D; ret: D }>;
}

/** Daily total and per-group returns (group = constituent.group ?? 'ALL'). */
export function benchmarkGroupReturns(input: BenchmarkInputs): BenchmarkDay[] {
  validateBenchmarkWeights(input.constituents);
  const values = constituentValues(input);
  const weightOf = new Map<string, D>();
  for (const c of input.constituents) {
    const g = c.group ?? 'ALL';
    weightOf.set(g, (weightOf.get(g) ?? ZERO).plus(c.weight));
  }
  const out: BenchmarkDay[] = [];
  for (let t = 1; t < input.days.length; t++) {
    const prev = values[t - 1]!;
    const cur = values[t]!;
    const contrib = new Map<string, D>();
    input.constituents.forEach((c, i) => {
      const g = c.group ?? 'ALL';
      const p = prev[i]!;
      if (p.isZero()) throw new DomainError('BAD_USER_INPUT', `benchmark constituent ${c.symbol} has a zero close`);
      const r = cur[i]!.eq(p) ? ZERO : cur[i]!.div(p).minus(ONE);
      contrib.set(g, (contrib.get(g) ?? ZERO).plus(c.weight.times(r)));
    });
    const groups = new Map<string, { weight: D; ret: D }>();
    let total = ZERO;
    for (const [g, c] of contrib) {
      total = total.plus(c);
      const w = weightOf.get(g)!;
      groups.set(g, { weight: w, ret: c.div(w) });
    }
    out.push({ date: input.days[t]!, total, groups });
  }
  return out;
}
