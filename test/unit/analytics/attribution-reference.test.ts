import { D, ONE, ZERO, dec, sum } from '../../../src/domain/decimal';
import { decimalOf, unitsOf } from '../../../src/domain/fixed';
import { FxTable, fxQuote, type FxQuote } from '../../../src/domain/fx';
import { businessDays, type LedgerEntry } from '../../../src/domain/nav-series';
import { dailyAttribution, groupOf, portfolioDays, CASH_GROUP, type CloseSeries, type PortfolioDays, type SecurityInfo } from '../../../src/domain/analytics/holdings';
import type { BenchmarkDay } from '../../../src/domain/analytics/benchmark';

/*
 * dailyAttribution works in fixed-point (BigInt units with decimal.js's rounding of each
 * operation, and its own correctly rounded ln). Reference: the same formulas written out
 * here on Decimals, one Decimal operation per step as decimal.js rounds them (Brinson-Fachler
 * per day, Carino's k with Decimal ln or its series, the linked sums, the contributions'
 * exact sums rounded once), on a realistic, seeded dataset: a EUR portfolio of 30 securities
 * in USD, GBP, JPY and EUR (FX crosses, so values have long digits) over 61 business days,
 * with buys, sells, a split, dividends and flows, against a benchmark with a group the
 * portfolio lacks, and days whose returns nearly equal the portfolio's (Carino's series).
 * Every figure must have the same digits.
 */

let seed = 20261201;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const fixed = (x: number, places: number) => dec(x.toFixed(places));

const days = businessDays('2024-03-01', '2024-05-24');
const CURRENCIES = ['USD', 'GBP', 'JPY', 'EUR'];
const SECTORS = ['Tech', 'Energy', 'Health', 'Utilities', 'Financials', null];
const ids = Array.from({ length: 30 }, (_, i) => `s${i}`);
const securities = new Map<string, SecurityInfo>(
  ids.map((id, i) => [id, { symbol: id.toUpperCase(), currency: CURRENCIES[i % 4]!, sector: SECTORS[i % 6]!, assetClass: 'Equity', country: 'US' }]),
);

// Closes: a random walk with 4 decimals (JPY: whole yen); every seventh security skips some days.
const prices = new Map<string, CloseSeries>();
const firstClose = new Map<string, D>();
ids.forEach((id, i) => {
  let p = 20 + 200 * rnd();
  const dates: string[] = [];
  const closes = [];
  for (const [t, day] of days.entries()) {
    p *= 1 + (rnd() - 0.5) * 0.06;
    if (i % 7 === 3 && t % 5 === 2) continue;
    const c = securities.get(id)!.currency === 'JPY' ? fixed(p * 100, 0) : fixed(p, 4);
    if (!firstClose.has(id)) firstClose.set(id, c);
    dates.push(day);
    closes.push(unitsOf(c));
  }
  prices.set(id, { dates, closes });
});

const quotes: FxQuote[] = [];
let eurUsd = 1.08;
let gbpUsd = 1.26;
let usdJpy = 150.5;
for (const day of days) {
  eurUsd *= 1 + (rnd() - 0.5) * 0.01;
  gbpUsd *= 1 + (rnd() - 0.5) * 0.01;
  usdJpy *= 1 + (rnd() - 0.5) * 0.01;
  quotes.push(fxQuote('EUR', 'USD', day, eurUsd.toFixed(6)), fxQuote('GBP', 'USD', day, gbpUsd.toFixed(6)), fxQuote('USD', 'JPY', day, usdJpy.toFixed(4)));
}
const fx = new FxTable(quotes);

const entry = (date: string, type: LedgerEntry['type'], amount: D, currency: string, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  date,
  type,
  securityId: null,
  quantity: null,
  price: null,
  amount,
  currency,
  splitRatio: null,
  ...extra,
});
const entries: LedgerEntry[] = [];
for (const ccy of CURRENCIES) entries.push(entry('2024-02-29', 'DEPOSIT', dec(2_000_000), ccy));
ids.forEach((id, i) => {
  const q = fixed(100 + 900 * rnd(), 3);
  const price = firstClose.get(id)!;
  entries.push(entry(i % 5 === 0 ? days[10]! : '2024-02-29', 'BUY', q.times(price).neg(), securities.get(id)!.currency, { securityId: id, quantity: q, price }));
});
entries.push(
  entry(days[20]!, 'SELL', dec('12345.678'), 'USD', { securityId: 's0', quantity: dec('50.5'), price: dec('244.4906') }),
  entry(days[25]!, 'SPLIT', ZERO, 'GBP', { securityId: 's1', splitRatio: dec(3) }),
  entry(days[30]!, 'DIVIDEND', dec('777.77'), 'JPY', { securityId: 's2' }),
  entry(days[31]!, 'DIVIDEND', dec('123.45'), 'EUR', { securityId: 's3' }),
  entry(days[40]!, 'WITHDRAWAL', dec('-250000'), 'EUR'),
  entry(days[45]!, 'DEPOSIT', dec('99999.99'), 'USD'),
);

const pdays = portfolioDays({ baseCurrency: 'EUR', entries, securities, prices, fx, days });
const bySector = (sid: string) => groupOf('SECTOR', securities.get(sid)!);
const cashGroup = () => CASH_GROUP;

// Benchmark: Tech, Energy, Health, Utilities and Materials (not held); weights fixed, returns
// random, except every ninth day, where every group's return is the portfolio's plus 1e-9.
const weights = ['0.3', '0.2', '0.15', '0.25', '0.1'].map(dec);
const groups = ['Tech', 'Energy', 'Health', 'Utilities', 'Materials'];
const benchmark: BenchmarkDay[] = pdays.days.map((d, t) => {
  const near = d.end.div(d.start).minus(ONE).plus('1e-9');
  const rets = groups.map(() => (t % 9 === 4 ? near : fixed((rnd() - 0.5) * 0.05, 12)));
  return {
    date: d.date,
    total: sum(rets.map((r, i) => weights[i]!.times(r))),
    groups: new Map(groups.map((g, i) => [g, { weight: weights[i]!, ret: rets[i]! }])),
  };
});

/** The formulas on Decimals, each operation rounded by decimal.js. */
function reference(portfolio: PortfolioDays, bench: readonly BenchmarkDay[]) {
  const { scale } = portfolio;
  const carino = (r: D, b: D): D => {
    if (r.eq(b)) return ONE.div(ONE.plus(r));
    const u = r.minus(b).div(ONE.plus(b));
    if (u.abs().lt('1e-4')) {
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
  };
  type G = { key: string; wp: D; wb: D; rp: D; rb: D; a: D; s: D; i: D };
  const periods: { rp: D; rb: D; groups: G[]; inv: D; day: PortfolioDays['days'][number] }[] = [];
  for (const d of portfolio.days) {
    const b = bench.find((x) => x.date === d.date);
    if (!b || !d.start.gt(0)) continue;
    const inv = ONE.div(d.start);
    const g = new Map<string, { s: D; e: D }>();
    const add = (key: string, s: bigint, e: bigint) => {
      const x = g.get(key) ?? { s: ZERO, e: ZERO };
      g.set(key, { s: x.s.plus(decimalOf(s, scale)), e: x.e.plus(decimalOf(e, scale)) });
    };
    for (const h of d.holdings) add(bySector(h.securityId), h.start, h.end);
    for (const c of d.cash) add(cashGroup(), c.start, c.end);
    const rows = [...new Set([...g.keys(), ...b.groups.keys()])].map((key) => {
      const pg = g.get(key);
      const bg = b.groups.get(key);
      return { key, wp: pg ? pg.s.times(inv) : ZERO, wb: bg?.weight ?? ZERO, rp: pg && !pg.s.isZero() ? pg.e.minus(pg.s).div(pg.s) : null, rb: bg?.ret ?? null };
    });
    const remainder = ONE.minus(sum(rows.map((r) => r.wp)));
    const largest = rows.reduce((a, c) => (c.wp.abs().gt(a.wp.abs()) ? c : a));
    largest.wp = largest.wp.plus(remainder);
    const Rb = sum(rows.map((r) => (r.rb === null ? ZERO : r.wb.times(r.rb))));
    const resolved = rows.map((r): G => {
      const rb = r.rb ?? Rb;
      const rp = r.rp ?? rb;
      const dw = r.wp.minus(r.wb);
      return { key: r.key, wp: r.wp, wb: r.wb, rp, rb, a: dw.times(rb.minus(Rb)), s: r.wb.times(rp.minus(rb)), i: dw.times(rp.minus(rb)) };
    });
    periods.push({ rp: sum(resolved.map((r) => r.wp.times(r.rp))), rb: Rb, groups: resolved, inv, day: d });
  }
  const R = periods.reduce((g, p) => g.times(ONE.plus(p.rp)), ONE).minus(ONE);
  const B = periods.reduce((g, p) => g.times(ONE.plus(p.rb)), ONE).minus(ONE);
  const K = carino(R, B);
  const linked = new Map<string, { a: D; s: D; i: D; wp: D; wb: D; gp: D; gb: D }>();
  periods.forEach((p) => {
    const k = carino(p.rp, p.rb).div(K);
    for (const g of p.groups) {
      const x = linked.get(g.key) ?? { a: ZERO, s: ZERO, i: ZERO, wp: ZERO, wb: ZERO, gp: ONE, gb: ONE };
      linked.set(g.key, {
        a: x.a.plus(g.a.times(k)),
        s: x.s.plus(g.s.times(k)),
        i: x.i.plus(g.i.times(k)),
        wp: x.wp.plus(g.wp),
        wb: x.wb.plus(g.wb),
        gp: x.gp.times(ONE.plus(g.rp)),
        gb: x.gb.times(ONE.plus(g.rb)),
      });
    }
  });
  const n = periods.length;
  const out = [...linked].map(([key, x]) => ({ key, wp: x.wp.div(n), wb: x.wb.div(n), rp: x.gp.minus(ONE), rb: x.gb.minus(ONE), a: x.a, s: x.s, i: x.i }));
  // Contributions: Σ_t (V1 − V0)·(1/W0_t)·(k_t/K) and Σ_t V0·(1/W0_t) exactly (200 digits hold
  // them), rounded once.
  const W = D.clone({ precision: 200 });
  const K0 = carino(R, ZERO);
  const sums = new Map<string, { c: D; w: D }>();
  let cash = new W(0);
  for (const p of periods) {
    const link = new W(p.inv).times(carino(p.rp, ZERO).div(K0));
    for (const h of p.day.holdings) {
      const x = sums.get(h.securityId) ?? { c: new W(0), w: new W(0) };
      const v0 = new W(decimalOf(h.start, scale));
      sums.set(h.securityId, { c: x.c.plus(new W(decimalOf(h.end, scale)).minus(v0).times(link)), w: x.w.plus(v0.times(p.inv)) });
    }
    for (const c of p.day.cash) cash = cash.plus(new W(decimalOf(c.end, scale)).minus(new W(decimalOf(c.start, scale))).times(link));
  }
  return {
    R,
    B,
    groups: out,
    effects: [sum(out.map((g) => g.a)), sum(out.map((g) => g.s)), sum(out.map((g) => g.i))],
    contributions: new Map([...sums].map(([sid, x]) => [sid, [new D(x.c).toSignificantDigits(40), new D(x.w).div(n)]])),
    cash: new D(cash).toSignificantDigits(40),
  };
}

describe('dailyAttribution in fixed-point against the Decimal formulas', () => {
  it('gives the same digits on a multi-currency portfolio over 60 days', () => {
    const got = dailyAttribution(pdays, benchmark, bySector, cashGroup);
    const ref = reference(pdays, benchmark);
    const s = (x: D) => x.toFixed();
    // The data reach both of Carino's branches, the groups only one side holds, and long digits.
    expect(pdays.days.length).toBe(60);
    expect(got.linked.groups.map((g) => g.key).sort()).toEqual(['CASH', 'Energy', 'Financials', 'Health', 'Materials', 'Tech', 'UNCLASSIFIED', 'Utilities']);
    expect(got.linked.portfolioReturn.precision()).toBeGreaterThan(35);

    expect([got.linked.portfolioReturn, got.linked.benchmarkReturn, got.linked.activeReturn].map(s)).toEqual([ref.R, ref.B, ref.R.minus(ref.B)].map(s));
    expect([got.linked.allocation, got.linked.selection, got.linked.interaction].map(s)).toEqual(ref.effects.map(s));
    expect(got.linked.groups.map((g) => [g.key, ...[g.portfolioWeight, g.benchmarkWeight, g.portfolioReturn, g.benchmarkReturn, g.allocation, g.selection, g.interaction].map(s)])).toEqual(
      ref.groups.map((g) => [g.key, ...[g.wp, g.wb, g.rp, g.rb, g.a, g.s, g.i].map(s)]),
    );
    expect(got.contributions).toHaveLength(30);
    for (const c of got.contributions) expect([c.securityId, s(c.contribution), s(c.averageWeight)]).toEqual([c.securityId, ...ref.contributions.get(c.securityId)!.map(s)]);
    expect(s(got.cashContribution)).toBe(s(ref.cash));
  });
});
