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
    out.push({ date: input.days[t]!, ...groupTotals(contrib, weightOf) });
  }
  return out;
}

/**
 * benchmarkGroupReturns from per-(day, group, currency) sums of price returns
 * A = Σ w_i (c_i(t)/c_i(t−1) − 1), as the database aggregates them (analytics-data.ts).
 * With f = FX(ccy → benchmark ccy, t) / FX(t−1) the same for every constituent in that
 * currency, V_i(t)/V_i(t−1) = (c_i(t)/c_i(t−1)) · f, so
 *   Σ_i w_i r_i = f · (W + A) − W     (W = Σ w_i of the group and currency)
 * and A alone for the benchmark's own currency (f = 1). Groups, weights, order and the
 * missing-FX error are those of benchmarkGroupReturns; a (day, group, currency) without a
 * row had no new close (A = 0). Same returns up to the rounding of the quotients (see
 * loadBenchmarkSums).
 */
export function benchmarkGroupReturnsFromSums(input: {
  currency: string;
  constituents: readonly BenchmarkConstituentInput[];
  fx: FxTable;
  days: readonly string[];
  sums: readonly { day: number; group: string; currency: string; sum: D }[];
}): BenchmarkDay[] {
  validateBenchmarkWeights(input.constituents);
  const { days, fx, currency } = input;
  const groupOrder: string[] = [];
  const weightOf = new Map<string, D>();
  const parts = new Map<string, { group: string; currency: string; weight: D; symbol: string }>();
  for (const c of input.constituents) {
    const g = c.group ?? 'ALL';
    if (!weightOf.has(g)) groupOrder.push(g);
    weightOf.set(g, (weightOf.get(g) ?? ZERO).plus(c.weight));
    const key = `${g}\u0000${c.currency}`;
    const p = parts.get(key);
    parts.set(key, p ? { ...p, weight: p.weight.plus(c.weight) } : { group: g, currency: c.currency, weight: c.weight, symbol: c.symbol });
  }
  const byDay = new Map<string, D>();
  for (const r of input.sums) byDay.set(`${r.day}\u0000${r.group}\u0000${r.currency}`, r.sum);
  // FX ratio per foreign currency and day.
  const rates = new Map<string, (D | null)[]>();
  for (const p of parts.values()) {
    if (p.currency === currency || rates.has(p.currency)) continue;
    rates.set(
      p.currency,
      days.map((day) => {
        const r = fx.convertRate(p.currency, currency, day);
        if (!r) throw new DomainError('BAD_USER_INPUT', `no FX rate ${p.currency}→${currency} on or before ${day} for benchmark constituent ${p.symbol}`);
        return r.rate;
      }),
    );
  }
  const out: BenchmarkDay[] = [];
  for (let t = 1; t < days.length; t++) {
    const contrib = new Map<string, D>(groupOrder.map((g) => [g, ZERO]));
    for (const p of parts.values()) {
      const a = byDay.get(`${t}\u0000${p.group}\u0000${p.currency}`) ?? ZERO;
      let c: D;
      if (p.currency === currency) c = a;
      else {
        const x = rates.get(p.currency)!;
        const f = x[t]!.eq(x[t - 1]!) ? ONE : x[t]!.div(x[t - 1]!);
        c = f.eq(ONE) ? a : f.times(p.weight.plus(a)).minus(p.weight);
      }
      contrib.set(p.group, contrib.get(p.group)!.plus(c));
    }
    out.push({ date: days[t]!, ...groupTotals(contrib, weightOf) });
  }
  return out;
}

/** A day's benchmark return and each group's, from the groups' weighted contributions. */
function groupTotals(contrib: Map<string, D>, weightOf: Map<string, D>): { total: D; groups: Map<string, { weight: D; ret: D }> } {
  const groups = new Map<string, { weight: D; ret: D }>();
  let total = ZERO;
  for (const [g, c] of contrib) {
    total = total.plus(c);
    const w = weightOf.get(g)!;
    groups.set(g, { weight: w, ret: c.div(w) });
  }
  return { total, groups };
}
