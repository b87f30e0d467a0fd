import { D, dec, ONE, sum, ZERO } from '../../../src/domain/decimal';
import { decimalOf, unitsOf } from '../../../src/domain/fixed';
import { carinoFactor } from '../../../src/domain/analytics/attribution';
import { FxTable, fxQuote } from '../../../src/domain/fx';
import type { LedgerEntry } from '../../../src/domain/nav-series';
import { dailyAttribution, groupOf, portfolioDays, CASH_GROUP, UNCLASSIFIED_GROUP, type CloseSeries, type SecurityInfo } from '../../../src/domain/analytics/holdings';
import type { BenchmarkDay } from '../../../src/domain/analytics/benchmark';

/*
 * Worked example (hand computation, exact): a USD portfolio over Tue 2024-01-02 (D0),
 * 01-03 (D1), 01-04 (D2).
 *   X  USD  Tech               closes 10, 11, 6 (unadjusted: a 2-for-1 split on 01-04)
 *   Y  EUR  (no sector)        closes 25, 25, (none: 25 carried)   EUR→USD 1.0, 1.2, (carried 1.2)
 * Ledger: 01-01 DEPOSIT 900 USD; BUY X 50 @ 10 (−500 USD)        → USD cash 400
 *         01-02 DEPOSIT 100 EUR; BUY Y 4 @ 25 (−100 EUR)         → EUR cash 0 (skipped)
 *         01-03 DIVIDEND X 5 USD; BUY X 10 @ 11 (−110 USD)       → enter from D2: USD cash 295, X 60
 *         01-04 SPLIT X ×2
 * D1 (positions at the close of D0: X 50, Y 4, USD 400):
 *   X  start 50 × 10 = 500        end 50 × 11 + dividend 5 = 555
 *   Y  start 4 × 25 × 1.0 = 100   end 4 × 25 × 1.2 = 120
 *   USD start 400, end 400                      → start 1,000, end 1,075 (return 0.075)
 * D2 (X 60, Y 4, USD 295):
 *   X  start 60 × 11 = 660        end 60 × 2 × 6 = 720
 *   Y  start 4 × 25 × 1.2 = 120   end 120
 *   USD 295 / 295                               → start 1,075, end 1,135 (return 60/1,075)
 *
 * Attribution of D1 by SECTOR against a benchmark day Tech (w 0.6, r 0.10), Energy (w 0.4, r 0.05):
 *   Rb = 0.06 + 0.02 = 0.08;  Rp = 0.075.
 *   group         wp    wb    rp     rb               allocation           selection        interaction
 *   Tech          0.5   0.6   0.11   0.10             −0.1 × 0.02 = −0.002  0.6 × 0.01 = 0.006  −0.1 × 0.01 = −0.001
 *   UNCLASSIFIED  0.1   0     0.20   (absent) 0.08     0.1 × 0 = 0          0                 0.1 × 0.12 = 0.012
 *   CASH          0.4   0     0      (absent) 0.08     0.4 × 0 = 0          0                 0.4 × −0.08 = −0.032
 *   Energy        0     0.4   (—) 0.05  0.05          −0.4 × −0.03 = 0.012  0                 0
 *   totals                                             0.010                0.006             −0.021   = 0.075 − 0.08
 * One day: Carino's k_t/K = 1, so the linked effects are the day's. Contributions: X 55/1,000 =
 * 0.055, Y 20/1,000 = 0.02, cash 0; average weights 0.5 and 0.1.
 */

const D0 = '2024-01-02';
const D1 = '2024-01-03';
const D2 = '2024-01-04';
const e = (date: string, type: LedgerEntry['type'], amount: string, currency: string, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  date,
  type,
  securityId: null,
  quantity: null,
  price: null,
  amount: dec(amount),
  currency,
  splitRatio: null,
  ...extra,
});
const entries: LedgerEntry[] = [
  e('2024-01-01', 'DEPOSIT', '900', 'USD'),
  e('2024-01-01', 'BUY', '-500', 'USD', { securityId: 'x', quantity: dec(50), price: dec(10) }),
  e(D0, 'DEPOSIT', '100', 'EUR'),
  e(D0, 'BUY', '-100', 'EUR', { securityId: 'y', quantity: dec(4), price: dec(25) }),
  e(D2, 'SPLIT', '0', 'USD', { securityId: 'x', splitRatio: dec(2) }),
  e(D1, 'DIVIDEND', '5', 'USD', { securityId: 'x' }),
  e(D1, 'BUY', '-110', 'USD', { securityId: 'x', quantity: dec(10), price: dec(11) }),
];
const securities = new Map<string, SecurityInfo>([
  ['x', { symbol: 'X', currency: 'USD', sector: 'Tech', assetClass: 'Equity', country: 'US' }],
  ['y', { symbol: 'Y', currency: 'EUR', sector: null, assetClass: 'Equity', country: 'DE' }],
]);
const ps = (dates: string[], closes: string[]): CloseSeries => ({ dates, closes: closes.map((c) => unitsOf(dec(c))) });
const prices = new Map<string, CloseSeries>([
  ['x', ps([D0, D1, D2], ['10', '11', '6'])],
  ['y', ps([D0, D1], ['25', '25'])],
]);
const fx = new FxTable([fxQuote('EUR', 'USD', D0, '1.0'), fxQuote('EUR', 'USD', D1, '1.2')]);
const s = (x: D) => x.toString();
const u2 = (x: bigint, scale: number) => decimalOf(x, scale).toString();

describe('portfolioDays: holdings-based start and end values', () => {
  const { scale, days } = portfolioDays({ baseCurrency: 'USD', entries, securities, prices, fx, days: [D0, D1, D2] });
  const u = (x: bigint) => decimalOf(x, scale).toString();

  it('values positions held at the previous close, with dividends, splits and FX', () => {
    expect(days.map((d) => [d.date, s(d.start), s(d.end)])).toEqual([
      [D1, '1000', '1075'],
      [D2, '1075', '1135'],
    ]);
    expect(days[0]!.holdings.map((h) => [h.securityId, u(h.start), u(h.end)])).toEqual([
      ['x', '500', '555'],
      ['y', '100', '120'],
    ]);
    expect(days[1]!.holdings.map((h) => [h.securityId, u(h.start), u(h.end)])).toEqual([
      ['x', '660', '720'],
      ['y', '120', '120'],
    ]);
    // EUR cash is 0 and skipped; trades and the dividend of D1 only enter on D2.
    expect(days.map((d) => d.cash.map((c) => [c.currency, u(c.start), u(c.end)]))).toEqual([[['USD', '400', '400']], [['USD', '295', '295']]]);
  });

  it('a split day ends on the quantity the split leaves, rounded as the lots and the NAV replay round it', () => {
    // 3.3333333333 × 1.5 = 4.99999999995 → 5 (splitQuantity): the split day ends at 5 × 4 = 20, the
    // value the next day starts from, not 4.99999999995 × 4 = 19.9999999998.
    const f = portfolioDays({
      baseCurrency: 'USD',
      entries: [e('2024-01-01', 'BUY', '-20', 'USD', { securityId: 'f', quantity: dec('3.3333333333'), price: dec(6) }), e(D1, 'SPLIT', '0', 'USD', { securityId: 'f', splitRatio: dec('1.5') })],
      securities: new Map([['f', { symbol: 'F', currency: 'USD', sector: null, assetClass: null, country: null }]]),
      prices: new Map([['f', ps([D0, D1, D2], ['6', '4', '4'])]]),
      fx,
      days: [D0, D1, D2],
    });
    expect(f.days.map((d) => d.holdings.map((h) => [u2(h.start, f.scale), u2(h.end, f.scale)]))).toEqual([[['19.9999999998', '20']], [['20', '20']]]);
  });

  it('no days or a single day give nothing', () => {
    expect(portfolioDays({ baseCurrency: 'USD', entries, securities, prices, fx, days: [] }).days).toEqual([]);
    expect(portfolioDays({ baseCurrency: 'USD', entries, securities, prices, fx, days: [D0] }).days).toEqual([]);
  });

  it('a position without closes is valued at its last trade price; one without an FX rate is left out', () => {
    const z = portfolioDays({
      baseCurrency: 'USD',
      entries: [e('2024-01-01', 'BUY', '-7', 'USD', { securityId: 'z', quantity: dec(1), price: dec(7) }), e('2024-01-01', 'BUY', '-3', 'JPY', { securityId: 'j', quantity: dec(1), price: dec(3) })],
      securities: new Map([
        ['z', { symbol: 'Z', currency: 'USD', sector: null, assetClass: null, country: null }],
        ['j', { symbol: 'J', currency: 'JPY', sector: null, assetClass: null, country: null }],
      ]),
      prices: new Map(),
      fx,
      days: [D0, D1],
    });
    // Z at 7 both ends; J (no JPY rate) and the JPY cash are skipped; USD cash −7.
    expect(z.days.map((d) => [s(d.start), s(d.end), d.holdings.map((h) => h.securityId), d.cash.map((c) => c.currency)])).toEqual([['0', '0', ['z'], ['USD']]]);
    expect(decimalOf(z.days[0]!.holdings[0]!.start, z.scale).toString()).toBe('7');
  });

  it('gives the digits of the Decimal products and sums where they round (40 significant digits)', () => {
    // A EUR portfolio valuing USD and JPY positions: USD→EUR and JPY→EUR are inverses (rounded
    // to 40 digits), quantities have 7 decimals, so q × p × x and the sums round.
    const cross = new FxTable([fxQuote('EUR', 'USD', D0, '1.0871234567'), fxQuote('EUR', 'USD', D1, '1.0869'), fxQuote('USD', 'JPY', D0, '151.3712345'), fxQuote('USD', 'JPY', D1, '149.9998765')]);
    const q = [dec('1234.5678901'), dec('987.6543211')];
    const pr = new Map<string, CloseSeries>([
      ['a', ps([D0, D1], ['101.123456', '99.987654'])],
      ['b', ps([D0, D1], ['5550', '5605.5'])],
    ]);
    const sec = new Map<string, SecurityInfo>([
      ['a', { symbol: 'A', currency: 'USD', sector: null, assetClass: null, country: null }],
      ['b', { symbol: 'B', currency: 'JPY', sector: null, assetClass: null, country: null }],
    ]);
    const cashIn = new Map([['EUR', dec('1000000.01')], ['USD', dec('-124833.333')], ['JPY', dec('-5481481.48')]]);
    const ents = [
      e('2024-01-01', 'DEPOSIT', '1000000.01', 'EUR'),
      e('2024-01-01', 'BUY', '-124833.333', 'USD', { securityId: 'a', quantity: q[0]!, price: dec('101.1') }),
      e('2024-01-01', 'BUY', '-5481481.48', 'JPY', { securityId: 'b', quantity: q[1]!, price: dec('5550') }),
    ];
    const r = portfolioDays({ baseCurrency: 'EUR', entries: ents, securities: sec, prices: pr, fx: cross, days: [D0, D1] });
    const rate = (c: string, d: string) => (c === 'EUR' ? ONE : cross.convertRate(c, 'EUR', d)!.rate);
    const starts = [q[0]!.times('101.123456').times(rate('USD', D0)), q[1]!.times('5550').times(rate('JPY', D0))];
    const ends = [q[0]!.times('99.987654').times(rate('USD', D1)), q[1]!.times('5605.5').times(rate('JPY', D1))];
    const day = r.days[0]!;
    expect(day.holdings.map((h) => [u2(h.start, r.scale), u2(h.end, r.scale)])).toEqual(starts.map((x, i) => [s(x), s(ends[i]!)]));
    expect([...starts, ...ends].filter((x) => x.precision() === 40).length).toBeGreaterThanOrEqual(3);
    const cs = day.cash.map((c) => cashIn.get(c.currency)!.times(rate(c.currency, D0)));
    const ce = day.cash.map((c) => cashIn.get(c.currency)!.times(rate(c.currency, D1)));
    expect(day.cash.map((c) => [c.currency, u2(c.start, r.scale), u2(c.end, r.scale)])).toEqual(day.cash.map((c, i) => [c.currency, s(cs[i]!), s(ce[i]!)]));
    expect(day.cash).toHaveLength(3);
    expect(s(day.start)).toBe(s(sum(starts).plus(sum(cs))));
    expect(s(day.end)).toBe(s(sum(ends).plus(sum(ce))));
  });
});

describe('groupOf', () => {
  const info: SecurityInfo = { symbol: 'Y', currency: 'EUR', sector: null, assetClass: 'Equity', country: 'DE' };
  it('classifies by sector, asset class, country or currency; missing data is UNCLASSIFIED', () => {
    expect(groupOf('SECTOR', info)).toBe(UNCLASSIFIED_GROUP);
    expect(groupOf('ASSET_CLASS', info)).toBe('Equity');
    expect(groupOf('COUNTRY', info)).toBe('DE');
    expect(groupOf('CURRENCY', info)).toBe('EUR');
  });
});

describe('dailyAttribution: Brinson-Fachler per day on holdings, Carino-linked', () => {
  const pdays = portfolioDays({ baseCurrency: 'USD', entries, securities, prices, fx, days: [D0, D1, D2] });
  const bday = (date: string, tech: string, energy: string): BenchmarkDay => ({
    date,
    total: dec('0.6').times(tech).plus(dec('0.4').times(energy)),
    groups: new Map([
      ['Tech', { weight: dec('0.6'), ret: dec(tech) }],
      ['Energy', { weight: dec('0.4'), ret: dec(energy) }],
    ]),
  });
  const bySector = (sid: string) => groupOf('SECTOR', securities.get(sid)!);
  const cashGroup = () => CASH_GROUP;

  it('one day matches the hand computation exactly', () => {
    const r = dailyAttribution({ ...pdays, days: pdays.days.slice(0, 1) }, [bday(D1, '0.10', '0.05')], bySector, cashGroup);
    expect([r.linked.portfolioReturn, r.linked.benchmarkReturn, r.linked.activeReturn].map(s)).toEqual(['0.075', '0.08', '-0.005']);
    expect([r.linked.allocation, r.linked.selection, r.linked.interaction].map(s)).toEqual(['0.01', '0.006', '-0.021']);
    const groups = Object.fromEntries(r.linked.groups.map((g) => [g.key, [g.portfolioWeight, g.benchmarkWeight, g.portfolioReturn, g.benchmarkReturn, g.allocation, g.selection, g.interaction].map(s)]));
    expect(groups).toEqual({
      Tech: ['0.5', '0.6', '0.11', '0.1', '-0.002', '0.006', '-0.001'],
      UNCLASSIFIED: ['0.1', '0', '0.2', '0.08', '0', '0', '0.012'],
      CASH: ['0.4', '0', '0', '0.08', '0', '0', '-0.032'],
      Energy: ['0', '0.4', '0.05', '0.05', '0.012', '0', '0'],
    });
    expect(r.contributions.map((c) => [c.securityId, s(c.contribution), s(c.averageWeight)])).toEqual([
      ['x', '0.055', '0.5'],
      ['y', '0.02', '0.1'],
    ]);
    expect(s(r.cashContribution)).toBe('0');
  });

  it('two days: the effects add up to the linked active return, the contributions to the linked return', () => {
    const r = dailyAttribution(pdays, [bday(D1, '0.10', '0.05'), bday(D2, '0.02', '-0.01')], bySector, cashGroup);
    // R = 1.075 × 1,135/1,075 − 1 = 0.135; B = 1.08 × 1.008 − 1 = 0.08864.
    expect(r.linked.portfolioReturn.minus('0.135').abs().lte('1e-38')).toBe(true);
    expect(s(r.linked.benchmarkReturn)).toBe('0.08864');
    const effects = r.linked.allocation.plus(r.linked.selection).plus(r.linked.interaction);
    expect(effects.minus(r.linked.activeReturn).abs().lte('1e-36')).toBe(true);
    const total = r.contributions.reduce((a, c) => a.plus(c.contribution), r.cashContribution);
    expect(total.minus(r.linked.portfolioReturn).abs().lte('1e-36')).toBe(true);
    expect(r.daily).toHaveLength(2);
  });

  it('contributions and average weights are the exact sums over days of the 40-digit factors, rounded once', () => {
    const r = dailyAttribution(pdays, [bday(D1, '0.10', '0.05'), bday(D2, '0.02', '-0.01')], bySector, cashGroup);
    // Σ_t (V1 − V0) × (1/W0_t) × (k_t/K) in 200 digits from the same 40-digit factors, then
    // rounded to 40: 1/1,075 and k_t/K do not terminate, so a rounding per operation would differ.
    const W = D.clone({ precision: 200 });
    const K = carinoFactor(r.linked.portfolioReturn, ZERO);
    const factors = pdays.days.map((d, t) => ({ inv: new W(ONE.div(d.start)), link: new W(ONE.div(d.start)).times(carinoFactor(r.daily[t]!.portfolioReturn, ZERO).div(K)) }));
    for (const sid of ['x', 'y']) {
      let c = new W(0);
      let w = new W(0);
      pdays.days.forEach((d, t) => {
        const h = d.holdings.find((x) => x.securityId === sid)!;
        const v0 = new W(decimalOf(h.start, pdays.scale));
        c = c.plus(new W(decimalOf(h.end, pdays.scale)).minus(v0).times(factors[t]!.link));
        w = w.plus(v0.times(factors[t]!.inv));
      });
      const got = r.contributions.find((x) => x.securityId === sid)!;
      expect(s(got.contribution)).toBe(s(new D(c).toSignificantDigits(40)));
      expect(s(got.averageWeight)).toBe(s(new D(w).div(2)));
    }
  });

  it('days without a benchmark day or without capital are skipped; none left gives zeros', () => {
    const r = dailyAttribution(pdays, [], bySector, cashGroup);
    expect([r.linked.portfolioReturn, r.linked.allocation, r.cashContribution].map(s)).toEqual(['0', '0', '0']);
    expect(r.daily).toEqual([]);
    expect(r.contributions).toEqual([]);
    const empty = dailyAttribution({ scale: 0, days: [{ date: D1, start: ZERO, end: ZERO, holdings: [], cash: [] }] }, [bday(D1, '0.1', '0.05')], bySector, cashGroup);
    expect(empty.daily).toEqual([]);
  });
});
