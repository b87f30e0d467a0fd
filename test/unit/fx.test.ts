import { D } from '../../src/domain/decimal';
import { FxTable, candidatePairs, fxQuote, lastOnOrBefore, type FxConversion } from '../../src/domain/fx';

/*
 * FxTable worked example. Convention (ARCHITECTURE.md): a stored (base, quote, rate) means
 * 1 base buys `rate` quote. Rates stored (note the deliberate input order: unsorted):
 *
 *   EUR/USD  2024-03-28 1.085   2024-03-01 1.08   2024-03-29 2.0
 *   USD/JPY  2024-03-01 150
 *   GBP/USD  2024-03-01 1.25    2024-03-28 1.26
 *   EUR/CHF  2024-03-01 0.95    (CHF only connects through EUR)
 *
 * Hand computation, 40 significant digits, half-even (the D constructor):
 *   EUR→USD 03-28  direct                1.085                    (date 03-28)
 *   EUR→USD 03-27  direct, last ≤ 03-27  1.08                     (date 03-01)
 *   USD→EUR 03-28  inverse 1 / 1.085   = 0.92165898617511520737327188940092165898617…
 *                                     → 0.9216589861751152073732718894009216589862
 *   JPY→USD        inverse 1 / 150     = 0.006666…  → 0.006666666666666666666666666666666666666667
 *   EUR→JPY 03-28  cross via USD: 1.085 × 150 = 162.75, dated the older leg (03-01)
 *   GBP→JPY 03-28  cross via USD: 1.26 × 150 = 189;   on 03-27: 1.25 × 150 = 187.5
 *   JPY→EUR 03-28  cross via USD: (1/150) × (1/1.085), each leg rounded to 40 digits first:
 *                  0.006666666666666666666666666666666666666667 × 0.9216589861751152073732718894009216589862
 *                  = 0.00614439324116743471582181259600614439324[2…] → 0.006144393241167434715821812596006144393242
 *                  (≈ 1 / 162.75 = 0.0061443932411674347158218125960061443932411…; the last digit shows the two roundings)
 *   CHF→USD 03-28  USD is the target, so the pivot is EUR: (1 / 0.95) × 1.085
 *                  1/0.95 = 1.0526315789473684210526315789473684210526… → 1.052631578947368421052631578947368421053
 *                  × 1.085 = 1.142105263157894736842105263157894736842[505] → 1.142105263157894736842105263157894736843
 *   1,000 EUR → JPY on 03-28 = 1,000 × 162.75 = 162,750
 */
const table = () =>
  new FxTable([
    fxQuote('EUR', 'USD', '2024-03-28', '1.085'),
    fxQuote('EUR', 'USD', '2024-03-01', '1.08'),
    fxQuote('EUR', 'USD', '2024-03-29', '2.0'),
    fxQuote('USD', 'JPY', '2024-03-01', '150'),
    fxQuote('GBP', 'USD', '2024-03-01', '1.25'),
    fxQuote('GBP', 'USD', '2024-03-28', '1.26'),
    fxQuote('EUR', 'CHF', '2024-03-01', '0.95'),
  ]);

/** The conversion with its rate as an exact string. */
const plain = (c: FxConversion | null) => (c ? { ...c, rate: c.rate.toFixed() } : null);

describe('FxTable: direct, inverse and cross rates, last on or before the date', () => {
  test('identity: same currency is 1, dated the valuation date', () => {
    expect(plain(table().convertRate('USD', 'USD', '2024-03-28'))).toEqual({ base: 'USD', quote: 'USD', rate: '1', date: '2024-03-28', method: 'IDENTITY', via: null });
  });

  test('direct: the last stored rate on or before the date, never a later one', () => {
    const fx = table();
    expect(plain(fx.convertRate('EUR', 'USD', '2024-03-28'))).toEqual({ base: 'EUR', quote: 'USD', rate: '1.085', date: '2024-03-28', method: 'DIRECT', via: null });
    expect(plain(fx.convertRate('EUR', 'USD', '2024-03-27'))).toMatchObject({ rate: '1.08', date: '2024-03-01', method: 'DIRECT' });
    expect(plain(fx.convertRate('EUR', 'USD', '2024-03-29'))).toMatchObject({ rate: '2', date: '2024-03-29' });
    expect(plain(fx.convertRate('EUR', 'USD', '2030-01-01'))).toMatchObject({ rate: '2', date: '2024-03-29' });
  });

  test('inverse: 1 / the stored opposite pair, to 40 significant digits', () => {
    const fx = table();
    expect(plain(fx.convertRate('USD', 'EUR', '2024-03-28'))).toEqual({
      base: 'USD',
      quote: 'EUR',
      rate: '0.9216589861751152073732718894009216589862',
      date: '2024-03-28',
      method: 'INVERSE',
      via: null,
    });
    expect(plain(fx.convertRate('JPY', 'USD', '2024-03-28'))).toMatchObject({ rate: '0.006666666666666666666666666666666666666667', date: '2024-03-01', method: 'INVERSE' });
  });

  test('cross through the first pivot that connects both legs, dated by the older leg', () => {
    const fx = table();
    expect(plain(fx.convertRate('EUR', 'JPY', '2024-03-28'))).toEqual({ base: 'EUR', quote: 'JPY', rate: '162.75', date: '2024-03-01', method: 'CROSS', via: 'USD' });
    expect(plain(fx.convertRate('GBP', 'JPY', '2024-03-28'))).toMatchObject({ rate: '189', method: 'CROSS', via: 'USD' });
    expect(plain(fx.convertRate('GBP', 'JPY', '2024-03-27'))).toMatchObject({ rate: '187.5', date: '2024-03-01' });
    expect(plain(fx.convertRate('JPY', 'EUR', '2024-03-28'))).toMatchObject({ rate: '0.006144393241167434715821812596006144393242', method: 'CROSS', via: 'USD' });
    // USD is an endpoint, so it cannot be the pivot: EUR is, with an inverse first leg.
    expect(plain(fx.convertRate('CHF', 'USD', '2024-03-28'))).toEqual({ base: 'CHF', quote: 'USD', rate: '1.142105263157894736842105263157894736843', date: '2024-03-01', method: 'CROSS', via: 'EUR' });
  });

  test('convert multiplies the amount by the rate', () => {
    expect(table().convert(new D(1000), 'EUR', 'JPY', '2024-03-28')!.toFixed()).toBe('162750');
    expect(table().convert(new D('-20'), 'GBP', 'USD', '2024-03-28')!.toFixed()).toBe('-25.2');
  });

  test('missing rate: null before the first rate, for an unknown currency, and when no pivot joins both legs', () => {
    const fx = table();
    expect(fx.convertRate('EUR', 'USD', '2024-02-29')).toBeNull();
    expect(fx.convertRate('EUR', 'JPY', '2024-02-29')).toBeNull();
    expect(fx.convertRate('AUD', 'USD', '2024-03-28')).toBeNull();
    expect(fx.convert(new D(5), 'USD', 'AUD', '2024-03-28')).toBeNull();
    // CHF→JPY: CHF reaches EUR only, and EUR→JPY is itself a cross (legs are never chained twice).
    expect(fx.convertRate('CHF', 'JPY', '2024-03-28')).toBeNull();
    // An answer cached as null stays null for the same key, and other keys are unaffected.
    expect(fx.convertRate('EUR', 'USD', '2024-02-29')).toBeNull();
    expect(plain(fx.convertRate('EUR', 'USD', '2024-03-01'))).toMatchObject({ rate: '1.08' });
  });

  test('both directions stored: the more recent wins, the direct one on a tie', () => {
    const fx = new FxTable([fxQuote('EUR', 'USD', '2024-03-01', '1.08'), fxQuote('USD', 'EUR', '2024-03-15', '0.9'), fxQuote('USD', 'EUR', '2024-03-01', '0.5')]);
    // 03-10: direct 1.08 (03-01) ties inverse 1/0.5 (03-01): direct wins.
    expect(plain(fx.convertRate('EUR', 'USD', '2024-03-10'))).toMatchObject({ rate: '1.08', method: 'DIRECT', date: '2024-03-01' });
    // 03-20: inverse of 0.9 (03-15) is newer: 1/0.9 = 1.111… (40 ones).
    expect(plain(fx.convertRate('EUR', 'USD', '2024-03-20'))).toMatchObject({ rate: '1.111111111111111111111111111111111111111', method: 'INVERSE', date: '2024-03-15' });
  });

  test('the same pair and date given twice: the later row wins; a rate ≤ 0 or NaN is refused', () => {
    const fx = new FxTable([fxQuote('EUR', 'USD', '2024-03-01', '1.08'), fxQuote('EUR', 'USD', '2024-03-01', '1.09')]);
    expect(fx.convertRate('EUR', 'USD', '2024-03-01')!.rate.toFixed()).toBe('1.09');
    expect(() => new FxTable([fxQuote('EUR', 'USD', '2024-03-01', '0')])).toThrow('FX rate EUR/USD on 2024-03-01 is not positive');
    expect(() => new FxTable([fxQuote('EUR', 'USD', '2024-03-01', '-1')])).toThrow('not positive');
    expect(() => new FxTable([fxQuote('EUR', 'USD', '2024-03-01', NaN)])).toThrow('not positive');
  });

  test('custom pivots: without EUR as a pivot, CHF→USD has no rate', () => {
    const fx = new FxTable([fxQuote('EUR', 'CHF', '2024-03-01', '0.95'), fxQuote('EUR', 'USD', '2024-03-01', '1.085')], ['USD']);
    expect(fx.convertRate('CHF', 'USD', '2024-03-01')).toBeNull();
  });
});

describe('lastOnOrBefore and candidatePairs', () => {
  const dates = ['2024-03-01', '2024-03-05', '2024-03-08'];
  test.each([
    ['2024-02-29', -1],
    ['2024-03-01', 0],
    ['2024-03-04', 0],
    ['2024-03-05', 1],
    ['2024-03-07', 1],
    ['2024-03-08', 2],
    ['2099-01-01', 2],
  ])('%s → %i', (date, index) => expect(lastOnOrBefore(dates, date)).toBe(index));
  test('an empty list has none', () => expect(lastOnOrBefore([], '2024-03-01')).toBe(-1));

  test('every ordered pair of the currencies and the pivots, sorted, without duplicates', () => {
    expect(candidatePairs(['JPY', 'USD', 'JPY'])).toEqual([
      ['EUR', 'JPY'],
      ['EUR', 'USD'],
      ['JPY', 'EUR'],
      ['JPY', 'USD'],
      ['USD', 'EUR'],
      ['USD', 'JPY'],
    ]);
    expect(candidatePairs(['GBP'], [])).toEqual([]);
  });
});
