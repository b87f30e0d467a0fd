import { D } from '../../src/domain/decimal';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { recordOk } from '../support/ledger';

/*
 * A USD portfolio holding USD, EUR, JPY and GBP securities and cash, valued by hand.
 *
 * FX (1 base buys rate quote), last on or before 2024-03-28:
 *   EUR/USD 1.085 (03-28; 1.08 on 03-01 and 03-27; 2.0 on 03-29 must be ignored)
 *   USD/JPY 150   → JPY→USD is the inverse, 1/150
 *   GBP/USD 1.26  (1.25 on 03-01)
 *
 * Ledger (recordTransaction):
 *   03-01 DEPOSIT 100,000 USD; 10,000 EUR; 1,000,000 JPY; 6,000 GBP
 *   03-01 BUY  XOM     10 @ 100 USD             cash USD −1,000      cost 1,000
 *   03-04 BUY  AAPL   100 @ 170 USD, fee 1      cash USD −17,001     cost 17,001
 *   03-05 BUY  SAP.DE  50 @ 160 EUR             cash EUR −8,000      cost 8,000
 *   03-06 BUY  7203.T 200 @ 3,500 JPY           cash JPY −700,000    cost 700,000
 *   03-07 BUY  HSBA.L 1,000 @ 6 GBP             cash GBP −6,000      cost 6,000
 *   03-20 SELL AAPL    40 @ 180 USD, fee 1      cash USD +7,199      FIFO relieves 40/100 × 17,001 = 6,800.40
 *   03-21 DIVIDEND SAP.DE 25 EUR                cash EUR +25
 *
 * Closes on or before 2024-03-28: AAPL 172.50 (03-28), XOM 101 (03-01: 27 days old, STALE
 * with STALE_PRICE_DAYS=5), SAP.DE 170 (03-28), 7203.T 3,600 (03-27), HSBA.L none (MISSING:
 * valued at its cost).
 *
 * Positions (USD):
 *   AAPL    60 × 172.50             = 10,350.00
 *   XOM     10 × 101                =  1,010.00
 *   SAP.DE  50 × 170 = 8,500 EUR × 1.085   =  9,222.50
 *   7203.T 200 × 3,600 = 720,000 JPY / 150 =  4,800.00
 *   HSBA.L  cost 6,000 GBP × 1.26          =  7,560.00
 *                                   total   = 32,942.50
 * Cash (USD):
 *   USD 100,000 − 1,000 − 17,001 + 7,199  = 89,198.00
 *   EUR (10,000 − 8,000 + 25) × 1.085     =  2,197.125
 *   JPY 300,000 / 150                     =  2,000.00
 *   GBP 0
 *                                   total   = 93,395.125
 * NAV = 32,942.50 + 93,395.125 = 126,337.625  → 126,337.62 to the cent (half-even)
 */

const VALUATION = `query($id: ID!, $asOf: Date) { portfolio(id: $id) { valuation(asOf: $asOf) {
  asOf baseCurrency nav cashValue positionsValue complete stale missingFxRates
  holdings { symbol quantity price priceDate currency marketValue fxRate marketValueBase costBasis unrealizedPnl weight pricingStatus }
  cash { currency balance fxRate balanceBase } } } }`;
const EXPOSURE = `query($id: ID!, $asOf: Date) { portfolio(id: $id) { exposure(asOf: $asOf) {
  nav long short gross net grossLeverage netLeverage
  bySector { key long short gross net weight } byAssetClass { key net } byCountry { key net } byCurrency { key long short net } } } }`;
const NAV_HISTORY = `query($id: ID!, $from: Date!, $to: Date!) { portfolio(id: $id) { navHistory(from: $from, to: $to) { date nav netFlow cash positionsValue complete } } }`;
const INGEST_PRICES = `mutation($input: [PriceInput!]!) { ingestPrices(input: $input) { accepted rejected errors { index message } } }`;
const INGEST_FX = `mutation($input: [FxRateInput!]!) { ingestFxRates(input: $input) { accepted rejected errors { index message } } }`;

const cents = (v: string) => new D(v).toDecimalPlaces(2).toFixed(2);

describeEachEngine('valuation, exposure and NAV series', (db) => {
  let server: TestServer;
  let admin: string;
  let owner: string;
  let other: string;
  let pid: string;
  let shortPid: string;

  beforeAll(async () => {
    server = await startTestServer(db(), { STALE_PRICE_DAYS: '5' });
    admin = (await createUserWithKey(server, 'ADMIN')).key;
    owner = (await createUserWithKey(server, 'USER')).key;
    other = (await createUserWithKey(server, 'USER')).key;
    const up = `mutation($i: SecurityInput!) { upsertSecurity(input: $i) { id } }`;
    for (const [symbol, currency, sector, country] of [
      ['AAPL', 'USD', 'Information Technology', 'US'],
      ['XOM', 'USD', 'Energy', 'US'],
      ['SAP.DE', 'EUR', 'Information Technology', 'DE'],
      ['7203.T', 'JPY', 'Consumer Discretionary', 'JP'],
      ['HSBA.L', 'GBP', null, 'GB'],
    ] as const) {
      const r = await gql(server.url, admin, up, { i: { symbol, name: symbol, currency, sector, country, assetClass: 'Equity' } });
      expect(codeOf(r)).toBe('none');
    }
    const fx = await gql(server.url, admin, INGEST_FX, {
      input: [
        { base: 'EUR', quote: 'USD', date: '2024-03-01', rate: '1.08' },
        { base: 'EUR', quote: 'USD', date: '2024-03-27', rate: '1.08' },
        { base: 'EUR', quote: 'USD', date: '2024-03-28', rate: '1.085' },
        { base: 'EUR', quote: 'USD', date: '2024-03-29', rate: '2.0' },
        { base: 'USD', quote: 'JPY', date: '2024-03-01', rate: '150' },
        { base: 'GBP', quote: 'USD', date: '2024-03-01', rate: '1.25' },
        { base: 'GBP', quote: 'USD', date: '2024-03-28', rate: '1.26' },
      ],
    });
    expect(fx.data!.ingestFxRates.rejected).toBe(0);
    const px = await gql(server.url, admin, INGEST_PRICES, {
      input: [
        { symbol: 'XOM', date: '2024-03-01', close: '101' },
        { symbol: 'AAPL', date: '2024-03-27', close: '175' },
        { symbol: 'AAPL', date: '2024-03-28', close: '172.50' },
        { symbol: 'SAP.DE', date: '2024-03-28', close: '170' },
        { symbol: '7203.T', date: '2024-03-27', close: '3600' },
      ],
    });
    expect(px.data!.ingestPrices.rejected).toBe(0);

    const create = `mutation($i: CreatePortfolioInput!) { createPortfolio(input: $i) { id } }`;
    pid = (await gql(server.url, owner, create, { i: { name: 'Global', baseCurrency: 'USD' } })).data!.createPortfolio.id;
    shortPid = (await gql(server.url, owner, create, { i: { name: 'Shorts', baseCurrency: 'USD', allowShort: true } })).data!.createPortfolio.id;
    const book = (i: Record<string, unknown>) => recordOk(server.url, owner, { portfolioId: pid, ...i });
    for (const [amount, currency] of [['100000', 'USD'], ['10000', 'EUR'], ['1000000', 'JPY'], ['6000', 'GBP']]) {
      await book({ type: 'DEPOSIT', date: '2024-03-01', amount, currency });
    }
    await book({ type: 'BUY', date: '2024-03-01', symbol: 'XOM', quantity: '10', price: '100' });
    await book({ type: 'BUY', date: '2024-03-04', symbol: 'AAPL', quantity: '100', price: '170', fee: '1' });
    await book({ type: 'BUY', date: '2024-03-05', symbol: 'SAP.DE', quantity: '50', price: '160' });
    await book({ type: 'BUY', date: '2024-03-06', symbol: '7203.T', quantity: '200', price: '3500' });
    await book({ type: 'BUY', date: '2024-03-07', symbol: 'HSBA.L', quantity: '1000', price: '6' });
    await book({ type: 'SELL', date: '2024-03-20', symbol: 'AAPL', quantity: '40', price: '180', fee: '1' });
    await book({ type: 'DIVIDEND', date: '2024-03-21', symbol: 'SAP.DE', amount: '25', currency: 'EUR' });

    await recordOk(server.url, owner, { portfolioId: shortPid, type: 'DEPOSIT', date: '2024-03-01', amount: '10000', currency: 'USD' });
    await recordOk(server.url, owner, { portfolioId: shortPid, type: 'SELL', date: '2024-03-25', symbol: 'AAPL', quantity: '20', price: '175' });
  }, 120_000);
  afterAll(() => server?.close());

  test('the multi-currency NAV on 2024-03-28 matches the hand-computed example to the cent', async () => {
    const res = await gql(server.url, owner, VALUATION, { id: pid, asOf: '2024-03-28' });
    expect(codeOf(res)).toBe('none');
    const v = res.data!.portfolio.valuation;
    expect(v.asOf).toBe('2024-03-28T23:59:59.999Z');
    expect(v.nav).toBe('126337.625');
    expect(cents(v.nav)).toBe('126337.62');
    expect(v.positionsValue).toBe('32942.5');
    expect(v.cashValue).toBe('93395.125');
    expect(v.complete).toBe(false); // HSBA.L has no price
    expect(v.stale).toBe(true); // XOM's price is 27 days old
    expect(v.missingFxRates).toEqual([]);
    const h = Object.fromEntries(v.holdings.map((x: { symbol: string }) => [x.symbol, x]));
    expect(h['AAPL']).toMatchObject({ quantity: '60', price: '172.5', priceDate: '2024-03-28', marketValue: '10350', marketValueBase: '10350', costBasis: '10200.6', unrealizedPnl: '149.4', pricingStatus: 'OK' });
    expect(h['SAP.DE']).toMatchObject({ currency: 'EUR', marketValue: '8500', fxRate: '1.085', marketValueBase: '9222.5', costBasis: '8000', unrealizedPnl: '500', pricingStatus: 'OK' });
    expect(h['7203.T']).toMatchObject({ priceDate: '2024-03-27', marketValue: '720000', marketValueBase: '4800', pricingStatus: 'OK' });
    expect(h['XOM']).toMatchObject({ price: '101', priceDate: '2024-03-01', marketValueBase: '1010', pricingStatus: 'STALE' });
    expect(h['HSBA.L']).toMatchObject({ price: null, priceDate: null, marketValue: '6000', marketValueBase: '7560', unrealizedPnl: '0', pricingStatus: 'MISSING' });
    // AAPL weight: 10,350 / 126,337.625
    expect(h['AAPL'].weight).toBe(new D(10350).div('126337.625').toDecimalPlaces(10).toFixed());
    expect(v.cash).toEqual([
      { currency: 'EUR', balance: '2025', fxRate: '1.085', balanceBase: '2197.125' },
      { currency: 'JPY', balance: '300000', fxRate: expect.stringMatching(/^0\.00666666/), balanceBase: '2000' },
      { currency: 'USD', balance: '89198', fxRate: '1', balanceBase: '89198' },
    ]);
  });

  test('the staleness is configurable: with STALE_PRICE_DAYS=30 the 27-day-old XOM close is fresh', async () => {
    // This suite's server runs with 5 (XOM STALE above); another server on the same database with 30.
    const lenient = await startTestServer(db(), { STALE_PRICE_DAYS: '30' });
    try {
      const v = (await gql(lenient.url, owner, VALUATION, { id: pid, asOf: '2024-03-28' })).data!.portfolio.valuation;
      expect(v.holdings.find((x: { symbol: string }) => x.symbol === 'XOM').pricingStatus).toBe('OK');
      expect(v).toMatchObject({ stale: false, complete: false, nav: '126337.625' }); // HSBA.L is still MISSING
    } finally {
      await lenient.close();
    }
  });

  test('valuation now (no asOf) uses open lots, cash balances, latest quotes and the latest rates', async () => {
    // EUR/USD is 2.0 from 03-29: SAP.DE 8,500 × 2 = 17,000; EUR cash 2,025 × 2 = 4,050.
    // positions 10,350 + 1,010 + 17,000 + 4,800 + 7,560 = 40,720; cash 89,198 + 4,050 + 2,000 = 95,248
    const v = (await gql(server.url, owner, VALUATION, { id: pid })).data!.portfolio.valuation;
    expect(v.nav).toBe('135968');
    expect(v.positionsValue).toBe('40720');
    expect(v.holdings.every((x: { pricingStatus: string }) => x.pricingStatus !== 'OK')).toBe(true); // 2024 prices are old today
  });

  test('exposure: long, short, gross, net and breakdowns; a short position counts negative', async () => {
    const e = (await gql(server.url, owner, EXPOSURE, { id: pid, asOf: '2024-03-28' })).data!.portfolio.exposure;
    expect(e).toMatchObject({ nav: '126337.625', long: '32942.5', short: '0', gross: '32942.5', net: '32942.5' });
    expect(e.bySector.find((b: { key: string }) => b.key === 'Information Technology')).toMatchObject({ long: '19572.5', net: '19572.5' });
    expect(e.bySector.find((b: { key: string }) => b.key === 'UNCLASSIFIED')).toMatchObject({ net: '7560' });
    expect(e.byAssetClass).toEqual([{ key: 'Equity', net: '32942.5' }]);
    expect(e.byCountry.map((b: { key: string }) => b.key).sort()).toEqual(['DE', 'GB', 'JP', 'US']);
    // Currency covers cash too: USD 10,350 + 1,010 + 89,198; EUR 9,222.5 + 2,197.125; JPY 4,800 + 2,000; GBP 7,560
    const ccy = Object.fromEntries(e.byCurrency.map((b: { key: string; net: string }) => [b.key, b.net]));
    expect(ccy).toEqual({ USD: '100558', EUR: '11419.625', JPY: '6800', GBP: '7560' });

    // Short portfolio: 10,000 + 20 × 175 = 13,500 cash; AAPL −20 × 172.50 = −3,450; NAV 10,050
    const s = (await gql(server.url, owner, EXPOSURE, { id: shortPid, asOf: '2024-03-28' })).data!.portfolio.exposure;
    expect(s).toMatchObject({ nav: '10050', long: '0', short: '-3450', gross: '3450', net: '-3450' });
    expect(s.grossLeverage).toBe(new D(3450).div(10050).toDecimalPlaces(10).toFixed());
  });

  test('before any price or rate: holdings at cost and flagged, currencies without a rate listed', async () => {
    // 03-01: no AAPL yet; XOM priced 101 that day; EUR 1.08, JPY 1/150, GBP 1.25 exist from 03-01.
    const v = (await gql(server.url, owner, VALUATION, { id: pid, asOf: '2024-02-29' })).data!.portfolio.valuation;
    expect(v).toMatchObject({ nav: '0', holdings: [], cash: [], complete: true });
    const early = (await gql(server.url, owner, VALUATION, { id: pid, asOf: '2024-03-07' })).data!.portfolio.valuation;
    expect(early.holdings.find((x: { symbol: string }) => x.symbol === 'AAPL').pricingStatus).toBe('MISSING');
  });

  test('another owner cannot read it; a far-future asOf is refused', async () => {
    const res = await gql(server.url, other, VALUATION, { id: pid, asOf: '2024-03-28' });
    expect(res.data!.portfolio).toBeNull();
    expect(codeOf(await gql(server.url, owner, VALUATION, { id: pid, asOf: '2999-01-01' }))).toBe('BAD_USER_INPUT');
  });

  test('navHistory: one point per business day with net flows, matching the valuation; rebuilt from the stale date after a backdated booking or a late price', async () => {
    const first = await gql(server.url, owner, NAV_HISTORY, { id: pid, from: '2024-03-01', to: '2024-03-29' });
    expect(codeOf(first)).toBe('none');
    const points = first.data!.portfolio.navHistory;
    expect(points.map((p: { date: string }) => p.date).slice(0, 6)).toEqual(['2024-03-01', '2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08']);
    expect(points).toHaveLength(21); // business days in 2024-03-01..29
    // 03-01: flows 100,000 + 10,000 × 1.08 + 1,000,000 / 150 + 6,000 × 1.25 = 124,966.6666666667
    //        NAV = flows − 1,000 (XOM) + 10 × 101 = 124,976.6666666667
    expect(points[0]).toMatchObject({ date: '2024-03-01', netFlow: '124966.6666666667', nav: '124976.6666666667', complete: true });
    expect(points[1].netFlow).toBe('0');
    // 03-04: AAPL has no close before 03-27: valued at its trade price, day incomplete.
    expect(points[1].complete).toBe(false);
    // The daily point of 03-28 equals valuation(asOf 03-28), except HSBA.L: the series values a
    // position without a close at its last trade price (6 GBP × 1,000 = its cost here too).
    const p28 = points.find((p: { date: string }) => p.date === '2024-03-28');
    expect(p28.nav).toBe('126337.625');
    // 03-29: EUR/USD 2.0 → + (8,500 + 2,025) × (2.0 − 1.085) = + 9,630.375
    //        126,337.625 + 9,630.375 = 135,968
    expect(points.at(-1).nav).toBe('135968');

    const runs = () => db().prisma.calculationRun.findMany({ where: { portfolioId: pid, kind: 'nav_series' }, orderBy: { startedAt: 'asc' } });
    expect((await runs()).length).toBe(1);
    expect((await runs())[0]!.params).toMatchObject({ from: '2024-03-01' });
    // Read again: nothing to rebuild.
    await gql(server.url, owner, NAV_HISTORY, { id: pid, from: '2024-03-01', to: '2024-03-29' });
    expect((await runs()).length).toBe(1);

    // A backdated deposit on 03-11 makes the series stale from 03-11 and only that part is rebuilt.
    await recordOk(server.url, owner, { portfolioId: pid, type: 'DEPOSIT', date: '2024-03-11', amount: '1000', currency: 'USD' });
    expect((await db().prisma.portfolio.findUniqueOrThrow({ where: { id: pid } })).navStaleFrom?.toISOString().slice(0, 10)).toBe('2024-03-11');
    const second = (await gql(server.url, owner, NAV_HISTORY, { id: pid, from: '2024-03-01', to: '2024-03-29' })).data!.portfolio.navHistory;
    expect((await runs()).at(-1)!.params).toMatchObject({ from: '2024-03-11', staleFrom: '2024-03-11' });
    expect(second[0]).toEqual(points[0]);
    const d11 = second.find((p: { date: string }) => p.date === '2024-03-11');
    expect(d11.netFlow).toBe('1000');
    expect(second.find((p: { date: string }) => p.date === '2024-03-28').nav).toBe('127337.625');
    expect((await db().prisma.portfolio.findUniqueOrThrow({ where: { id: pid } })).navStaleFrom).toBeNull();

    // A late AAPL close for 03-05 marks it stale from 03-05: AAPL 100 × 171 on 03-05.
    await gql(server.url, admin, INGEST_PRICES, { input: [{ symbol: 'AAPL', date: '2024-03-05', close: '171' }] });
    expect((await db().prisma.portfolio.findUniqueOrThrow({ where: { id: pid } })).navStaleFrom?.toISOString().slice(0, 10)).toBe('2024-03-05');
    const third = (await gql(server.url, owner, NAV_HISTORY, { id: pid, from: '2024-03-05', to: '2024-03-05' })).data!.portfolio.navHistory;
    expect((await runs()).at(-1)!.params).toMatchObject({ from: '2024-03-05' });
    const before05 = second.find((p: { date: string }) => p.date === '2024-03-05');
    // Valued at the trade price 170 before, at the close 171 now: + 100.
    expect(new D(third[0].nav).minus(before05.nav).toFixed()).toBe('100');

    expect(codeOf(await gql(server.url, owner, NAV_HISTORY, { id: pid, from: '2024-03-10', to: '2024-03-01' }))).toBe('BAD_USER_INPUT');
  }, 60_000);

  test('a late FX rate marks the series stale from its date; the rebuild from there is recorded and moves only the days it reaches', async () => {
    const history = async () => (await gql(server.url, owner, NAV_HISTORY, { id: pid, from: '2024-03-14', to: '2024-03-27' })).data!.portfolio.navHistory as { date: string; nav: string }[];
    const before = await history();
    const portfolio = () => db().prisma.portfolio.findUniqueOrThrow({ where: { id: pid } });
    expect((await portfolio()).navStaleFrom).toBeNull();
    // EUR/USD 1.2 on 03-15, where 1.08 (of 03-01) applied until the rate of 03-27.
    const fx = await gql(server.url, admin, INGEST_FX, { input: [{ base: 'EUR', quote: 'USD', date: '2024-03-15', rate: '1.2' }] });
    expect(fx.data!.ingestFxRates.rejected).toBe(0);
    expect((await portfolio()).navStaleFrom?.toISOString().slice(0, 10)).toBe('2024-03-15');
    const after = await history();
    const runs = await db().prisma.calculationRun.findMany({ where: { portfolioId: pid, kind: 'nav_series' }, orderBy: { startedAt: 'desc' }, take: 1 });
    expect(runs[0]!.params).toMatchObject({ from: '2024-03-15', staleFrom: '2024-03-15' });
    expect((await portfolio()).navStaleFrom).toBeNull();
    // EUR held 03-15 … 03-20: SAP.DE 50 × 160 (its trade price: no close before 03-28) + 2,000 EUR cash = 10,000 EUR
    //   × (1.2 − 1.08) = + 1,200 USD; from 03-21 the 25 EUR dividend too: 10,025 × 0.12 = + 1,203.
    // 03-14 is before the rate; 03-27 has its own rate (1.08): both unchanged.
    const change = Object.fromEntries(after.map((p, i) => [p.date, new D(p.nav).minus(before[i]!.nav).toFixed()]));
    expect(after.map((p) => p.date)).toEqual(before.map((p) => p.date));
    expect(change).toEqual({
      '2024-03-14': '0',
      '2024-03-15': '1200', '2024-03-18': '1200', '2024-03-19': '1200', '2024-03-20': '1200',
      '2024-03-21': '1203', '2024-03-22': '1203', '2024-03-25': '1203', '2024-03-26': '1203',
      '2024-03-27': '0',
    });
  });
});
