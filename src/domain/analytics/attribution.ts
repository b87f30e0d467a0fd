import { D, ZERO, ONE, dec, sum } from '../decimal';
import { DomainError } from '../errors';

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
const WEIGHT_TOLERANCE = dec('1e-20');
/** Below this |u| Carino's k uses the ln(1+u)/u series. */
const SMALL_U = dec('1e-4');

function checkWeights(groups: readonly AttributionGroupInput[]): void {
  const keys = new Set<string>();
  for (const g of groups) {
    if (keys.has(g.key)) throw new DomainError('BAD_USER_INPUT', `attribution group ${g.key} appears twice`);
    keys.add(g.key);
  }
  for (const [name, total] of [
    ['portfolio', sum(groups.map((g) => g.portfolioWeight))],
    ['benchmark', sum(groups.map((g) => g.benchmarkWeight))],
  ] as const) {
    if (total.minus(ONE).abs().gt(WEIGHT_TOLERANCE)) {
      throw new DomainError('BAD_USER_INPUT', `${name} weights sum to ${total.toString()}, not 1`);
    }
  }
}

function effectsTotal(groups: readonly AttributionGroupResult[], pick: (g: AttributionGroupResult) => D): D {
  return sum(groups.map(pick));
}

/** Single-period Brinson-Fachler. Weights are beginning-of-period weights that each sum to 1. */
export function brinsonFachler(groups: readonly AttributionGroupInput[]): AttributionResult {
  checkWeights(groups);
  for (const g of groups) {
    if (g.benchmarkReturn === null && !g.benchmarkWeight.isZero()) {
      throw new DomainError('BAD_USER_INPUT', `group ${g.key} has benchmark weight but no benchmark return`);
    }
  }
  const Rb = sum(groups.map((g) => (g.benchmarkReturn === null ? ZERO : g.benchmarkWeight.times(g.benchmarkReturn))));
  const resolved = groups.map((g) => {
    const rb = g.benchmarkReturn ?? Rb;
    if (g.portfolioReturn === null && !g.portfolioWeight.isZero()) {
      throw new DomainError('BAD_USER_INPUT', `group ${g.key} has portfolio weight but no portfolio return`);
    }
    const rp = g.portfolioReturn ?? rb;
    const dw = g.portfolioWeight.minus(g.benchmarkWeight);
    return {
      key: g.key,
      portfolioWeight: g.portfolioWeight,
      benchmarkWeight: g.benchmarkWeight,
      portfolioReturn: rp,
      benchmarkReturn: rb,
      allocation: dw.times(rb.minus(Rb)),
      selection: g.benchmarkWeight.times(rp.minus(rb)),
      interaction: dw.times(rp.minus(rb)),
    };
  });
  const Rp = sum(resolved.map((g) => g.portfolioWeight.times(g.portfolioReturn)));
  return {
    portfolioReturn: Rp,
    benchmarkReturn: Rb,
    activeReturn: Rp.minus(Rb),
    allocation: effectsTotal(resolved, (g) => g.allocation),
    selection: effectsTotal(resolved, (g) => g.selection),
    interaction: effectsTotal(resolved, (g) => g.interaction),
    groups: resolved,
  };
}

/** Carino's k for a portfolio return r and benchmark return b (both > −1); 1/(1 + r) in the limit r = b. */
export function carinoFactor(r: D, b: D): D {
  if (!ONE.plus(r).gt(0) || !ONE.plus(b).gt(0)) {
    throw new DomainError('BAD_USER_INPUT', 'Carino linking needs returns above −100%');
  }
  if (r.eq(b)) return ONE.div(ONE.plus(r));
  // k = ln(1 + u)/u / (1 + b) with u = (r − b)/(1 + b). For small u, ln(1+u)/u by its series
  // 1 − u/2 + u²/3 − …, since a difference of two 40-digit logarithms would lose the digits of u.
  const u = r.minus(b).div(ONE.plus(b));
  if (u.abs().lt(SMALL_U)) {
    let term: D = ONE;
    let total: D = ONE;
    for (let n = 2; n < 40; n++) {
      term = term.times(u).neg();
      const next = total.plus(term.div(n));
      if (next.eq(total)) break;
      total = next;
    }
    return total.div(ONE.plus(b));
  }
  return ONE.plus(r).ln().minus(ONE.plus(b).ln()).div(r.minus(b));
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
  const R = periods.reduce((g, p) => g.times(ONE.plus(p.portfolioReturn)), ONE).minus(ONE);
  const B = periods.reduce((g, p) => g.times(ONE.plus(p.benchmarkReturn)), ONE).minus(ONE);
  if (periods.length === 0) {
    return { portfolioReturn: ZERO, benchmarkReturn: ZERO, activeReturn: ZERO, allocation: ZERO, selection: ZERO, interaction: ZERO, groups: [] };
  }
  const K = carinoFactor(R, B);
  const scale = periods.map((p) => carinoFactor(p.portfolioReturn, p.benchmarkReturn).div(K));

  const keys: string[] = [];
  for (const p of periods) for (const g of p.groups) if (!keys.includes(g.key)) keys.push(g.key);
  const n = periods.length;
  const groups = keys.map((key): AttributionGroupResult => {
    let allocation: D = ZERO;
    let selection: D = ZERO;
    let interaction: D = ZERO;
    let wp: D = ZERO;
    let wb: D = ZERO;
    let gp: D = ONE;
    let gb: D = ONE;
    periods.forEach((p, t) => {
      const g = p.groups.find((x) => x.key === key);
      if (!g) return;
      const s = scale[t] as D;
      allocation = allocation.plus(g.allocation.times(s));
      selection = selection.plus(g.selection.times(s));
      interaction = interaction.plus(g.interaction.times(s));
      wp = wp.plus(g.portfolioWeight);
      wb = wb.plus(g.benchmarkWeight);
      gp = gp.times(ONE.plus(g.portfolioReturn));
      gb = gb.times(ONE.plus(g.benchmarkReturn));
    });
    return {
      key,
      portfolioWeight: wp.div(n),
      benchmarkWeight: wb.div(n),
      portfolioReturn: gp.minus(ONE),
      benchmarkReturn: gb.minus(ONE),
      allocation,
      selection,
      interaction,
    };
  });
  return {
    portfolioReturn: R,
    benchmarkReturn: B,
    activeReturn: R.minus(B),
    allocation: effectsTotal(groups, (g) => g.allocation),
    selection: effectsTotal(groups, (g) => g.selection),
    interaction: effectsTotal(groups, (g) => g.interaction),
    groups,
  };
}
