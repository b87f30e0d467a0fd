import { dec } from '../../../src/domain/decimal';
import { DomainError } from '../../../src/domain/errors';
import {
  cumulativeSeries,
  dailyReturns,
  growthIndex,
  investorCashFlows,
  modifiedDietz,
  moneyWeighted,
  mwr,
  performanceSummary,
  twr,
} from '../../../src/domain/analytics/performance';
import { expectClose, nav } from './helpers';

/*
 * Worked example A (independent computation, exact fractions):
 *   close 2024-01-31  NAV 1000              (start of the period: from = 2024-01-31)
 *   close 2024-02-01  NAV 1010              r1 = (1010 − 1000)/1000            = 0.01
 *   close 2024-02-02  NAV 1520, deposit 500 r2 = (1520 − 500 − 1010)/1010      = 1/101
 *   close 2024-02-05  NAV 1482              r3 = (1482 − 1520)/1520            = −0.025
 *   TWR = 1.01 × (102/101) × 0.975 − 1 = 1.02 × 0.975 − 1 = −0.0055 (exactly)
 *   Modified Dietz: T = 5 days, the deposit is t = 2 days in, W = (5 − 2)/5 = 0.6
 *     gain = 1482 − 1000 − 500 = −18; capital = 1000 + 0.6 × 500 = 1300
 *     MD = −18/1300 = −0.0138461538461538461538…
 *   MWR (investor view): −1000 @ 01-31, −500 @ 02-02, +1482 @ 02-05, actual/365:
 *     root of −1000 − 500·(1+r)^(−2/365) + 1482·(1+r)^(−5/365) = 0
 *     r = −0.638384474462949934594049155497… (mpmath findroot, 50 digits)
 */
const exampleA = [
  nav('2024-01-31', '1000'),
  nav('2024-02-01', '1010'),
  nav('2024-02-02', '1520', '500'),
  nav('2024-02-05', '1482'),
];

describe('dailyReturns', () => {
  it('takes the flow at the end of its day (example A)', () => {
    const r = dailyReturns(exampleA);
    expect(r.map((x) => x.date)).toEqual(['2024-02-01', '2024-02-02', '2024-02-05']);
    expectClose(r[0]?.ret, '0.01');
    expectClose(r[1]?.ret, dec(1).div(101));
    expectClose(r[2]?.ret, '-0.025');
  });

  it('flags a zero starting NAV with null instead of dividing by zero', () => {
    const r = dailyReturns([nav('2024-01-01', '0'), nav('2024-01-02', '1000', '1000'), nav('2024-01-03', '1100')]);
    expect(r[0]?.ret).toBeNull();
    expectClose(r[1]?.ret, '0.1');
  });

  it('rejects dates out of order', () => {
    expect(() => dailyReturns([nav('2024-01-02', '1'), nav('2024-01-01', '1')])).toThrow(DomainError);
    expect(() => dailyReturns([nav('2024-01-02', '1'), nav('2024-01-02', '1')])).toThrow(DomainError);
  });
});

describe('twr', () => {
  it('links daily returns geometrically (example A: −0.0055 exactly)', () => {
    expect(twr(exampleA).eq(dec('-0.0055'))).toBe(true);
  });

  it('is 0 for an empty period and for a single point', () => {
    expect(twr([]).isZero()).toBe(true);
    expect(twr([nav('2024-01-01', '100')]).isZero()).toBe(true);
  });

  it('one day: 100 → 101 is 0.01', () => {
    expect(twr([nav('2024-01-01', '100'), nav('2024-01-02', '101')]).eq(dec('0.01'))).toBe(true);
  });

  /*
   * Flows larger than NAV, both ways:
   *   01-01 NAV 100
   *   01-02 deposit 1000, NAV 1105:  r1 = (1105 − 1000 − 100)/100 = 0.05
   *   01-03 value before the flow 1105 × 1.1 = 1215.5, withdraw 1050 → NAV 165.5
   *         r2 = (165.5 + 1050 − 1105)/1105 = 110.5/1105 = 0.1
   *   TWR = 1.05 × 1.1 − 1 = 0.155
   *   MD: T = 2; W(deposit) = 1/2, W(withdrawal on the last day) = 0
   *       gain = 165.5 − 100 − (1000 − 1050) = 115.5; capital = 100 + 500 = 600 → 0.1925
   */
  it('handles flows larger than the NAV', () => {
    const pts = [nav('2024-01-01', '100'), nav('2024-01-02', '1105', '1000'), nav('2024-01-03', '165.5', '-1050')];
    expect(twr(pts).eq(dec('0.155'))).toBe(true);
    expect(modifiedDietz(pts).eq(dec('0.1925'))).toBe(true);
  });

  /*
   * Funded after `from`: NAV 0, deposit 1000 at the close of 01-02, NAV 1100 on 01-03.
   *   day 1 has no capital at risk (null, skipped); day 2 r = 0.1 → TWR = 0.1
   *   MD: T = 2, W = 1/2 → 100 / (0 + 500) = 0.2
   *   MWR: −1000 @ 01-02, +1100 @ 01-03 → 1.1^365 − 1 = 1283305580313351.69689944800789796565545… (mpmath)
   */
  it('skips days with a zero starting NAV', () => {
    const pts = [nav('2024-01-01', '0'), nav('2024-01-02', '1000', '1000'), nav('2024-01-03', '1100')];
    expect(twr(pts).eq(dec('0.1'))).toBe(true);
    expect(modifiedDietz(pts).eq(dec('0.2'))).toBe(true);
    expectClose(mwr(pts), '1283305580313351.69689944800789796565545', '1e-15');
  });

  it('throws BAD_USER_INPUT when the NAV crosses zero', () => {
    const negative = [nav('2024-01-01', '100'), nav('2024-01-02', '-5')];
    expect(() => twr(negative)).toThrow(DomainError);
    try {
      twr(negative);
    } catch (e) {
      expect((e as DomainError).code).toBe('BAD_USER_INPUT');
      expect((e as DomainError).message).toMatch(/crosses zero/);
    }
    // NAV 900 after a 1000 deposit means the portfolio was at −100 before the flow.
    const intraday = [nav('2024-01-01', '100'), nav('2024-01-02', '900', '1000')];
    expect(() => twr(intraday)).toThrow(/crosses zero/);
    expect(() => modifiedDietz(intraday)).toThrow(DomainError);
    expect(() => mwr(intraday)).toThrow(DomainError);
  });
});

describe('cumulativeSeries', () => {
  it('starts at 0 on from and ends at the TWR (example A)', () => {
    const s = cumulativeSeries(exampleA);
    expect(s.map((x) => x.date)).toEqual(['2024-01-31', '2024-02-01', '2024-02-02', '2024-02-05']);
    expect(s[0]?.cumulative.isZero()).toBe(true);
    expectClose(s[1]?.cumulative, '0.01');
    expectClose(s[2]?.cumulative, '0.02'); // 1.01 × 102/101 − 1
    expectClose(s[3]?.cumulative, '-0.0055');
    expect(cumulativeSeries([])).toEqual([]);
  });

  it('reads a growth index given by the caller (shared with risk): G − 1 at each close', () => {
    const daily = dailyReturns(exampleA);
    const growth = growthIndex(daily);
    expect(growth.map((g) => g.toString())).toEqual(['1', '1.01', '1.02', '0.9945']);
    expect(cumulativeSeries(exampleA, daily, growth)).toEqual(cumulativeSeries(exampleA));
    expect(() => cumulativeSeries(exampleA, daily, growth.slice(1))).toThrow('growth index does not match');
  });
});

describe('modifiedDietz', () => {
  it('weights end-of-day flows by (T − t)/T (example A: −18/1300)', () => {
    expectClose(modifiedDietz(exampleA), dec(-18).div(1300));
  });

  it('gives a flow on the last day weight 0', () => {
    // 100 → 110 market, deposit 50 at the close of the last day: (160 − 100 − 50)/(100 + 0·50) = 0.1
    const pts = [nav('2024-01-01', '100'), nav('2024-01-05', '160', '50')];
    expect(modifiedDietz(pts).eq(dec('0.1'))).toBe(true);
  });

  it('is 0 for an empty period or one point', () => {
    expect(modifiedDietz([]).isZero()).toBe(true);
    expect(modifiedDietz([nav('2024-01-01', '100')]).isZero()).toBe(true);
  });

  /*
   * Average capital ≤ 0: NAV 100, +60% on day 1 then withdraw 150 (NAV 10), flat to day 10.
   *   capital = 100 + (10 − 1)/10 × (−150) = −35 → undefined
   */
  it('throws when average invested capital is not positive', () => {
    const pts = [nav('2024-01-01', '100'), nav('2024-01-02', '10', '-150'), nav('2024-01-11', '10')];
    expect(() => modifiedDietz(pts)).toThrow(/Modified Dietz is undefined/);
    expect(twr(pts).eq(dec('0.6'))).toBe(true); // TWR still defined: (10 + 150 − 100)/100
  });

  it('funded only at the close of the last day: 0 without a gain, undefined with one', () => {
    // capital = 0 + 0 × 1000 = 0
    expect(modifiedDietz([nav('2024-01-01', '0'), nav('2024-01-05', '1000', '1000')]).isZero()).toBe(true);
    expect(() => modifiedDietz([nav('2024-01-01', '0'), nav('2024-01-05', '1010', '1000')])).toThrow(DomainError);
  });
});

describe('mwr', () => {
  it('is the annualized XIRR of the investor flows (example A)', () => {
    expect(investorCashFlows(exampleA).map((f) => [f.date, f.amount.toString()])).toEqual([
      ['2024-01-31', '-1000'],
      ['2024-02-02', '-500'],
      ['2024-02-05', '1482'],
    ]);
    expectClose(mwr(exampleA), '-0.638384474462949934594049155497', '1e-25');
  });

  it('one day: 100 → 101 annualizes to 1.01^365 − 1 = 36.7834343328871588776166… (mpmath)', () => {
    expectClose(mwr([nav('2024-01-01', '100'), nav('2024-01-02', '101')]), '36.7834343328871588776166', '1e-20');
  });

  it('equals the TWR for a year without flows (1000 → 1100 over 365 days: 0.1)', () => {
    const pts = [nav('2023-01-01', '1000'), nav('2024-01-01', '1100')];
    expectClose(mwr(pts), '0.1');
  });

  it('is null when undefined: empty, one point, nothing invested', () => {
    expect(mwr([])).toBeNull();
    expect(mwr([nav('2024-01-01', '100')])).toBeNull();
    expect(mwr([nav('2024-01-01', '0'), nav('2024-01-02', '0')])).toBeNull();
  });
});

describe('moneyWeighted: the rate, or why there is none', () => {
  it('gives the rate of mwr and no problem when an IRR exists (example A)', () => {
    const m = moneyWeighted(exampleA);
    expect(m.problem).toBeNull();
    expect(m.rate!.eq(mwr(exampleA)!)).toBe(true);
  });

  it('names the reason when none exists', () => {
    expect(moneyWeighted([nav('2024-01-31', '1000')])).toEqual({ rate: null, problem: 'the period has a single close: no IRR over zero days' });
    // Nothing invested and nothing at the end: every investor flow is 0.
    expect(moneyWeighted([nav('2024-01-31', '0'), nav('2024-02-01', '0')])).toEqual({ rate: null, problem: 'cash flows need at least one positive and one negative amount' });
  });
});

describe('performanceSummary', () => {
  it('keeps a period of a year or less cumulative', () => {
    const s = performanceSummary(exampleA);
    expect(s.annualized).toBe(false);
    expect(s.days).toBe(5);
    expect(s.twr.eq(dec('-0.0055'))).toBe(true);
  });

  /*
   * Two years without flows, 2021-12-31 → 2023-12-31 (730 days), 1000 → 1210:
   *   cumulative 0.21; annualized (1.21)^(365/730) − 1 = 1.1 − 1 = 0.1
   *   MWR: −1000, +1210 two 365-day years apart → 0.1
   */
  it('annualizes periods longer than one year (actual/365)', () => {
    const s = performanceSummary([nav('2021-12-31', '1000'), nav('2022-06-30', '1100'), nav('2023-12-31', '1210')]);
    expect(s.annualized).toBe(true);
    expect(s.days).toBe(730);
    expectClose(s.twr, '0.1');
    expectClose(s.modifiedDietz, '0.1');
    expectClose(s.mwr, '0.1');
  });

  it('handles the empty period', () => {
    const s = performanceSummary([]);
    expect(s).toMatchObject({ from: null, to: null, days: 0, annualized: false, mwr: null });
    expect(s.twr.isZero()).toBe(true);
  });
});

/*
 * Published examples with external flows, each cited.
 *
 * 1. CFA Institute, CFA Program Level I curriculum, Quantitative Methods ("Discounted Cash Flow
 *    Applications": money-weighted and time-weighted rates of return): a share bought for $100 at
 *    t = 0, a second share bought for $120 at t = 1, both sold for $130 each at t = 2, a $2.00
 *    dividend per share at the end of each year. Published: TWR 15.84% a year, MWR 13.86%.
 *    As this API's NAV series (dividends withdrawn at the end of their day, the second share paid
 *    by a deposit the same day), with two 365-day years 2021-01-01 → 2023-01-01:
 *      2021-01-01  NAV 100
 *      2022-01-01  NAV 240 (2 × 120), net flow +120 − 2 = +118   r1 = (240 − 118 − 100)/100 = 0.22
 *      2023-01-01  NAV 264 (2 × 130 + 2 × 2)                       r2 = (264 − 240)/240 = 0.10
 *    TWR = (1.22 × 1.10)^(365/730) − 1 = √1.342 − 1 = 0.15844...
 *    MWR: 100(1 + r)² + 118(1 + r) = 264 → 1 + r = (−118 + √119,524)/200 → r = 0.13861...
 *
 * 2. Wikipedia, "Modified Dietz method", section Example: $100 at the start of year one, an inflow
 *    of $50 at the end of year one, $300 at the end of year two (neither year a leap year).
 *    Published: Modified Dietz return 120% = (300 − 100 − 50)/(100 + ½ × 50); IRR 50% a year
 *    (100 × 1.5² + 50 × 1.5 = 300). The value at the end of year one is not given: neither
 *    measure depends on it, so two different values are tried.
 */
describe('published examples with flows', () => {
  const cfa = [nav('2021-01-01', '100'), nav('2022-01-01', '240', '118'), nav('2023-01-01', '264')];

  it('CFA Level I money-weighted vs time-weighted example: TWR 15.84% a year, MWR 13.86%', () => {
    const s = performanceSummary(cfa);
    expect(s.annualized).toBe(true);
    expectClose(twr(cfa), '0.342');
    expectClose(s.twr, dec('1.342').sqrt().minus(1), '1e-30');
    expect(s.twr.toDecimalPlaces(4).toFixed()).toBe('0.1584');
    expectClose(s.mwr, dec(119524).sqrt().minus(118).div(200).minus(1), '1e-20');
    expect(s.mwr!.toDecimalPlaces(4).toFixed()).toBe('0.1386');
  });

  it('Wikipedia Modified Dietz example: 120% over the two years, IRR 50% a year', () => {
    for (const midYear of ['150', '400']) {
      const wiki = [nav('2021-01-01', '100'), nav('2022-01-01', midYear, '50'), nav('2023-01-01', '300')];
      expectClose(modifiedDietz(wiki), '1.2');
      expectClose(mwr(wiki), '0.5', '1e-20');
    }
  });
});
