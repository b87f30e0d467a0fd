import { D } from '../../src/domain/decimal';
import { exposureOf, UNCLASSIFIED } from '../../src/domain/exposure';
import type { HoldingValue, ValuationResult } from '../../src/domain/valuation';

/** Every Decimal as its exact string, so toEqual compares exact values. */
function plain(value: unknown): unknown {
  if (D.isDecimal(value)) return (value as D).toFixed();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** A holding with only what exposure reads filled in meaningfully. */
function holding(symbol: string, currency: string, marketValueBase: string, sector: string | null, assetClass: string | null, country: string | null): HoldingValue {
  const zero = new D(0);
  return {
    securityId: `id-${symbol}`,
    symbol,
    name: symbol,
    currency,
    sector,
    assetClass,
    country,
    quantity: zero,
    price: null,
    priceDate: null,
    marketValue: zero,
    fxRate: null,
    marketValueBase: new D(marketValueBase),
    costBasis: zero,
    unrealizedPnl: zero,
    unrealizedPnlBase: zero,
    weight: zero,
    pricingStatus: 'OK',
  };
}

function valuation(nav: string, holdings: HoldingValue[], cash: [string, string][]): ValuationResult {
  return {
    asOf: new Date('2024-06-14T23:59:59.999Z'),
    date: '2024-06-14',
    baseCurrency: 'EUR',
    nav: new D(nav),
    cashValue: new D(0),
    positionsValue: new D(0),
    complete: true,
    stale: false,
    missingFxRates: [],
    holdings,
    cash: cash.map(([currency, balanceBase]) => ({ currency, balance: new D(balanceBase), fxRate: null, balanceBase: new D(balanceBase) })),
  };
}

/*
 * Worked example (the valuation unit test's EUR portfolio, values in EUR), NAV 24,040:
 *   BBB  JPY  Autos       Equity  JP   +12,000
 *   AAA  USD  Technology  Equity  US    +7,600
 *   DDD  USD  Technology  Equity  US    −2,400  (short)
 *   CCC  GBP  —           —       GB    +1,040
 *   cash EUR 5,000; USD 800; CHF 0 (no rate)
 *
 * Totals: long = 12,000 + 7,600 + 1,040 = 20,640; short = −2,400
 *   gross = 20,640 − (−2,400) = 23,040; net = 20,640 − 2,400 = 18,240
 *   gross leverage = 23,040 / 24,040 = 576/601 = 0.95840266222961… → 0.9584026622
 *   net leverage   = 18,240 / 24,040 = 456/601 = 0.75873544093178… → 0.7587354409
 * Buckets (weight = net / NAV, 10 places half-even), sorted by gross descending, then key:
 *   sector: Autos 12,000 (300/601 = 0.49916805324… → 0.4991680532)
 *           Technology long 7,600 short −2,400 gross 10,000 net 5,200 (130/601 = 0.21630615640… → 0.2163061564)
 *           UNCLASSIFIED 1,040 (26/601 = 0.04326123128… → 0.0432612313)
 *   asset class: Equity long 19,600 short −2,400 gross 22,000 net 17,200 (430/601 = 0.71547420965… → 0.7154742097)
 *                UNCLASSIFIED 1,040
 *   country: JP 12,000; US gross 10,000 net 5,200; GB 1,040
 *   currency (positions and cash): JPY 12,000
 *           USD long 7,600 + 800 = 8,400, short −2,400, gross 10,800, net 6,000 (150/601 = 0.24958402662… → 0.2495840266)
 *           EUR 5,000 (125/601 = 0.20798668885… → 0.2079866889)
 *           GBP 1,040
 *           CHF 0 (a zero value counts as neither long nor short: all four 0, weight 0)
 */
const example = () =>
  valuation(
    '24040',
    [
      holding('BBB', 'JPY', '12000', 'Autos', 'Equity', 'JP'),
      holding('AAA', 'USD', '7600', 'Technology', 'Equity', 'US'),
      holding('DDD', 'USD', '-2400', 'Technology', 'Equity', 'US'),
      holding('CCC', 'GBP', '1040', null, null, 'GB'),
    ],
    [
      ['CHF', '0'],
      ['EUR', '5000'],
      ['USD', '800'],
    ],
  );

const b = (key: string, long: string, short: string, gross: string, net: string, weight: string) => ({ key, long, short, gross, net, weight });

describe('exposureOf: the worked example', () => {
  const e = () => plain(exposureOf(example())) as Record<string, any>;

  test('long, short, gross, net and leverage', () => {
    expect(e()).toMatchObject({
      asOf: '2024-06-14T23:59:59.999Z',
      nav: '24040',
      long: '20640',
      short: '-2400',
      gross: '23040',
      net: '18240',
      grossLeverage: '0.9584026622',
      netLeverage: '0.7587354409',
    });
  });

  test('by sector, a missing sector as UNCLASSIFIED', () => {
    expect(UNCLASSIFIED).toBe('UNCLASSIFIED');
    expect(e().bySector).toEqual([
      b('Autos', '12000', '0', '12000', '12000', '0.4991680532'),
      b('Technology', '7600', '-2400', '10000', '5200', '0.2163061564'),
      b('UNCLASSIFIED', '1040', '0', '1040', '1040', '0.0432612313'),
    ]);
  });

  test('by asset class and country', () => {
    expect(e().byAssetClass).toEqual([b('Equity', '19600', '-2400', '22000', '17200', '0.7154742097'), b('UNCLASSIFIED', '1040', '0', '1040', '1040', '0.0432612313')]);
    expect(e().byCountry).toEqual([
      b('JP', '12000', '0', '12000', '12000', '0.4991680532'),
      b('US', '7600', '-2400', '10000', '5200', '0.2163061564'),
      b('GB', '1040', '0', '1040', '1040', '0.0432612313'),
    ]);
  });

  test('by currency, cash included', () => {
    expect(e().byCurrency).toEqual([
      b('JPY', '12000', '0', '12000', '12000', '0.4991680532'),
      b('USD', '8400', '-2400', '10800', '6000', '0.2495840266'),
      b('EUR', '5000', '0', '5000', '5000', '0.2079866889'),
      b('GBP', '1040', '0', '1040', '1040', '0.0432612313'),
      b('CHF', '0', '0', '0', '0', '0'),
    ]);
  });
});

describe('exposureOf: edge cases', () => {
  test('a short-only book: long 0, gross = |short|, net negative; leverage against a positive NAV', () => {
    // cash 13,500, AAPL −20 × 172.50 = −3,450 → NAV 10,050; gross leverage 3,450 / 10,050 = 0.34328358208955… → 0.3432835821
    const e = plain(exposureOf(valuation('10050', [holding('AAPL', 'USD', '-3450', 'Technology', 'Equity', 'US')], [['USD', '13500']]))) as Record<string, any>;
    expect(e).toMatchObject({ long: '0', short: '-3450', gross: '3450', net: '-3450', grossLeverage: '0.3432835821', netLeverage: '-0.3432835821' });
    // USD: long 13,500 (cash), short −3,450; net 10,050 / 10,050 = 1
    expect(e.byCurrency).toEqual([b('USD', '13500', '-3450', '16950', '10050', '1')]);
  });

  test('NAV 0: every ratio is 0 rather than a division by zero', () => {
    const e = plain(exposureOf(valuation('0', [holding('A', 'USD', '100', 'X', null, null), holding('B', 'USD', '-100', 'X', null, null)], []))) as Record<string, any>;
    expect(e).toMatchObject({ long: '100', short: '-100', gross: '200', net: '0', grossLeverage: '0', netLeverage: '0' });
    expect(e.bySector).toEqual([b('X', '100', '-100', '200', '0', '0')]);
  });

  test('equal gross sorts by key; a negative NAV gives negative weights', () => {
    const e = plain(exposureOf(valuation('-200', [holding('A', 'USD', '50', 'Zeta', null, null), holding('B', 'USD', '50', 'Alpha', null, null)], []))) as Record<string, any>;
    // 50 / −200 = −0.25
    expect(e.bySector).toEqual([b('Alpha', '50', '0', '50', '50', '-0.25'), b('Zeta', '50', '0', '50', '50', '-0.25')]);
  });

  test('an empty valuation has no buckets', () => {
    expect(plain(exposureOf(valuation('0', [], [])))).toMatchObject({ long: '0', short: '0', gross: '0', net: '0', bySector: [], byAssetClass: [], byCountry: [], byCurrency: [] });
  });
});
