import { D, ZERO, ONE, sum } from '../decimal';
import type { FxTable } from '../fx';
import { LedgerReplay, replayOrder, type LedgerEntry, type PriceSeries } from '../nav-series';
import { brinsonFachler, carinoFactor, linkCarino, type AttributionResult, type AttributionGroupInput } from './attribution';
import type { BenchmarkDay } from './benchmark';

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

export interface HoldingsInputs {
  baseCurrency: string;
  entries: readonly LedgerEntry[];
  securities: ReadonlyMap<string, SecurityInfo>;
  prices: ReadonlyMap<string, PriceSeries>;
  fx: FxTable;
  /** Closes: days[0] is the start of the period. */
  days: readonly string[];
}

export interface HoldingDay {
  securityId: string;
  start: D;
  end: D;
}

export interface PortfolioDay {
  date: string;
  /** Σ start values (positions and cash): the capital at risk on the day. */
  start: D;
  end: D;
  holdings: HoldingDay[];
  /** Per cash currency. */
  cash: { currency: string; start: D; end: D }[];
}

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

/** Start and end values of every position and cash balance for each day after days[0]. */
export function portfolioDays(input: HoldingsInputs): PortfolioDay[] {
  const { days, fx, baseCurrency } = input;
  const entries = replayOrder(input.entries);
  const state = new LedgerReplay();
  const pointer = new Map<string, number>();
  const rateCache = new Map<string, D | null>();
  const rate = (ccy: string, day: string): D | null => {
    if (ccy === baseCurrency) return ONE;
    const key = `${ccy}/${day}`;
    if (!rateCache.has(key)) rateCache.set(key, fx.convertRate(ccy, baseCurrency, day)?.rate ?? null);
    return rateCache.get(key)!;
  };
  const closeOn = (sid: string, day: string): D | undefined => {
    const s = input.prices.get(sid);
    if (!s) return state.lastTradePrice.get(sid);
    let i = pointer.get(sid) ?? -1;
    while (i + 1 < s.dates.length && s.dates[i + 1]! <= day) i++;
    pointer.set(sid, i);
    return i >= 0 ? s.closes[i] : state.lastTradePrice.get(sid);
  };
  let k = 0;
  const out: PortfolioDay[] = [];
  if (!days.length) return out;
  while (k < entries.length && entries[k]!.date <= days[0]!) state.apply(entries[k++]!);
  // Values at the close of the previous day, carried from one day to the next.
  let prevPx = new Map<string, D>();
  let prevEnd = new Map<string, { q: D; p: D; x: D; value: D }>();
  const times = (a: D, b: D): D => (b === ONE ? a : a.times(b));
  for (const [sid] of state.quantity) {
    const p = closeOn(sid, days[0]!);
    if (p) prevPx.set(sid, p);
  }
  for (let t = 1; t < days.length; t++) {
    const prevDay = days[t - 1]!;
    const day = days[t]!;
    const splits = new Map<string, D>();
    const dividends = new Map<string, D>();
    const todays: LedgerEntry[] = [];
    while (k < entries.length && entries[k]!.date <= day) {
      const e = entries[k++]!;
      todays.push(e);
      if (e.type === 'SPLIT' && e.securityId && e.splitRatio) splits.set(e.securityId, (splits.get(e.securityId) ?? ONE).times(e.splitRatio));
      if (e.type === 'DIVIDEND' && e.securityId && e.currency === input.securities.get(e.securityId)?.currency) {
        dividends.set(e.securityId, (dividends.get(e.securityId) ?? ZERO).plus(e.amount));
      }
    }
    const curPx = new Map<string, D>();
    const holdings: HoldingDay[] = [];
    const curEnd = new Map<string, { q: D; p: D; x: D; value: D }>();
    for (const [sid, q] of state.quantity) {
      const info = input.securities.get(sid);
      const p1 = closeOn(sid, day);
      if (p1) curPx.set(sid, p1);
      if (q.isZero() || !info) continue;
      const p0 = prevPx.get(sid) ?? p1;
      if (!p0 || !p1) continue;
      const x0 = rate(info.currency, prevDay);
      const x1 = rate(info.currency, day);
      if (!x0 || !x1) continue;
      // The same products as q × p0 × x0 and (q × split × p1 + dividend) × x1, without the
      // factors that are exactly 1 and the terms that are exactly 0 (every operand has at
      // most 40 digits, so multiplying by 1 or adding 0 would not round), and with the start
      // taken from yesterday's end when it is that very product (same q, close and rate).
      const prev = prevEnd.get(sid);
      const start = prev && prev.q === q && prev.p === p0 && prev.x === x0 ? prev.value : times(q.times(p0), x0);
      const split = splits.get(sid);
      const dividend = dividends.get(sid);
      const qp1 = split ? q.times(split).times(p1) : q.times(p1);
      const end = times(dividend ? qp1.plus(dividend) : qp1, x1);
      if (!split && !dividend) curEnd.set(sid, { q, p: p1, x: x1, value: end });
      holdings.push({ securityId: sid, start, end });
    }
    prevEnd = curEnd;
    const cash: PortfolioDay['cash'] = [];
    for (const [ccy, bal] of state.cash) {
      if (bal.isZero()) continue;
      const x0 = rate(ccy, prevDay);
      const x1 = rate(ccy, day);
      if (!x0 || !x1) continue;
      cash.push({ currency: ccy, start: bal.times(x0), end: bal.times(x1) });
    }
    out.push({
      date: day,
      start: sum(holdings.map((h) => h.start)).plus(sum(cash.map((c) => c.start))),
      end: sum(holdings.map((h) => h.end)).plus(sum(cash.map((c) => c.end))),
      holdings,
      cash,
    });
    for (const e of todays) state.apply(e);
    // Prices for positions opened today.
    for (const [sid] of state.quantity) if (!curPx.has(sid)) {
      const p = closeOn(sid, day);
      if (p) curPx.set(sid, p);
    }
    prevPx = curPx;
  }
  return out;
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
 */
export function dailyAttribution(
  days: readonly PortfolioDay[],
  benchmark: readonly BenchmarkDay[],
  groupOfSecurity: (securityId: string) => string,
  groupOfCash: (currency: string) => string,
): { linked: AttributionResult; daily: AttributionResult[]; contributions: HoldingContribution[]; cashContribution: D } {
  const bByDate = new Map(benchmark.map((b) => [b.date, b]));
  const daily: AttributionResult[] = [];
  const perDayContrib: { ret: D; bench: D; items: Map<string, D>; cash: D }[] = [];
  const weightSum = new Map<string, D>();
  let counted = 0;
  for (const d of days) {
    const b = bByDate.get(d.date);
    if (!b || !d.start.gt(0)) continue;
    counted++;
    const inv = ONE.div(d.start);
    const g = new Map<string, { start: D; end: D }>();
    const add = (key: string, s: D, e: D) => {
      const x = g.get(key);
      if (x) {
        x.start = x.start.plus(s);
        x.end = x.end.plus(e);
      } else g.set(key, { start: ZERO.plus(s), end: ZERO.plus(e) });
    };
    const items = new Map<string, D>();
    for (const h of d.holdings) {
      add(groupOfSecurity(h.securityId), h.start, h.end);
      items.set(h.securityId, h.end.minus(h.start).times(inv));
      weightSum.set(h.securityId, (weightSum.get(h.securityId) ?? ZERO).plus(h.start.times(inv)));
    }
    let cashContrib = ZERO;
    for (const c of d.cash) {
      add(groupOfCash(c.currency), c.start, c.end);
      cashContrib = cashContrib.plus(c.end.minus(c.start).times(inv));
    }
    const inputs: AttributionGroupInput[] = [];
    const keys = new Set([...g.keys(), ...b.groups.keys()]);
    // Weights: make the portfolio's sum to exactly 1 by giving the rounding remainder to the largest group.
    for (const key of keys) {
      const pg = g.get(key);
      const bg = b.groups.get(key);
      inputs.push({
        key,
        portfolioWeight: pg ? pg.start.times(inv) : ZERO,
        benchmarkWeight: bg ? bg.weight : ZERO,
        portfolioReturn: pg && !pg.start.isZero() ? pg.end.minus(pg.start).div(pg.start) : null,
        benchmarkReturn: bg ? bg.ret : null,
      });
    }
    const remainder = ONE.minus(sum(inputs.map((i) => i.portfolioWeight)));
    if (!remainder.isZero()) {
      const largest = inputs.reduce((a, c) => (c.portfolioWeight.abs().gt(a.portfolioWeight.abs()) ? c : a));
      largest.portfolioWeight = largest.portfolioWeight.plus(remainder);
    }
    const r = brinsonFachler(inputs);
    daily.push(r);
    perDayContrib.push({ ret: r.portfolioReturn, bench: r.benchmarkReturn, items, cash: cashContrib });
  }
  const linked = linkCarino(daily);
  // Contributions: Carino-linked against a zero benchmark, so they add up to the linked return R.
  const K = daily.length ? carinoFactor(linked.portfolioReturn, ZERO) : ONE;
  const contrib = new Map<string, D>();
  let cashContribution = ZERO;
  for (const p of perDayContrib) {
    const s = carinoFactor(p.ret, ZERO).div(K);
    for (const [sid, c] of p.items) contrib.set(sid, (contrib.get(sid) ?? ZERO).plus(c.times(s)));
    cashContribution = cashContribution.plus(p.cash.times(s));
  }
  const contributions = [...contrib].map(([securityId, contribution]) => ({
    securityId,
    contribution,
    averageWeight: counted ? (weightSum.get(securityId) ?? ZERO).div(counted) : ZERO,
  }));
  contributions.sort((a, b) => b.contribution.cmp(a.contribution) || (a.securityId < b.securityId ? -1 : 1));
  return { linked, daily, contributions, cashContribution };
}
