import type { D } from '../decimal';
import * as fixed from '../fixed';
import type { Units } from '../fixed';
import { DomainError } from '../errors';

// Bound once: under tsx's CommonJS output each `fixed.f(…)` call would otherwise read the
// function through a module getter, which V8 does not inline in these long loops (5–10 % of
// their time in the attribution bench, measured under tsx).
const { compare, decimalOf, divide, ln, minus, plus, times, unitsOf } = fixed;

/**
 * Brinson-Fachler attribution (Brinson & Fachler 1985, "Measuring non-US
 * equity portfolio performance", J. Portfolio Management), arithmetic, per
 * group i with portfolio/benchmark weights wp, wb and returns Rp_i, Rb_i:
 *   allocation  = (wp − wb)(Rb_i − Rb)        Rb = Σ wb·Rb_i
 *   selection   = wb (Rp_i − Rb_i)            Rp = Σ wp·Rp_i
 *   interaction = (wp − wb)(Rp_i − Rb_i)
 * With Σwp = Σwb = 1 the three effects summed over groups are exactly Rp − Rb.
 *
 * Several periods are linked with Carino's logarithmic smoothing (Carino 1999,
 * "Combining attribution effects over time", J. Performance Measurement 3(4)):
 *   k_t = (ln(1 + R_t) − ln(1 + B_t)) / (R_t − B_t),   k_t = 1/(1 + R_t) when R_t = B_t
 *   K   = (ln(1 + R) − ln(1 + B)) / (R − B),           K   = 1/(1 + R)   when R = B
 *   linked effect = Σ_t effect_t · k_t / K
 * where R, B are the geometrically linked period returns. Since
 * Σ_i effects_t = R_t − B_t and (R_t − B_t)·k_t = ln(1+R_t) − ln(1+B_t), the
 * linked effects sum to (ln(1+R) − ln(1+B)) / K = R − B to Decimal precision.
 *
 * Computed in exact fixed-point (fixed.ts) with decimal.js's rounding of every operation, so
 * the figures are the digits of the same formulas on Decimals (40 significant digits,
 * half-even) without a Decimal per step; the exported functions take and give Decimals, the
 * *Units ones serve dailyAttribution (holdings.ts), which has its values as units already.
 */

export interface AttributionGroupInput {
  key: string;
  portfolioWeight: D;
  benchmarkWeight: D;
  /** May be null only when portfolioWeight is 0: then taken as benchmarkReturn (no selection). */
  portfolioReturn: D | null;
  /** May be null only when benchmarkWeight is 0: then taken as the total benchmark return Rb (no allocation). */
  benchmarkReturn: D | null;
}

export interface AttributionGroupResult {
  key: string;
  portfolioWeight: D;
  benchmarkWeight: D;
  portfolioReturn: D;
  benchmarkReturn: D;
  allocation: D;
  selection: D;
  interaction: D;
}

export interface AttributionResult {
  portfolioReturn: D;
  benchmarkReturn: D;
  /** Rp − Rb (for linked periods: the geometric period returns' difference). */
  activeReturn: D;
  allocation: D;
  selection: D;
  interaction: D;
  groups: AttributionGroupResult[];
}

/** Weights must each sum to 1 within this tolerance (they come from divisions of market values). */
const WEIGHT_TOLERANCE: Units = { m: 1n, scale: 20 };
/** Below this |u| Carino's k uses the ln(1+u)/u series. */
const SMALL_U: Units = { m: 1n, scale: 4 };
const ZERO_U: Units = { m: 0n, scale: 0 };
const ONE_U: Units = { m: 1n, scale: 0 };

const abs = (u: Units): Units => (u.m < 0n ? { m: -u.m, scale: u.scale } : u);
const sumOf = (xs: Iterable<Units>): Units => {
  let total = ZERO_U;
  for (const x of xs) total = plus(total, x);
  return total;
};
const dec = (u: Units): D => decimalOf(u.m, u.scale);

/** A group's figures as units (attribution's inputs and results alike). */
export interface GroupUnits {
  key: string;
  wp: Units;
  wb: Units;
  rp: Units;
  rb: Units;
  allocation: Units;
  selection: Units;
  interaction: Units;
}

/** One period's returns and per-group figures as units; what linking reads. */
export interface PeriodUnits {
  rp: Units;
  rb: Units;
  groups: GroupUnits[];
}

/** AttributionResult as units. */
export interface ResultUnits extends PeriodUnits {
  allocation: Units;
  selection: Units;
  interaction: Units;
}

export interface GroupInputUnits {
  key: string;
  wp: Units;
  wb: Units;
  rp: Units | null;
  rb: Units | null;
}

function checkWeights(groups: readonly GroupInputUnits[]): void {
  const keys = new Set<string>();
  for (const g of groups) {
    if (keys.has(g.key)) throw new DomainError('BAD_USER_INPUT', `attribution group ${g.key} appears twice`);
    keys.add(g.key);
  }
  for (const [name, total] of [
    ['portfolio', sumOf(groups.map((g) => g.wp))],
    ['benchmark', sumOf(groups.map((g) => g.wb))],
  ] as const) {
    if (compare(abs(minus(total, ONE_U)), WEIGHT_TOLERANCE) > 0) {
      throw new DomainError('BAD_USER_INPUT', `${name} weights sum to ${dec(total).toString()}, not 1`);
    }
  }
}

/** A period with its effects summed over the groups. */
export function withTotals({ rp, rb, groups }: PeriodUnits): ResultUnits {
  return {
    rp,
    rb,
    allocation: sumOf(groups.map((g) => g.allocation)),
    selection: sumOf(groups.map((g) => g.selection)),
    interaction: sumOf(groups.map((g) => g.interaction)),
    groups,
  };
}

/**
 * brinsonFachler on units, without the effects' totals (withTotals): linking reads only the
 * groups' effects, so that dailyAttribution sums a day's effects only when its days are read.
 */
export function brinsonFachlerPeriod(groups: readonly GroupInputUnits[]): PeriodUnits {
  checkWeights(groups);
  for (const g of groups) {
    if (g.rb === null && g.wb.m !== 0n) {
      throw new DomainError('BAD_USER_INPUT', `group ${g.key} has benchmark weight but no benchmark return`);
    }
  }
  const Rb = sumOf(groups.map((g) => (g.rb === null ? ZERO_U : times(g.wb, g.rb))));
  const resolved = groups.map((g): GroupUnits => {
    const rb = g.rb ?? Rb;
    if (g.rp === null && g.wp.m !== 0n) {
      throw new DomainError('BAD_USER_INPUT', `group ${g.key} has portfolio weight but no portfolio return`);
    }
    const rp = g.rp ?? rb;
    const dw = minus(g.wp, g.wb);
    const active = minus(rp, rb);
    return { key: g.key, wp: g.wp, wb: g.wb, rp, rb, allocation: times(dw, minus(rb, Rb)), selection: times(g.wb, active), interaction: times(dw, active) };
  });
  return { rp: sumOf(resolved.map((g) => times(g.wp, g.rp))), rb: Rb, groups: resolved };
}

/** Single-period Brinson-Fachler. Weights are beginning-of-period weights that each sum to 1. */
export function brinsonFachler(groups: readonly AttributionGroupInput[]): AttributionResult {
  const opt = (d: D | null) => (d === null ? null : unitsOf(d));
  return toDecimals(withTotals(brinsonFachlerPeriod(groups.map((g) => ({ key: g.key, wp: unitsOf(g.portfolioWeight), wb: unitsOf(g.benchmarkWeight), rp: opt(g.portfolioReturn), rb: opt(g.benchmarkReturn) })))));
}

/**
 * carinoFactor on units; `lnOf` is ln (a caller that asks for the same logarithms again, as
 * dailyAttribution does for the contributions, passes a memo of it).
 */
export function carinoUnits(r: Units, b: Units, lnOf: (x: Units) => Units = ln): Units {
  const r1 = plus(ONE_U, r);
  const b1 = plus(ONE_U, b);
  if (r1.m <= 0n || b1.m <= 0n) throw new DomainError('BAD_USER_INPUT', 'Carino linking needs returns above −100%');
  if (compare(r, b) === 0) return divide(ONE_U, r1);
  // k = ln(1 + u)/u / (1 + b) with u = (r − b)/(1 + b). For small u, ln(1+u)/u by its series
  // 1 − u/2 + u²/3 − …, since a difference of two 40-digit logarithms would lose the digits of u.
  const u = divide(minus(r, b), b1);
  if (compare(abs(u), SMALL_U) < 0) {
    let term = ONE_U;
    let total = ONE_U;
    for (let n = 2; n < 40; n++) {
      const t = times(term, u);
      term = { m: -t.m, scale: t.scale };
      const next = plus(total, divide(term, { m: BigInt(n), scale: 0 }));
      if (compare(next, total) === 0) break;
      total = next;
    }
    return divide(total, b1);
  }
  return divide(minus(lnOf(r1), lnOf(b1)), minus(r, b));
}

/** Carino's k for a portfolio return r and benchmark return b (both > −1); 1/(1 + r) in the limit r = b. */
export function carinoFactor(r: D, b: D): D {
  return dec(carinoUnits(unitsOf(r), unitsOf(b)));
}

/** linkCarino on units. */
export function linkCarinoUnits(periods: readonly PeriodUnits[], lnOf: (x: Units) => Units = ln): ResultUnits {
  const R = minus(periods.reduce((g, p) => times(g, plus(ONE_U, p.rp)), ONE_U), ONE_U);
  const B = minus(periods.reduce((g, p) => times(g, plus(ONE_U, p.rb)), ONE_U), ONE_U);
  if (periods.length === 0) return { rp: ZERO_U, rb: ZERO_U, allocation: ZERO_U, selection: ZERO_U, interaction: ZERO_U, groups: [] };
  const K = carinoUnits(R, B, lnOf);
  const scale = periods.map((p) => divide(carinoUnits(p.rp, p.rb, lnOf), K));
  const linked = new Map<string, { allocation: Units; selection: Units; interaction: Units; wp: Units; wb: Units; gp: Units; gb: Units }>();
  periods.forEach((p, t) => {
    const s = scale[t]!;
    for (const g of p.groups) {
      const x = linked.get(g.key);
      if (!x) linked.set(g.key, { allocation: times(g.allocation, s), selection: times(g.selection, s), interaction: times(g.interaction, s), wp: g.wp, wb: g.wb, gp: plus(ONE_U, g.rp), gb: plus(ONE_U, g.rb) });
      else {
        x.allocation = plus(x.allocation, times(g.allocation, s));
        x.selection = plus(x.selection, times(g.selection, s));
        x.interaction = plus(x.interaction, times(g.interaction, s));
        x.wp = plus(x.wp, g.wp);
        x.wb = plus(x.wb, g.wb);
        x.gp = times(x.gp, plus(ONE_U, g.rp));
        x.gb = times(x.gb, plus(ONE_U, g.rb));
      }
    }
  });
  const n: Units = { m: BigInt(periods.length), scale: 0 };
  const groups = [...linked].map(([key, x]): GroupUnits => ({
    key,
    wp: divide(x.wp, n),
    wb: divide(x.wb, n),
    rp: minus(x.gp, ONE_U),
    rb: minus(x.gb, ONE_U),
    allocation: x.allocation,
    selection: x.selection,
    interaction: x.interaction,
  }));
  return withTotals({ rp: R, rb: B, groups });
}

/**
 * Links single-period results (in time order) with Carino smoothing. The
 * linked result's returns are geometric: Π(1 + R_t) − 1. Per group, the
 * effects are linked; weights are the plain average over the periods (0 where
 * a group is absent) and returns are linked geometrically over the periods
 * where the group appears — both descriptive only.
 * An empty list gives zero returns and effects.
 */
export function linkCarino(periods: readonly AttributionResult[]): AttributionResult {
  return toDecimals(linkCarinoUnits(periods.map(fromDecimals)));
}

function fromDecimals(r: AttributionResult): ResultUnits {
  return {
    rp: unitsOf(r.portfolioReturn),
    rb: unitsOf(r.benchmarkReturn),
    allocation: unitsOf(r.allocation),
    selection: unitsOf(r.selection),
    interaction: unitsOf(r.interaction),
    groups: r.groups.map((g) => ({
      key: g.key,
      wp: unitsOf(g.portfolioWeight),
      wb: unitsOf(g.benchmarkWeight),
      rp: unitsOf(g.portfolioReturn),
      rb: unitsOf(g.benchmarkReturn),
      allocation: unitsOf(g.allocation),
      selection: unitsOf(g.selection),
      interaction: unitsOf(g.interaction),
    })),
  };
}

/** The result in Decimals (exact conversions); activeReturn is Rp − Rb. */
export function toDecimals(r: ResultUnits): AttributionResult {
  return {
    portfolioReturn: dec(r.rp),
    benchmarkReturn: dec(r.rb),
    activeReturn: dec(minus(r.rp, r.rb)),
    allocation: dec(r.allocation),
    selection: dec(r.selection),
    interaction: dec(r.interaction),
    groups: r.groups.map((g) => ({
      key: g.key,
      portfolioWeight: dec(g.wp),
      benchmarkWeight: dec(g.wb),
      portfolioReturn: dec(g.rp),
      benchmarkReturn: dec(g.rb),
      allocation: dec(g.allocation),
      selection: dec(g.selection),
      interaction: dec(g.interaction),
    })),
  };
}
