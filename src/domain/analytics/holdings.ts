import { D, ZERO, ONE } from '../decimal';
import * as fixed from '../fixed';
import type { Units } from '../fixed';
import type { FxTable } from '../fx';
import { LedgerReplay, replayOrder, type CloseSeries, type LedgerEntry } from '../nav-series';
import { splitQuantity } from '../lots';
import { brinsonFachlerPeriod, carinoUnits, linkCarinoUnits, toDecimals, withTotals, type AttributionResult, type GroupInputUnits, type PeriodUnits } from './attribution';
import type { BenchmarkDay } from './benchmark';

// Bound once: under tsx's CommonJS output each `fixed.f(…)` call would otherwise read the
// function through a module getter, which V8 does not inline in these long loops (5–10 % of
// their time in the attribution bench, measured under tsx).
const { ScaleExceeded, atScale, compare, decimalOf, divide, ln, minus, plus, roundToPrecision, times, unitsOf } = fixed;

/**
 * Holdings-based daily returns of a portfolio, for attribution and contribution.
 *
 * Day t runs from the close of day t−1 to the close of day t (days are the business days
 * given). The positions are those held at the close of t−1 (every transaction dated on or
 * before t−1 applied), held unchanged through day t ("buy and hold within the day"):
 *   start value  V0_i = q_i × close_i(≤ t−1) × FX(ccy_i → base, ≤ t−1)
 *   end value    V1_i = q_i × split_i(t) × close_i(≤ t) × FX(≤ t) + dividends_i(t) × FX(≤ t)
 *   cash         C0_c = cash_c × FX(c → base, ≤ t−1),  C1_c = cash_c × FX(≤ t)
 * The portfolio's daily return is (ΣV1 + ΣC1 − ΣV0 − ΣC0) / (ΣV0 + ΣC0): trades, fees and
 * external flows of day t only enter from day t+1 on, so it differs from the TWR by the
 * effect of intraday trading (reported as a residual by the caller). Closes are taken as
 * unadjusted (a SPLIT multiplies the quantity on its date). A position with no close yet
 * is valued at its last trade price.
 */

export interface SecurityInfo {
  symbol: string;
  currency: string;
  sector: string | null;
  assetClass: string | null;
  country: string | null;
}

export type { CloseSeries } from '../nav-series';

export interface HoldingsInputs {
  baseCurrency: string;
  entries: readonly LedgerEntry[];
  securities: ReadonlyMap<string, SecurityInfo>;
  prices: ReadonlyMap<string, CloseSeries>;
  fx: FxTable;
  /** Closes: days[0] is the start of the period. */
  days: readonly string[];
}

/** A position's values on a day, in units of 10^−scale of the base currency (PortfolioDays.scale). */
export interface HoldingDay {
  securityId: string;
  start: bigint;
  end: bigint;
}

export interface PortfolioDay {
  date: string;
  /** Σ start values (positions and cash): the capital at risk on the day. */
  start: D;
  end: D;
  holdings: HoldingDay[];
  /** Per cash currency, in units as the holdings. */
  cash: { currency: string; start: bigint; end: bigint }[];
}

export interface PortfolioDays {
  /** The fixed-point scale of the holdings' and cash values. */
  scale: number;
  days: PortfolioDay[];
}

const ZERO_UNITS: Units = { m: 0n, scale: 0 };
const ONE_UNITS: Units = { m: 1n, scale: 0 };

export type GroupBy = 'SECTOR' | 'ASSET_CLASS' | 'COUNTRY' | 'CURRENCY';
export const UNCLASSIFIED_GROUP = 'UNCLASSIFIED';
export const CASH_GROUP = 'CASH';

export function groupOf(groupBy: GroupBy, s: SecurityInfo): string {
  switch (groupBy) {
    case 'SECTOR':
      return s.sector ?? UNCLASSIFIED_GROUP;
    case 'ASSET_CLASS':
      return s.assetClass ?? UNCLASSIFIED_GROUP;
    case 'COUNTRY':
      return s.country ?? UNCLASSIFIED_GROUP;
    case 'CURRENCY':
      return s.currency;
  }
}

/**
 * Start and end values of every position and cash balance for each day after days[0].
 *
 * The values are computed in exact fixed-point (fixed.ts) with the rounding decimal.js would
 * apply to each product and sum, so they are the digits of the Decimal computation
 * q × p0 × x0, (q × split × p1 + dividend) × x1, Σ starts, Σ ends. The scale starts at 0 and
 * grows to the largest an operand needs (one recomputation per increase, ScaleExceeded).
 */
export function portfolioDays(input: HoldingsInputs): PortfolioDays {
  let scale = 0;
  for (;;) {
    try {
      return { scale, days: valueDays(input, scale) };
    } catch (err) {
      if (!(err instanceof ScaleExceeded) || err.needed <= scale) throw err;
      scale = err.needed;
    }
  }
}

/** FX of one currency to the base on each of the days, computed when first asked for. */
interface DailyRates {
  known: Uint8Array;
  /** null when the rate is exactly 1 (no product), undefined when there is none. */
  rates: (Units | null | undefined)[];
}

/**
 * What valueDays carries for one security from one day to the next: one record per position,
 * not one per position-day. `pxDay`/`endDay` say which day `px`/`end*` were set on.
 */
interface Position {
  securityId: string;
  info: SecurityInfo | undefined;
  series: CloseSeries | undefined;
  fx: DailyRates | undefined;
  /** Index of the last close on or before the day reached. */
  pointer: number;
  /** The quantity held (state.quantity's), and as units, converted when it changes. */
  q: D;
  qu: Units;
  px: Units | undefined;
  pxDay: number;
  /** The end value's operands, for taking the next start from it when it is that very product. */
  endQ: D | undefined;
  endP: Units | undefined;
  endX: Units | null | undefined;
  end: bigint;
  endDay: number;
}

function valueDays(input: HoldingsInputs, scale: number): PortfolioDay[] {
  const { days, fx, baseCurrency } = input;
  const entries = replayOrder(input.entries);
  const state = new LedgerReplay();
  const fxByCurrency = new Map<string, DailyRates>();
  const ratesOf = (ccy: string): DailyRates => {
    let r = fxByCurrency.get(ccy);
    if (!r) fxByCurrency.set(ccy, (r = { known: new Uint8Array(days.length), rates: new Array(days.length) }));
    return r;
  };
  const rateOn = (r: DailyRates, ccy: string, t: number): Units | null | undefined => {
    if (!r.known[t]) {
      r.known[t] = 1;
      if (ccy === baseCurrency) r.rates[t] = null;
      else {
        const x = fx.convertRate(ccy, baseCurrency, days[t]!)?.rate;
        r.rates[t] = x ? unitsOf(x) : undefined;
      }
    }
    return r.rates[t];
  };
  // A last trade price as units, converted once per Decimal (positions without closes).
  const tradePrices = new Map<D, Units>();
  const lastTrade = (sid: string): Units | undefined => {
    const p = state.lastTradePrice.get(sid);
    if (!p) return undefined;
    let u = tradePrices.get(p);
    if (!u) tradePrices.set(p, (u = unitsOf(p)));
    return u;
  };
  const closeOn = (pos: Position, day: string): Units | undefined => {
    const s = pos.series;
    if (!s) return lastTrade(pos.securityId);
    let i = pos.pointer;
    while (i + 1 < s.dates.length && s.dates[i + 1]! <= day) i++;
    pos.pointer = i;
    return i >= 0 ? s.closes[i] : lastTrade(pos.securityId);
  };
  // Positions in the order of state.quantity, which only ever adds keys (in insertion order):
  // the i-th key it yields is the i-th position on every day.
  const positions: Position[] = [];
  const positionAt = (i: number, sid: string): Position => {
    let pos = positions[i];
    if (!pos) {
      const info = input.securities.get(sid);
      positions.push((pos = { securityId: sid, info, series: input.prices.get(sid), fx: info && ratesOf(info.currency), pointer: -1, q: ZERO, qu: ZERO_UNITS, px: undefined, pxDay: -1, endQ: undefined, endP: undefined, endX: undefined, end: 0n, endDay: -1 }));
    } else if (pos.securityId !== sid) throw new Error('the ledger replay reordered its positions');
    return pos;
  };
  // The positions of state.quantity with their quantities, taken after each day's transactions
  // are applied, so that the days in between walk an array instead of the Map.
  let held: Position[] = [];
  const track = () => {
    held = [];
    let i = 0;
    for (const [sid, q] of state.quantity) {
      const pos = positionAt(i++, sid);
      if (pos.q !== q) {
        pos.q = q;
        pos.qu = unitsOf(q);
      }
      held.push(pos);
    }
  };
  /** Closes on day t for the positions without one yet (from the start, or opened today). */
  const pricePositions = (t: number) => {
    for (const pos of held) {
      if (pos.pxDay === t) continue;
      const p = closeOn(pos, days[t]!);
      if (p) {
        pos.px = p;
        pos.pxDay = t;
      }
    }
  };
  const fxTimes = (a: Units, x: Units | null): bigint => atScale(x ? times(a, x) : a, scale);
  let k = 0;
  const out: PortfolioDay[] = [];
  if (!days.length) return out;
  while (k < entries.length && entries[k]!.date <= days[0]!) state.apply(entries[k++]!);
  track();
  pricePositions(0);
  for (let t = 1; t < days.length; t++) {
    const day = days[t]!;
    let splits: Map<string, D> | undefined;
    let dividends: Map<string, D> | undefined;
    const todays = k;
    while (k < entries.length && entries[k]!.date <= day) {
      const e = entries[k++]!;
      if (e.type === 'SPLIT' && e.securityId && e.splitRatio) (splits ??= new Map()).set(e.securityId, (splits.get(e.securityId) ?? ONE).times(e.splitRatio));
      if (e.type === 'DIVIDEND' && e.securityId && e.currency === input.securities.get(e.securityId)?.currency) {
        (dividends ??= new Map()).set(e.securityId, (dividends.get(e.securityId) ?? ZERO).plus(e.amount));
      }
    }
    const holdings: HoldingDay[] = [];
    // Σ starts and Σ ends of the positions, in their order, rounded as Decimal sums.
    let starts = 0n;
    let ends = 0n;
    for (const pos of held) {
      const { securityId: sid, q } = pos;
      const p1 = closeOn(pos, day);
      const prevPx = pos.pxDay === t - 1 ? pos.px : undefined;
      if (p1) {
        pos.px = p1;
        pos.pxDay = t;
      }
      if (q.isZero() || !pos.info) continue;
      const p0 = prevPx ?? p1;
      if (!p0 || !p1) continue;
      const x0 = rateOn(pos.fx!, pos.info.currency, t - 1);
      const x1 = rateOn(pos.fx!, pos.info.currency, t);
      if (x0 === undefined || x1 === undefined) continue;
      const qu = pos.qu;
      // The products q × p0 × x0 and (q × split × p1 + dividend) × x1, without the factors
      // that are exactly 1, and with the start taken from yesterday's end when it is that
      // very product (same q, close and rate).
      const start = pos.endDay === t - 1 && pos.endQ === q && pos.endP === p0 && pos.endX === x0 ? pos.end : fxTimes(times(qu, p0), x0);
      const split = splits?.get(sid);
      const dividend = dividends?.get(sid);
      // The quantity after the split as the NAV replay and the lots round it (splitQuantity).
      const qp1 = split ? times(unitsOf(splitQuantity(q, split)), p1) : times(qu, p1);
      const end = fxTimes(dividend ? plus(qp1, unitsOf(dividend)) : qp1, x1);
      if (!split && !dividend) {
        pos.endQ = q;
        pos.endP = p1;
        pos.endX = x1;
        pos.end = end;
        pos.endDay = t;
      }
      holdings.push({ securityId: sid, start, end });
      starts = roundToPrecision(starts + start);
      ends = roundToPrecision(ends + end);
    }
    const cash: PortfolioDay['cash'] = [];
    let cashStarts = 0n;
    let cashEnds = 0n;
    for (const [ccy, bal] of state.cash) {
      if (bal.isZero()) continue;
      const r = ratesOf(ccy);
      const x0 = rateOn(r, ccy, t - 1);
      const x1 = rateOn(r, ccy, t);
      if (x0 === undefined || x1 === undefined) continue;
      const b = unitsOf(bal);
      const c = { currency: ccy, start: fxTimes(b, x0), end: fxTimes(b, x1) };
      cash.push(c);
      cashStarts = roundToPrecision(cashStarts + c.start);
      cashEnds = roundToPrecision(cashEnds + c.end);
    }
    out.push({ date: day, start: decimalOf(roundToPrecision(starts + cashStarts), scale), end: decimalOf(roundToPrecision(ends + cashEnds), scale), holdings, cash });
    if (k > todays) {
      for (let j = todays; j < k; j++) state.apply(entries[j]!);
      track();
      // Prices for positions opened today (the others have today's already).
      pricePositions(t);
    }
  }
  return out;
}

interface GroupSums {
  key: string;
  start: bigint;
  end: bigint;
  /** The counted day (from 1) the sums are of. */
  day: number;
}

interface SecuritySums {
  securityId: string;
  group: GroupSums;
  weight: bigint;
  contribution: bigint;
}

export interface HoldingContribution {
  securityId: string;
  /** Average start-of-day weight over the days the position was held (0 on the others). */
  averageWeight: D;
  /** Σ_t (V1 − V0)/W0_t × k_t / K (Carino-linked), so the contributions and cash's add up to the linked return. */
  contribution: D;
}

/**
 * Brinson-Fachler per day on the holdings-based returns, linked with Carino (see
 * attribution.ts). Portfolio weights include cash (group CASH, or its currency when grouping
 * by CURRENCY), which the benchmark does not hold: a group absent from the benchmark takes
 * the total benchmark return (the domain's convention), so cash drag appears as interaction.
 * Days with no capital at risk are skipped.
 *
 * The groups' start and end values are summed in fixed-point with decimal.js's rounding (the
 * digits of Decimal sums). A position's contribution Σ_t (V1 − V0) × (1/W0_t) × (k_t/K) and
 * its weight sum Σ_t V0 × (1/W0_t) are summed exactly from the factors 1/W0_t and k_t/K (40
 * significant digits each) and rounded once at the end, to 40 significant digits (the average
 * weight: that exact sum divided by the day count); cash's contribution alike. Brinson-Fachler
 * and Carino run on units (attribution.ts), with the digits of the Decimal formulas; the
 * per-day effects are summed and converted to Decimals only when `daily` is read.
 */
export function dailyAttribution(
  portfolio: PortfolioDays,
  benchmark: readonly BenchmarkDay[],
  groupOfSecurity: (securityId: string) => string,
  groupOfCash: (currency: string) => string,
): { linked: AttributionResult; readonly daily: AttributionResult[]; contributions: HoldingContribution[]; cashContribution: D } {
  const { scale } = portfolio;
  const bByDate = new Map(benchmark.map((b) => [b.date, b]));
  // A benchmark group's weight is one Decimal for every day: converted once.
  const converted = new Map<D, Units>();
  const units = (d: D): Units => {
    let u = converted.get(d);
    if (!u) converted.set(d, (u = unitsOf(d)));
    return u;
  };
  // One record per group and per security for the whole period, looked up once per
  // position-day: a group's sums of the day (`day` says which), a security's group and sums.
  const groups = new Map<string, GroupSums>();
  const groupSums = (key: string): GroupSums => {
    let x = groups.get(key);
    if (!x) groups.set(key, (x = { key, start: 0n, end: 0n, day: -1 }));
    return x;
  };
  const securities = new Map<string, SecuritySums>();
  const securitySums = (sid: string): SecuritySums => {
    let x = securities.get(sid);
    if (!x) securities.set(sid, (x = { securityId: sid, group: groupSums(groupOfSecurity(sid)), weight: 0n, contribution: 0n }));
    return x;
  };
  // portfolioDays lists a day's holdings in the same order as the day before's: the j-th one is
  // looked up in the Map only when it is not the security the j-th was.
  const slots: SecuritySums[] = [];
  const sumsAt = (j: number, sid: string): SecuritySums => {
    const x = slots[j];
    return x && x.securityId === sid ? x : (slots[j] = securitySums(sid));
  };
  const daily: PeriodUnits[] = [];
  const counted: { day: PortfolioDay; inv: Units }[] = [];
  for (const d of portfolio.days) {
    const b = bByDate.get(d.date);
    if (!b || !d.start.gt(0)) continue;
    const inv = divide(ONE_UNITS, unitsOf(d.start));
    const t = counted.push({ day: d, inv });
    // The day's groups in the order first met (positions, then cash), as the Decimal code summed them.
    const met: GroupSums[] = [];
    const add = (x: GroupSums, s: bigint, e: bigint) => {
      if (x.day === t) {
        x.start = roundToPrecision(x.start + s);
        x.end = roundToPrecision(x.end + e);
      } else {
        x.day = t;
        x.start = s;
        x.end = e;
        met.push(x);
      }
    };
    d.holdings.forEach((h, j) => add(sumsAt(j, h.securityId).group, h.start, h.end));
    for (const c of d.cash) add(groupSums(groupOfCash(c.currency)), c.start, c.end);
    const inputs: GroupInputUnits[] = [];
    const keys = new Set([...met.map((x) => x.key), ...b.groups.keys()]);
    // Weights: make the portfolio's sum to exactly 1 by giving the rounding remainder to the largest group.
    for (const key of keys) {
      const x = groups.get(key);
      const pg = x && x.day === t ? x : undefined;
      const bg = b.groups.get(key);
      const start: Units = { m: pg ? pg.start : 0n, scale };
      inputs.push({
        key,
        wp: pg ? times(start, inv) : ZERO_UNITS,
        wb: bg ? units(bg.weight) : ZERO_UNITS,
        rp: pg && pg.start !== 0n ? divide(minus({ m: pg.end, scale }, start), start) : null,
        rb: bg ? units(bg.ret) : null,
      });
    }
    const remainder = minus(ONE_UNITS, inputs.reduce((acc, i) => plus(acc, i.wp), ZERO_UNITS));
    if (remainder.m !== 0n) {
      const magnitude = (u: Units): Units => (u.m < 0n ? { m: -u.m, scale: u.scale } : u);
      const largest = inputs.reduce((a, c) => (compare(magnitude(c.wp), magnitude(a.wp)) > 0 ? c : a));
      largest.wp = plus(largest.wp, remainder);
    }
    daily.push(brinsonFachlerPeriod(inputs));
  }
  // ln(1 + R_t) serves both the effects' k_t and the contributions' (against a zero benchmark).
  const logs = new Map<string, Units>();
  const lnOf = (x: Units): Units => {
    const key = `${x.m}e${x.scale}`;
    let l = logs.get(key);
    if (!l) logs.set(key, (l = ln(x)));
    return l;
  };
  const linkedUnits = linkCarinoUnits(daily, lnOf);
  // Contributions: Carino-linked against a zero benchmark, so they add up to the linked return R.
  const K = daily.length ? carinoUnits(linkedUnits.rp, ZERO_UNITS, lnOf) : ONE_UNITS;
  const factors = counted.map(({ inv }, t) => {
    const s = divide(carinoUnits(daily[t]!.rp, ZERO_UNITS, lnOf), K);
    return { inv, link: { m: inv.m * s.m, scale: inv.scale + s.scale } }; // exact: no rounding
  });
  // Exact products: one scale for every day's 1/W0 and one for every day's (1/W0)(k/K).
  const invScale = Math.max(0, ...factors.map((f) => f.inv.scale));
  const linkScale = Math.max(0, ...factors.map((f) => f.link.scale));
  let cash = 0n;
  counted.forEach(({ day }, t) => {
    const inv = atScale(factors[t]!.inv, invScale);
    const link = atScale(factors[t]!.link, linkScale);
    day.holdings.forEach((h, j) => {
      const x = sumsAt(j, h.securityId);
      x.weight += h.start * inv;
      x.contribution += (h.end - h.start) * link;
    });
    for (const c of day.cash) cash += (c.end - c.start) * link;
  });
  const contributions = [...securities].map(([securityId, x]) => ({
    securityId,
    contribution: decimalOf(x.contribution, scale + linkScale).toSignificantDigits(D.precision),
    averageWeight: decimalOf(x.weight, scale + invScale).div(counted.length),
  }));
  contributions.sort((a, b) => b.contribution.cmp(a.contribution) || (a.securityId < b.securityId ? -1 : 1));
  let decimals: AttributionResult[] | null = null;
  return {
    linked: toDecimals(linkedUnits),
    // The per-day results, with their effects summed, in Decimals only when asked for (the service reads the linked ones).
    get daily() {
      return (decimals ??= daily.map((p) => toDecimals(withTotals(p))));
    },
    contributions,
    cashContribution: decimalOf(cash, scale + linkScale).toSignificantDigits(D.precision),
  };
}
