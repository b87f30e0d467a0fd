import { D } from '../../src/domain/decimal';
import { describeEachEngine } from '../support/db';
import { countQueries, type CountingDatabase } from '../support/query-counter';
import { createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { SYSTEM } from '../support/ledger';

/*
 * No N+1: the number of SQL statements a request runs must not grow with the number of
 * portfolios listed. Statements are counted at the driver adapter, so everything Prisma
 * sends (auth, access, loaders, raw SQL) is included.
 */

const LIST = `query($first: Int, $asOf: Date) { portfolios(first: $first) { nodes { id name
  valuation(asOf: $asOf) { nav positionsValue cashValue complete holdings { symbol marketValueBase weight pricingStatus } cash { currency balanceBase } }
  exposure(asOf: $asOf) { gross net byCurrency { key net } } } } }`;

describeEachEngine('valuation query count', (db) => {
  let counting: CountingDatabase;
  let server: TestServer;
  let key: string;

  beforeAll(async () => {
    counting = countQueries(db());
    // Statements per request are what this counts: the in-memory valuation cache would hide them.
    // The webhook worker's periodic claim and the DAY-order sweep would land in the count at random: hourly here.
    server = await startTestServer(counting.db, { VALUATION_CACHE_TTL_MS: '0', WEBHOOK_POLL_MS: '3600000', ORDER_EXPIRY_POLL_MS: '3600000' });
    const owner = await createUserWithKey(server, 'USER');
    key = owner.key;
    const s = server.app.services;
    const symbols: [string, string][] = [['NQ1', 'USD'], ['NQ2', 'EUR'], ['NQ3', 'GBP'], ['NQ4', 'JPY']];
    for (const [symbol, currency] of symbols) await s.securities.upsert(SYSTEM, { symbol, name: symbol, currency });
    await s.marketData.ingestPrices(SYSTEM, symbols.map(([symbol], i) => ({ symbol, date: '2024-05-01', close: new D(10 + i) })));
    await s.marketData.ingestFxRates(SYSTEM, [
      { base: 'EUR', quote: 'USD', date: '2024-05-01', rate: new D('1.07') },
      { base: 'GBP', quote: 'USD', date: '2024-05-01', rate: new D('1.25') },
      { base: 'USD', quote: 'JPY', date: '2024-05-01', rate: new D('155') },
    ]);
    const ctx = { actor: { userId: owner.userId, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'seed' } };
    for (let p = 0; p < 50; p++) {
      const portfolio = await s.portfolios.create(ctx, { name: `P${String(p).padStart(2, '0')}`, baseCurrency: p % 2 ? 'USD' : 'EUR' });
      await s.ledger.record(ctx, { portfolioId: portfolio.id, type: 'DEPOSIT', date: '2024-04-01', amount: new D(100_000), currency: 'USD' });
      for (const [symbol] of symbols.slice(0, 1 + (p % 4))) {
        await s.ledger.record(ctx, { portfolioId: portfolio.id, type: 'BUY', date: '2024-04-02', symbol, quantity: new D(10 + p), price: new D(9) });
      }
    }
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await counting?.close();
  });

  async function statementsFor(first: number, asOf?: string): Promise<number> {
    counting.reset();
    const res = await gql(server.url, key, LIST, { first, asOf });
    expect(res.errors).toBeUndefined();
    expect(res.data.portfolios.nodes).toHaveLength(first);
    expect(res.data.portfolios.nodes.every((n: { valuation: { holdings: unknown[] } }) => n.valuation.holdings.length > 0)).toBe(true);
    if (process.env.SHOW_SQL) console.log(first, asOf, counting.statements.map((q) => q.slice(0, 90)));
    return counting.statements.length;
  }

  test.each([[undefined], ['2024-05-02']])('listing 50 portfolios with valuation and exposure (asOf %s) runs as many statements as listing 2', async (asOf) => {
    await statementsFor(2, asOf); // warm: first-request work (e.g. key lookup caches) out of the way
    const two = await statementsFor(2, asOf);
    const fifty = await statementsFor(50, asOf);
    // The counter sees real traffic: auth, the page, its count-free listing, positions, cash, FX.
    expect(two).toBeGreaterThanOrEqual(5);
    expect(fifty).toBe(two);
    expect(fifty).toBeLessThanOrEqual(12);
  });
});
