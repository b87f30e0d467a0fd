import { dec, ZERO } from '../../../src/domain/decimal';
import { DomainError } from '../../../src/domain/errors';
import {
  annualizedVolatility,
  beta,
  correlation,
  downsideDeviation,
  historicalCvar,
  historicalVar,
  informationRatio,
  jensensAlpha,
  maxDrawdown,
  parametricVar,
  riskReport,
  sharpeRatio,
  sortinoRatio,
  trackingError,
  wealthIndex,
} from '../../../src/domain/analytics/risk';
import { dailyReturns, growthIndex } from '../../../src/domain/analytics/performance';
import { ds, expectClose, nav } from './helpers';

/*
 * Worked example (independent computation: mpmath at 50 digits, cross-checked with numpy
 * np.std(ddof=1), np.polyfit and np.corrcoef to double precision).
 *
 * Ten daily returns rp and benchmark returns rb:
 *   rp = 0.01, −0.02, 0.015, −0.005, 0.03, −0.01, 0, 0.02, −0.025, 0.005
 *   rb = 0.008, −0.015, 0.01, −0.002, 0.02, −0.012, 0.001, 0.015, −0.02, 0.004
 * Σrp = 0.02, mean = 0.002
 * Σ(r − mean)² = 0.00276 → sample variance 0.00276/9 = 0.000306666…, stdev s = 0.0175119007154182628624928142999846
 * volatility = s·√252 = 0.277992805662304865338785054794086837834515
 * Sharpe (rf = 0)            = 0.002 / s · √252 = 1.81299655866720564351381557474404459457293
 * Sharpe (rf = 2.52% → 0.0001/day) = 0.0019 / s · √252 = 1.72234673073384536133812479600684236484428
 * Sortino, target = rf/252 = 0.0001: downside squares of (r − 0.0001) below 0:
 *   0.0201², 0.0051², 0.0101², 0.0001², 0.0251² → Σ = 0.00116205 → DD = √(0.00116205/10) = 0.0107798422994030854235986222631698
 *   Sortino = 0.0019 / DD · √252 = 2.79795975751950246017664608780500984405199
 * Historical VaR, sorted rp: −0.025, −0.02, −0.01, −0.005, 0, 0.005, 0.01, 0.015, 0.02, 0.03
 *   c = 0.95: k = ceil(10·0.05) = 1 → VaR = 0.025, CVaR = 0.025
 *   c = 0.80: k = 2 → VaR = 0.02,  CVaR = (0.025 + 0.02)/2 = 0.0225
 *   c = 0.75: k = ceil(2.5) = 3 → VaR = 0.01, CVaR = 0.055/3 = 0.018333…
 * Parametric VaR 95%: z = 1.64485362695147271486…; z·s − mean = 0.0268045134065698194921176375210877581463
 * Benchmark: cov(rp, rb) = 0.000229111…, var(rb) = 0.000174544…
 *   beta = 1.31262333694060729518110637214335731109555 (numpy polyfit 1.3126233369406068)
 *   alpha (rf 2.52%) = (0.002 − 0.0001 − beta(0.0019 − 0.0001))·252 = 0.214175135272773569291488955375899166083137
 *   correlation = 0.990284200308673986164133920111399564977694
 *   active = rp − rb, mean 0.0011, stdev 0.00479467296996248628286398869972517940269613
 *   tracking error = 0.0761130737784252147725935661948741657202765, IR = 0.0011·252/TE = 3.64194988113296097751897682614429309149704
 * Wealth index from 1: 1.01, 0.9898, 1.004647, 0.999623765, 1.02961247795, 1.0193163531705 (×2),
 *   1.03970268023391, 1.01371011322806225, 1.01877866379420256125
 *   → max drawdown 0.025 from the peak on day 8 to the trough on day 9, not recovered.
 */
const rp = ds('0.01', '-0.02', '0.015', '-0.005', '0.03', '-0.01', '0', '0.02', '-0.025', '0.005');
const rb = ds('0.008', '-0.015', '0.01', '-0.002', '0.02', '-0.012', '0.001', '0.015', '-0.02', '0.004');
const rf = dec('0.0252');
const dates = Array.from({ length: 11 }, (_, i) => `2024-01-${String(i + 1).padStart(2, '0')}`);

describe('volatility, Sharpe, Sortino', () => {
  it('annualizes the sample stdev by √252', () => {
    expectClose(annualizedVolatility(rp), '0.277992805662304865338785054794086837834515');
  });

  it('Sharpe with and without a risk-free rate', () => {
    expectClose(sharpeRatio(rp), '1.81299655866720564351381557474404459457293');
    expectClose(sharpeRatio(rp, rf), '1.72234673073384536133812479600684236484428');
  });

  it('Sortino uses the downside deviation against rf/252 over all observations', () => {
    expectClose(downsideDeviation(rp, dec('0.0001')), '0.0107798422994030854235986222631698');
    expectClose(sortinoRatio(rp, rf), '2.79795975751950246017664608780500984405199');
  });

  it('zero volatility: volatility 0, Sharpe and Sortino null', () => {
    const flat = ds('0.001', '0.001', '0.001');
    expect(annualizedVolatility(flat).isZero()).toBe(true);
    expect(sharpeRatio(flat)).toBeNull();
    expect(sortinoRatio(flat)).toBeNull(); // nothing below the target
    expect(parametricVar(flat, dec('0.95'))?.eq(dec('-0.001'))).toBe(true); // a sure gain: negative loss
  });

  it('too few returns: volatility 0, ratios null', () => {
    expect(annualizedVolatility([]).isZero()).toBe(true);
    expect(annualizedVolatility(ds('0.01')).isZero()).toBe(true);
    expect(sharpeRatio(ds('0.01'))).toBeNull();
    expect(sortinoRatio([])).toBeNull();
  });
});

describe('VaR and CVaR', () => {
  it('historical: lower order statistic k = ceil(n(1 − c)), no interpolation', () => {
    expect(historicalVar(rp, dec('0.95'))?.eq(dec('0.025'))).toBe(true);
    expect(historicalCvar(rp, dec('0.95'))?.eq(dec('0.025'))).toBe(true);
    expect(historicalVar(rp, dec('0.8'))?.eq(dec('0.02'))).toBe(true);
    expect(historicalCvar(rp, dec('0.8'))?.eq(dec('0.0225'))).toBe(true);
    expect(historicalVar(rp, dec('0.75'))?.eq(dec('0.01'))).toBe(true);
    expectClose(historicalCvar(rp, dec('0.75')), dec('0.055').div(3));
  });

  it('parametric: z·stdev − mean with z = Φ⁻¹(0.95)', () => {
    expectClose(parametricVar(rp, dec('0.95')), '0.0268045134065698194921176375210877581463');
  });

  it('is null for no returns and rejects a confidence outside (0, 1)', () => {
    expect(historicalVar([], dec('0.95'))).toBeNull();
    expect(historicalCvar([], dec('0.95'))).toBeNull();
    expect(parametricVar(ds('0.01'), dec('0.95'))).toBeNull();
    expect(() => historicalVar(rp, dec('1'))).toThrow(DomainError);
    expect(() => parametricVar(rp, dec('0'))).toThrow(DomainError);
  });

  it('one return: VaR is that loss', () => {
    expect(historicalVar(ds('-0.03'), dec('0.99'))?.eq(dec('0.03'))).toBe(true);
  });
});

describe('benchmark-relative measures', () => {
  it('beta, alpha, correlation, tracking error, information ratio', () => {
    expectClose(beta(rp, rb), '1.31262333694060729518110637214335731109555');
    expectClose(jensensAlpha(rp, rb, rf), '0.214175135272773569291488955375899166083137');
    expectClose(correlation(rp, rb), '0.990284200308673986164133920111399564977694');
    expectClose(trackingError(rp, rb), '0.0761130737784252147725935661948741657202765');
    expectClose(informationRatio(rp, rb), '3.64194988113296097751897682614429309149704');
  });

  it('flat benchmark: beta, alpha and correlation null; identical series: TE 0, IR null', () => {
    const flat = ds('0.001', '0.001', '0.001');
    const x = ds('0.01', '-0.01', '0.02');
    expect(beta(x, flat)).toBeNull();
    expect(jensensAlpha(x, flat)).toBeNull();
    expect(correlation(x, flat)).toBeNull();
    expect(trackingError(x, x)?.isZero()).toBe(true);
    expect(informationRatio(x, x)).toBeNull();
  });
});

describe('maxDrawdown', () => {
  it('finds peak, trough and recovery', () => {
    const levels = [100, 110, 99, 88, 105, 111, 100].map((v, i) => ({ date: dates[i] as string, value: dec(v) }));
    // 110 → 88 is −20%: (110 − 88)/110 = 0.2; back above 110 on the 6th; 111 → 100 is only 9.9%.
    expect(maxDrawdown(levels)).toEqual({
      maxDrawdown: dec('0.2'),
      peakDate: '2024-01-02',
      troughDate: '2024-01-04',
      recoveryDate: '2024-01-06',
    });
  });

  it('reports an unrecovered drawdown with recoveryDate null (worked example)', () => {
    const returns = rp.map((ret, i) => ({ date: dates[i + 1] as string, ret }));
    const dd = maxDrawdown(wealthIndex('2024-01-01', returns));
    expect(dd.maxDrawdown.eq(dec('0.025'))).toBe(true);
    expect(dd).toMatchObject({ peakDate: '2024-01-09', troughDate: '2024-01-10', recoveryDate: null });
  });

  it('is 0 with no dates for a rising series or an empty one', () => {
    const none = { maxDrawdown: ZERO, peakDate: null, troughDate: null, recoveryDate: null };
    expect(maxDrawdown([])).toEqual(none);
    expect(maxDrawdown([{ date: '2024-01-01', value: dec(1) }, { date: '2024-01-02', value: dec(2) }])).toEqual(none);
  });

  it('a total loss is a 100% drawdown', () => {
    const dd = maxDrawdown(wealthIndex('2024-01-01', [{ date: '2024-01-02', ret: dec(-1) }]));
    expect(dd.maxDrawdown.eq(1)).toBe(true);
  });
});

describe('riskReport', () => {
  // NAV = 1000 × wealth index of the worked example, no flows, so the daily returns are rp exactly.
  const wealth = wealthIndex('2024-01-01', rp.map((ret, i) => ({ date: dates[i + 1] as string, ret })));
  const points = wealth.map((w) => nav(w.date, w.value.times(1000).toString()));
  const benchmark = rb.map((ret, i) => ({ date: dates[i + 1] as string, ret }));

  it('computes the API fields from NAV points', () => {
    const r = riskReport(points, { benchmark, riskFreeRate: rf, confidence: dec('0.95') });
    expect(r.observations).toBe(10);
    expectClose(r.volatility, '0.277992805662304865338785054794086837834515');
    expectClose(r.sharpe, '1.72234673073384536133812479600684236484428');
    expectClose(r.sortino, '2.79795975751950246017664608780500984405199');
    expect(r.maxDrawdown.eq(dec('0.025'))).toBe(true);
    expect(r.var.eq(dec('0.025'))).toBe(true);
    expect(r.cvar.eq(dec('0.025'))).toBe(true);
    expectClose(r.parametricVar, '0.0268045134065698194921176375210877581463');
    expectClose(r.beta, '1.31262333694060729518110637214335731109555');
    expectClose(r.informationRatio, '3.64194988113296097751897682614429309149704');
  });

  it('pairs the benchmark on common dates only', () => {
    const r = riskReport(points, { benchmark: benchmark.slice(0, 5) });
    expectClose(r.beta, beta(rp.slice(0, 5), rb.slice(0, 5)) as ReturnType<typeof dec>);
  });

  it('empty period and one point: zeros for the non-null fields, nulls for ratios', () => {
    for (const pts of [[], [nav('2024-01-01', '100')]]) {
      const r = riskReport(pts, { benchmark });
      expect(r.observations).toBe(0);
      expect([r.volatility, r.maxDrawdown, r.var, r.cvar, r.parametricVar].every((x) => x.isZero())).toBe(true);
      expect([r.sharpe, r.sortino, r.beta, r.alpha, r.correlation, r.trackingError, r.informationRatio]).toEqual(
        Array(7).fill(null),
      );
    }
  });

  it('with a shared growth index (performance’s), the same report digit for digit, days without capital included', () => {
    // A fully withdrawn day in between: its next return is null and has no wealth level.
    const gapped = [...points.slice(0, 4), nav(dates[4] as string, '0', points[4]!.nav.neg().toString()), nav('2024-01-20', '1500', '1500'), nav('2024-01-21', '1470'), nav('2024-01-22', '1520')];
    for (const pts of [points, gapped]) {
      const daily = dailyReturns(pts);
      const shared = riskReport(pts, { benchmark, dailyReturns: daily, growth: growthIndex(daily) });
      expect(JSON.stringify(shared)).toBe(JSON.stringify(riskReport(pts, { benchmark })));
    }
    expect(dailyReturns(gapped).some((x) => x.ret === null)).toBe(true);
    expect(() => riskReport(points, { growth: [] })).toThrow('without its daily returns');
  });

  it('one day: VaR is that day’s loss, volatility 0', () => {
    const r = riskReport([nav('2024-01-01', '100'), nav('2024-01-02', '98')]);
    expect(r.observations).toBe(1);
    expect(r.volatility.isZero()).toBe(true);
    expect(r.var.eq(dec('0.02'))).toBe(true);
    expect(r.maxDrawdown.eq(dec('0.02'))).toBe(true);
    expect(r.parametricVar.isZero()).toBe(true);
  });
});
