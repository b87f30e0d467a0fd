import { dec } from '../../../src/domain/decimal';
import { DomainError } from '../../../src/domain/errors';
import { FxTable, fxQuote } from '../../../src/domain/fx';
import type { PriceSeries } from '../../../src/domain/nav-series';
import {
  benchmarkGroupReturns,
  benchmarkGroupReturnsFromSums,
  benchmarkReturns,
  constituentValues,
  validateBenchmarkWeights,
  type BenchmarkConstituentInput,
} from '../../../src/domain/analytics/benchmark';

/*
 * Worked example (hand computation, exact fractions; the Decimal strings follow from the
 * domain's 40-significant-digit division, rounded half-even):
 *
 * A USD benchmark, rebalanced daily, days Tue 2024-01-02 (D0), 01-03 (D1), 01-04 (D2):
 *   AAA  USD  Tech    w = 0.6   closes 100, 105, 102.9
 *   EEE  EUR  Energy  w = 0.4   closes  50,  50,  51      EUR→USD 1.10, 1.12, (none: carried 1.12)
 * Values in USD V_i(t) = close × FX:
 *   AAA 100, 105, 102.9          r1 = 105/100 − 1 = 0.05     r2 = 102.9/105 − 1 = −0.02
 *   EEE  55,  56,  57.12         r1 = 56/55 − 1 = 1/55        r2 = 57.12/56 − 1 = 0.02
 * 56/55 = 1.0181818… is rounded to 40 significant digits: 1.0 followed by "18" × 19 (the 41st
 * digit is 1, rounded down), so r1(EEE) = 0.0 followed by "18" × 19 (38 significant digits).
 *   R_b(D1) = 0.6 · 0.05 + 0.4 · r1(EEE) = 0.03 + 0.00 "72" × 19 = 0.03 "72" × 19   (exactly 41/1100 to 39 digits)
 *   R_b(D2) = 0.6 · (−0.02) + 0.4 · 0.02 = −0.012 + 0.008 = −0.004
 * Per group (Σ w_i r_i / Σ w_i): Tech 0.03/0.6 = 0.05 and −0.012/0.6 = −0.02;
 * Energy 0.4·r1/0.4 = r1 and 0.008/0.4 = 0.02.
 */

const DAYS = ['2024-01-02', '2024-01-03', '2024-01-04'];
const series = (dates: string[], closes: string[]): PriceSeries => ({ dates, closes: closes.map(dec) });
const AAA: BenchmarkConstituentInput = { securityId: 'a', symbol: 'AAA', currency: 'USD', weight: dec('0.6'), group: 'Tech' };
const EEE: BenchmarkConstituentInput = { securityId: 'e', symbol: 'EEE', currency: 'EUR', weight: dec('0.4'), group: 'Energy' };
const prices = new Map<string, PriceSeries>([
  ['a', series(DAYS, ['100', '105', '102.9'])],
  ['e', series(DAYS, ['50', '50', '51'])],
]);
const fx = new FxTable([fxQuote('EUR', 'USD', '2024-01-02', '1.10'), fxQuote('EUR', 'USD', '2024-01-03', '1.12')]);
const R1_EEE = '0.0' + '18'.repeat(19);

describe('benchmark: daily-rebalanced returns in the benchmark currency', () => {
  it('constituent values carry the last close and FX rate on or before each day', () => {
    const v = constituentValues({ currency: 'USD', constituents: [AAA, EEE], prices, fx, days: DAYS });
    expect(v.map((row) => row.map((x) => x.toString()))).toEqual([
      ['100', '55'],
      ['105', '56'],
      ['102.9', '57.12'],
    ]);
  });

  it('total and per-group returns match the worked example, digit for digit', () => {
    const out = benchmarkGroupReturns({ currency: 'USD', constituents: [AAA, EEE], prices, fx, days: DAYS });
    expect(out.map((d) => d.date)).toEqual(['2024-01-03', '2024-01-04']);
    expect(out[0]!.total.toString()).toBe('0.03' + '72'.repeat(19));
    expect(out[1]!.total.toString()).toBe('-0.004');
    const g = (i: number, k: string) => out[i]!.groups.get(k)!;
    expect([g(0, 'Tech').weight.toString(), g(0, 'Tech').ret.toString()]).toEqual(['0.6', '0.05']);
    expect([g(0, 'Energy').weight.toString(), g(0, 'Energy').ret.toString()]).toEqual(['0.4', R1_EEE]);
    expect(g(1, 'Tech').ret.toString()).toBe('-0.02');
    expect(g(1, 'Energy').ret.toString()).toBe('0.02');
    expect(benchmarkReturns({ currency: 'USD', constituents: [AAA, EEE], prices, fx, days: DAYS }).map((r) => [r.date, r.ret.toString()])).toEqual([
      ['2024-01-03', '0.03' + '72'.repeat(19)],
      ['2024-01-04', '-0.004'],
    ]);
  });

  it('without groups everything is in ALL; a single security is allowed; a missing close counts 0', () => {
    const one = benchmarkGroupReturns({
      currency: 'USD',
      constituents: [{ securityId: 'a', symbol: 'AAA', currency: 'USD', weight: dec(1) }],
      // No close on 01-03: 100 is carried, so D1 returns 0 and D2 returns 102.9/100 − 1 = 0.029.
      prices: new Map([['a', series(['2024-01-01', '2024-01-04'], ['100', '102.9'])]]),
      fx,
      days: DAYS,
    });
    expect(one.map((d) => [d.total.toString(), [...d.groups.keys()], d.groups.get('ALL')!.ret.toString()])).toEqual([
      ['0', ['ALL'], '0'],
      ['0.029', ['ALL'], '0.029'],
    ]);
  });

  it('a single day gives no return; no days give none', () => {
    expect(benchmarkReturns({ currency: 'USD', constituents: [AAA, EEE], prices, fx, days: DAYS.slice(0, 1) })).toEqual([]);
    expect(benchmarkReturns({ currency: 'USD', constituents: [AAA, EEE], prices, fx, days: [] })).toEqual([]);
  });

  it('a constituent without a close, with a zero close or without FX is BAD_USER_INPUT naming it', () => {
    const run = (p: Map<string, PriceSeries>, table = fx) => () => benchmarkGroupReturns({ currency: 'USD', constituents: [AAA, EEE], prices: p, fx: table, days: DAYS });
    expect(run(new Map([['a', prices.get('a')!]]))).toThrow(/EEE has no close on or before 2024-01-02/);
    expect(run(new Map([['a', prices.get('a')!], ['e', series(['2024-01-03'], ['50'])]]))).toThrow(/EEE has no close on or before 2024-01-02/);
    expect(run(new Map([['a', series(DAYS, ['0', '1', '1'])], ['e', prices.get('e')!]]))).toThrow(/AAA has a zero close/);
    expect(run(prices, new FxTable([fxQuote('EUR', 'USD', '2024-01-03', '1.1')]))).toThrow(/no FX rate EUR→USD on or before 2024-01-02 for benchmark constituent EEE/);
    try {
      run(new Map())();
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('validateBenchmarkWeights', () => {
  const c = (symbol: string, weight: string) => ({ symbol, weight: dec(weight) });
  it('accepts positive weights summing to exactly 1 (within 1e-20)', () => {
    expect(() => validateBenchmarkWeights([c('A', '0.25'), c('B', '0.75')])).not.toThrow();
    expect(() => validateBenchmarkWeights([c('A', '1')])).not.toThrow();
    expect(() => validateBenchmarkWeights([c('A', '0.5'), c('B', '0.50000000000000000000001')])).not.toThrow();
  });
  it('refuses empty lists, duplicates, non-positive weights and sums off 1', () => {
    expect(() => validateBenchmarkWeights([])).toThrow(/at least one constituent/);
    expect(() => validateBenchmarkWeights([c('A', '0.5'), c('A', '0.5')])).toThrow(/A appears twice/);
    expect(() => validateBenchmarkWeights([c('A', '1.5'), c('B', '-0.5')])).toThrow(/B: weight must be > 0/);
    expect(() => validateBenchmarkWeights([c('A', '0'), c('B', '1')])).toThrow(/A: weight must be > 0/);
    // 3 × 0.333333333333 = 0.999999999999: off by 1e-12.
    expect(() => validateBenchmarkWeights([c('A', '0.333333333333'), c('B', '0.333333333333'), c('C', '0.333333333333')])).toThrow(/sum to 0.999999999999, not 1/);
  });
});

/*
 * The same worked example from per-(day, group, currency) sums of PRICE returns, as the
 * database aggregates them (analytics-data.ts loadBenchmarkSums):
 *   day 1: Tech/USD 0.6 × 0.05 = 0.03;  Energy/EUR: 50 → 50, no new price, no row (A = 0)
 *   day 2: Tech/USD 0.6 × (−0.02) = −0.012;  Energy/EUR 0.4 × (51/50 − 1) = 0.008
 * FX ratio EUR→USD f: day 1 1.12/1.10 = 1.0 "18" × 19 (40 digits, as 56/55); day 2 1.12/1.12 = 1.
 * Energy: f·(W + A) − W = 0.4 · 1.0"18"×19 − 0.4 = 0.00"72"×19 (exact), / 0.4 = r1(EEE) as above;
 * day 2: A = 0.008 → 0.02. So here both paths agree digit for digit.
 */
describe('benchmarkGroupReturnsFromSums', () => {
  const sums = [
    { day: 1, group: 'Tech', currency: 'USD', sum: dec('0.03') },
    { day: 2, group: 'Tech', currency: 'USD', sum: dec('-0.012') },
    { day: 2, group: 'Energy', currency: 'EUR', sum: dec('0.008') },
  ];
  const flat = (days: ReturnType<typeof benchmarkGroupReturns>) =>
    days.map((d) => [d.date, d.total.toString(), [...d.groups].map(([g, x]) => [g, x.weight.toString(), x.ret.toString()])]);

  it('gives the per-constituent results of the worked example exactly', () => {
    const fromSums = benchmarkGroupReturnsFromSums({ currency: 'USD', constituents: [AAA, EEE], fx, days: DAYS, sums });
    expect(flat(fromSums)).toEqual(flat(benchmarkGroupReturns({ currency: 'USD', constituents: [AAA, EEE], prices, fx, days: DAYS })));
    expect(fromSums[0]!.groups.get('Energy')!.ret.toString()).toBe(R1_EEE);
  });

  it('a group without rows on a day returns 0; no FX rate is BAD_USER_INPUT naming a constituent', () => {
    const none = benchmarkGroupReturnsFromSums({ currency: 'USD', constituents: [AAA, { ...EEE, currency: 'USD' }], fx, days: DAYS, sums: [] });
    expect(flat(none)).toEqual([
      ['2024-01-03', '0', [['Tech', '0.6', '0'], ['Energy', '0.4', '0']]],
      ['2024-01-04', '0', [['Tech', '0.6', '0'], ['Energy', '0.4', '0']]],
    ]);
    expect(() => benchmarkGroupReturnsFromSums({ currency: 'USD', constituents: [AAA, EEE], fx: new FxTable([]), days: DAYS, sums })).toThrow(/no FX rate EUR→USD on or before 2024-01-02 for benchmark constituent EEE/);
  });
});
