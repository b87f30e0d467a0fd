import { D } from '../../src/domain/decimal';
import { FxTable, fxQuote } from '../../src/domain/fx';
import { pricingStatus, valuePortfolio, type PositionInput, type ValuationInput } from '../../src/domain/valuation';

/** Every Decimal as its exact string, so toEqual compares exact values. */
function plain(value: unknown): unknown {
  if (D.isDecimal(value)) return (value as D).toFixed();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function position(symbol: string, currency: string, quantity: string, costBasis: string, price: [string, string] | null, extra: Partial<PositionInput> = {}): PositionInput {
  return {
    securityId: `id-${symbol}`,
    symbol,
    name: symbol,
    currency,
    sector: null,
    assetClass: null,
    country: null,
    quantity: new D(quantity),
    costBasis: new D(costBasis),
    price: price ? { value: new D(price[0]), date: price[1] } : null,
    ...extra,
  };
}

/*
 * Worked example: a EUR portfolio valued on Friday 2024-06-14, STALE after 5 calendar days.
 *
 * FX (1 base buys rate quote), chosen so that every conversion is exact:
 *   EUR/USD 1.25 (06-14) → USD→EUR inverse 1/1.25 = 0.8
 *   USD/JPY 160  (06-12) → JPY→EUR cross via USD: 1/160 × 0.8 = 0.00625 × 0.8 = 0.005
 *   GBP/USD 1.3  (06-03) → GBP→EUR cross via USD: 1.3 × 0.8 = 1.04
 *   CHF: no rate at all.
 *
 * Positions (local currency → EUR):
 *   AAA  USD   100 @ 95     (06-14, 0 days: OK)      MV 9,500      × 0.8   = 7,600   cost 9,000      P&L 500 USD → 400 EUR
 *   BBB  JPY 1,000 @ 2,400  (06-07, 7 days: STALE)   MV 2,400,000  × 0.005 = 12,000  cost 2,000,000  P&L 400,000 JPY → 2,000 EUR
 *   CCC  GBP   500, no price (MISSING: at cost)      MV 1,000      × 1.04  = 1,040   cost 1,000      P&L 0
 *   DDD  USD   −50 @ 60     (06-09, 5 days: OK, stale only when > 5)
 *                                                    MV −3,000     × 0.8   = −2,400  cost −2,500 (short proceeds)
 *                                                    P&L −3,000 − (−2,500) = −500 USD → −400 EUR
 *   EEE  USD     0 (closed: left out)
 *   positionsValue = 7,600 + 12,000 + 1,040 − 2,400 = 18,240
 * Cash:
 *   EUR 5,000 × 1 = 5,000;  USD 1,000 × 0.8 = 800;  CHF 100 × (no rate) = 0, listed missing;  JPY 0 left out
 *   cashValue = 5,800
 * NAV = 18,240 + 5,800 = 24,040
 * Weights = MV(EUR) / 24,040, rounded half-even to 10 places:
 *   BBB 12,000/24,040 = 300/601 = 0.49916805324459…  → 0.4991680532
 *   AAA  7,600/24,040 = 190/601 = 0.31613976705490…  → 0.3161397671
 *   DDD −2,400/24,040 = −60/601 = −0.09983361064891… → −0.0998336106
 *   CCC  1,040/24,040 =  26/601 = 0.04326123128119…  → 0.0432612313
 * Holdings are sorted by |MV(EUR)| descending: BBB, AAA, DDD, CCC.
 * complete = false (CCC has no price, CHF has no rate); stale = true (BBB).
 */
function example(overrides: Partial<ValuationInput> = {}): ValuationInput {
  return {
    baseCurrency: 'EUR',
    date: '2024-06-14',
    asOf: new Date('2024-06-14T23:59:59.999Z'),
    staleDays: 5,
    fx: new FxTable([fxQuote('EUR', 'USD', '2024-06-14', '1.25'), fxQuote('USD', 'JPY', '2024-06-12', '160'), fxQuote('GBP', 'USD', '2024-06-03', '1.3')]),
    positions: [
      position('AAA', 'USD', '100', '9000', ['95', '2024-06-14'], { sector: 'Technology', assetClass: 'Equity', country: 'US' }),
      position('BBB', 'JPY', '1000', '2000000', ['2400', '2024-06-07'], { sector: 'Autos', assetClass: 'Equity', country: 'JP' }),
      position('CCC', 'GBP', '500', '1000', null, { country: 'GB' }),
      position('DDD', 'USD', '-50', '-2500', ['60', '2024-06-09'], { sector: 'Technology', assetClass: 'Equity', country: 'US' }),
      position('EEE', 'USD', '0', '0', ['10', '2024-06-14']),
    ],
    cash: [
      { currency: 'USD', balance: new D(1000) },
      { currency: 'EUR', balance: new D(5000) },
      { currency: 'CHF', balance: new D(100) },
      { currency: 'JPY', balance: new D(0) },
    ],
    ...overrides,
  };
}

describe('valuePortfolio: the worked example', () => {
  const v = () => plain(valuePortfolio(example())) as Record<string, any>;

  test('NAV, totals and flags', () => {
    expect(v()).toMatchObject({
      asOf: '2024-06-14T23:59:59.999Z',
      date: '2024-06-14',
      baseCurrency: 'EUR',
      nav: '24040',
      positionsValue: '18240',
      cashValue: '5800',
      complete: false,
      stale: true,
      missingFxRates: ['CHF'],
    });
  });

  test('holdings: values, P&L, FX rate, weight and status, sorted by |value in base|', () => {
    expect(v().holdings).toEqual([
      { securityId: 'id-BBB', symbol: 'BBB', name: 'BBB', currency: 'JPY', sector: 'Autos', assetClass: 'Equity', country: 'JP', quantity: '1000', price: '2400', priceDate: '2024-06-07', marketValue: '2400000', fxRate: '0.005', marketValueBase: '12000', costBasis: '2000000', unrealizedPnl: '400000', unrealizedPnlBase: '2000', weight: '0.4991680532', pricingStatus: 'STALE' },
      { securityId: 'id-AAA', symbol: 'AAA', name: 'AAA', currency: 'USD', sector: 'Technology', assetClass: 'Equity', country: 'US', quantity: '100', price: '95', priceDate: '2024-06-14', marketValue: '9500', fxRate: '0.8', marketValueBase: '7600', costBasis: '9000', unrealizedPnl: '500', unrealizedPnlBase: '400', weight: '0.3161397671', pricingStatus: 'OK' },
      { securityId: 'id-DDD', symbol: 'DDD', name: 'DDD', currency: 'USD', sector: 'Technology', assetClass: 'Equity', country: 'US', quantity: '-50', price: '60', priceDate: '2024-06-09', marketValue: '-3000', fxRate: '0.8', marketValueBase: '-2400', costBasis: '-2500', unrealizedPnl: '-500', unrealizedPnlBase: '-400', weight: '-0.0998336106', pricingStatus: 'OK' },
      { securityId: 'id-CCC', symbol: 'CCC', name: 'CCC', currency: 'GBP', sector: null, assetClass: null, country: 'GB', quantity: '500', price: null, priceDate: null, marketValue: '1000', fxRate: '1.04', marketValueBase: '1040', costBasis: '1000', unrealizedPnl: '0', unrealizedPnlBase: '0', weight: '0.0432612313', pricingStatus: 'MISSING' },
    ]);
  });

  test('cash per currency, sorted; zero balances left out; no rate → 0 in base and fxRate null', () => {
    expect(v().cash).toEqual([
      { currency: 'CHF', balance: '100', fxRate: null, balanceBase: '0' },
      { currency: 'EUR', balance: '5000', fxRate: '1', balanceBase: '5000' },
      { currency: 'USD', balance: '1000', fxRate: '0.8', balanceBase: '800' },
    ]);
  });

  test('with every price fresh and every rate present the valuation is complete and not stale', () => {
    const r = valuePortfolio(
      example({
        positions: [position('AAA', 'USD', '100', '9000', ['95', '2024-06-14'])],
        cash: [{ currency: 'EUR', balance: new D(400) }],
      }),
    );
    // 7,600 + 400 = 8,000; AAA weight 7,600 / 8,000 = 0.95
    expect(plain(r)).toMatchObject({ nav: '8000', complete: true, stale: false, missingFxRates: [], holdings: [{ weight: '0.95' }] });
  });
});

describe('valuePortfolio: edge cases', () => {
  test('a position in a currency without a rate counts 0 in base and makes the valuation incomplete', () => {
    const r = plain(valuePortfolio(example({ positions: [position('ZZZ', 'CHF', '10', '50', ['6', '2024-06-14'])], cash: [] }))) as Record<string, any>;
    expect(r).toMatchObject({ nav: '0', complete: false, stale: false, missingFxRates: ['CHF'] });
    // MV 60 CHF, P&L 10 CHF, both 0 in EUR; NAV 0 → weight 0 (no division by zero).
    expect(r.holdings[0]).toMatchObject({ marketValue: '60', fxRate: null, marketValueBase: '0', unrealizedPnl: '10', unrealizedPnlBase: '0', weight: '0' });
  });

  test('a price dated after the valuation date is not this module’s concern: status compares dates only', () => {
    // The service never passes a later price; the domain would call it OK (negative age).
    expect(pricingStatus('2024-06-15', '2024-06-14', 5)).toBe('OK');
  });

  test.each([
    [null, 'MISSING'],
    ['2024-06-14', 'OK'],
    ['2024-06-09', 'OK'], // 5 days old: not older than 5
    ['2024-06-08', 'STALE'], // 6 days
    ['2023-06-14', 'STALE'],
  ] as const)('pricingStatus(%s) on 2024-06-14, staleDays 5 → %s', (priceDate, status) => {
    expect(pricingStatus(priceDate, '2024-06-14', 5)).toBe(status);
  });

  test('staleDays 0: yesterday’s price is stale', () => {
    const r = valuePortfolio(example({ staleDays: 0, positions: [position('AAA', 'USD', '1', '1', ['2', '2024-06-13'])], cash: [] }));
    expect(r.holdings[0]!.pricingStatus).toBe('STALE');
    expect(r.stale).toBe(true);
  });

  test('outputs round half-even to 10 places, sums are taken before rounding', () => {
    // Each P1–P3 is 1 × 0.00000000005 = 5e-11 → 0.0000000000|5 → 0 (half to even); P4 1.5e-10 →
    // 0.0000000001|5 → 0.0000000002 (half to even). The positions value is summed before rounding:
    // 3 × 5e-11 + 1.5e-10 = 3e-10 → 0.0000000003 (rounding first would give 0.0000000002).
    const r = valuePortfolio(
      example({
        baseCurrency: 'USD',
        positions: [
          position('P1', 'USD', '1', '0', ['0.00000000005', '2024-06-14']),
          position('P2', 'USD', '1', '0', ['0.00000000005', '2024-06-14']),
          position('P3', 'USD', '1', '0', ['0.00000000005', '2024-06-14']),
          position('P4', 'USD', '1', '0', ['0.00000000015', '2024-06-14']),
        ],
        cash: [],
      }),
    );
    expect(r.holdings.map((h) => h.marketValue.toFixed())).toEqual(['0.0000000002', '0', '0', '0']);
    // 3 × 5e-11 + 1.5e-10 = 3e-10
    expect(r.positionsValue.toFixed()).toBe('0.0000000003');
    // Weights: P4 1.5e-10 / 3e-10 = 0.5; each P 5e-11 / 3e-10 = 0.1666666666|67 → 0.1666666667
    expect(r.holdings.map((h) => h.weight.toFixed())).toEqual(['0.5', '0.1666666667', '0.1666666667', '0.1666666667']);
  });

  test('ties in |value| sort by symbol; a short and a long of the same size both count', () => {
    const r = valuePortfolio(
      example({
        baseCurrency: 'USD',
        positions: [position('ZED', 'USD', '-10', '-100', ['10', '2024-06-14']), position('ALF', 'USD', '10', '100', ['10', '2024-06-14'])],
        cash: [{ currency: 'USD', balance: new D(50) }],
      }),
    );
    // +100 − 100 + 50 = 50; weights ±100/50 = ±2
    expect(plain(r)).toMatchObject({ nav: '50', positionsValue: '0', holdings: [{ symbol: 'ALF', weight: '2' }, { symbol: 'ZED', weight: '-2' }] });
  });

  test('an empty portfolio is worth 0 and complete', () => {
    expect(plain(valuePortfolio(example({ positions: [], cash: [] })))).toMatchObject({ nav: '0', positionsValue: '0', cashValue: '0', complete: true, stale: false, holdings: [], cash: [], missingFxRates: [] });
  });
});
