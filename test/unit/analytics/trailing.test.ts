import { dec, type D } from '../../../src/domain/decimal';
import { FxTable, fxQuote } from '../../../src/domain/fx';
import type { PriceSeries } from '../../../src/domain/nav-series';
import { cumulativeSeries } from '../../../src/domain/analytics/performance';
import { constantHoldingsSeries, slicePeriod, trailingReturns } from '../../../src/domain/analytics/trailing';
import { expectClose, nav } from './helpers';

const s = (x: D | null) => (x === null ? null : x.toString());

describe('slicePeriod', () => {
  const all = [nav('2024-01-02', '100'), nav('2024-01-03', '101'), nav('2024-01-05', '102'), nav('2024-01-08', '103')];
  it('starts at the last point on or before from and ends at the last one on or before to', () => {
    expect(slicePeriod(all, '2024-01-04', '2024-01-08').map((p) => p.date)).toEqual(['2024-01-03', '2024-01-05', '2024-01-08']);
    expect(slicePeriod(all, '2024-01-02', '2024-01-07').map((p) => p.date)).toEqual(['2024-01-02', '2024-01-03', '2024-01-05']);
    expect(slicePeriod(all, '2024-01-03', '2024-01-03').map((p) => p.date)).toEqual(['2024-01-03']);
    expect(slicePeriod(all, '2024-01-09', '2024-01-10').map((p) => p.date)).toEqual(['2024-01-08']);
  });
  it('from before the first point, from after to, or no points → BAD_USER_INPUT', () => {
    expect(() => slicePeriod(all, '2024-01-01', '2024-01-08')).toThrow(/before the portfolio's first NAV point 2024-01-02/);
    expect(() => slicePeriod(all, '2024-01-05', '2024-01-04')).toThrow(/after to/);
    expect(() => slicePeriod([], '2024-01-05', '2024-01-06')).toThrow(/no NAV history/);
  });
});

/*
 * Worked example (hand computation, exact), asOf 2024-03-15, inception 2023-12-29:
 *   2023-12-29 NAV 100
 *   2024-01-31 NAV 110              r = 10/100 = 0.1         growth 1.1
 *   2024-02-29 NAV 121, flow +11    r = (121 − 11 − 110)/110 = 0   growth 1.1
 *   2024-03-15 NAV 133.1            r = 12.1/121 = 0.1        growth 1.21
 * Period starts (periods.ts): MTD 2024-02-29 → G = 1.1 → 1.21/1.1 − 1 = 0.1;
 * QTD = YTD = 2023-12-31 → G at 2023-12-29 = 1 → 0.21; 1Y (2023-03-15), 3Y, 5Y start before
 * inception → null; ITD from 2023-12-29 → 0.21. None is longer than a year: not annualized.
 */
describe('trailingReturns', () => {
  const all = [nav('2023-12-29', '100'), nav('2024-01-31', '110'), nav('2024-02-29', '121', '11'), nav('2024-03-15', '133.1')];

  it('matches the worked example', () => {
    const r = trailingReturns(all);
    expect(r.map((x) => [x.period, x.from, x.to, s(x.return), x.annualized])).toEqual([
      ['MTD', '2024-02-29', '2024-03-15', '0.1', false],
      ['QTD', '2023-12-31', '2024-03-15', '0.21', false],
      ['YTD', '2023-12-31', '2024-03-15', '0.21', false],
      ['1Y', '2023-03-15', '2024-03-15', null, false],
      ['3Y', '2021-03-15', '2024-03-15', null, false],
      ['5Y', '2019-03-15', '2024-03-15', null, false],
      ['ITD', '2023-12-29', '2024-03-15', '0.21', false],
    ]);
    expect(trailingReturns(all, cumulativeSeries(all))).toEqual(r);
  });

  /*
   * Two points 2020-01-01 (100) and 2022-01-01 (121): 731 days (2020 is a leap year).
   * 1Y starts 2021-01-01: G there is still 1 → 0.21 over exactly one year (not annualized).
   * ITD: 1.21^(365/731) − 1 = 0.0998565877382872520549608121609577134909857… (mpmath, 60 digits).
   */
  it('annualizes beyond one year; a one-year period is not', () => {
    const r = trailingReturns([nav('2020-01-01', '100'), nav('2022-01-01', '121')]);
    const by = Object.fromEntries(r.map((x) => [x.period, x]));
    expect([s(by['1Y']!.return), by['1Y']!.annualized]).toEqual(['0.21', false]);
    expect(by['ITD']!.annualized).toBe(true);
    expectClose(by['ITD']!.return, '0.0998565877382872520549608121609577134909857', '1e-36');
    expect(by['3Y']!.return).toBeNull();
  });

  it('no points give no periods; a single point gives 0 since inception; a zero growth index gives 0', () => {
    expect(trailingReturns([])).toEqual([]);
    expect(s(trailingReturns([nav('2024-03-15', '100')]).find((x) => x.period === 'ITD')!.return)).toBe('0');
    // 100 → 0 (−100%, G = 0), then refunded: the MTD start sits at G = 0, reported as 0.
    const wiped = trailingReturns([nav('2024-01-31', '100'), nav('2024-02-29', '0'), nav('2024-03-15', '50', '50')]);
    expect(s(wiped.find((x) => x.period === 'MTD')!.return)).toBe('0');
    expect(s(wiped.find((x) => x.period === 'ITD')!.return)).toBe('-1');
  });
});

/*
 * Worked example (hand computation, exact): USD base, days 01-01 … 01-04 2024.
 *   X  USD  10 units, closes 01-02 10, 01-04 12 (none before 01-02: fallback 9)
 *   Y  EUR   2 units, no closes at all: fallback 30
 *   Z  USD   0 units (ignored)
 *   cash USD 100, EUR 50;  EUR→USD 01-02 1.1, 01-03 1.2 (none before 01-02: EUR left out)
 *   01-01: 10 × 9 + 100                                  = 190
 *   01-02: 10 × 10 + 2 × 30 × 1.1 + 100 + 50 × 1.1       = 100 + 66 + 100 + 55 = 321
 *   01-03: 10 × 10 + 2 × 30 × 1.2 + 100 + 50 × 1.2       = 100 + 72 + 100 + 60 = 332
 *   01-04: 10 × 12 + 72 + 100 + 60                       = 352
 */
describe('constantHoldingsSeries', () => {
  it('values constant quantities and cash at each close, with fallbacks and FX', () => {
    const prices = new Map<string, PriceSeries>([['x', { dates: ['2024-01-02', '2024-01-04'], closes: [dec(10), dec(12)] }]]);
    const fx = new FxTable([fxQuote('EUR', 'USD', '2024-01-02', '1.1'), fxQuote('EUR', 'USD', '2024-01-03', '1.2')]);
    const q = new Map([
      ['x', { quantity: dec(10), currency: 'USD', fallback: dec(9) }],
      ['y', { quantity: dec(2), currency: 'EUR', fallback: dec(30) }],
      ['z', { quantity: dec(0), currency: 'USD', fallback: null }],
    ]);
    const cash = new Map([
      ['USD', dec(100)],
      ['EUR', dec(50)],
    ]);
    const out = constantHoldingsSeries('USD', q, cash, prices, fx, ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']);
    expect(out.map((p) => [p.date, s(p.nav), s(p.netFlow)])).toEqual([
      ['2024-01-01', '190', '0'],
      ['2024-01-02', '321', '0'],
      ['2024-01-03', '332', '0'],
      ['2024-01-04', '352', '0'],
    ]);
    expect(constantHoldingsSeries('USD', q, cash, prices, fx, [])).toEqual([]);
  });
});
