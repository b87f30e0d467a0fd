import { D, textOf } from '../../src/domain/decimal';
import { LocalEventBus } from '../../src/events/bus';
import { ValuationService } from '../../src/services/valuation';
import { createServices } from '../../src/services';
import type { Portfolio } from '../../src/generated/prisma/client';
import { describeEachEngine } from '../support/db';
import { countQueries, type CountingDatabase } from '../support/query-counter';
import { SYSTEM } from '../support/ledger';

/*
 * The valuation "now" is kept in memory until an event says what it rests on has changed:
 * trade.booked / cash.moved for its portfolio, prices.ingested for a security it holds,
 * fx.ingested for any rate. A hit runs no SQL; anything not announced on the bus is
 * bounded by the TTL.
 *
 * USD portfolio: deposit 10,000 USD; BUY CA 10 @ 100 (cash 9,000); CA closes 110 on 2024-05-01.
 *   NAV = 9,000 + 10 × 110 = 10,100
 */
describeEachEngine('valuation cache', (db) => {
  let counting: CountingDatabase;
  let bus: LocalEventBus;
  let services: ReturnType<typeof createServices>;
  let portfolio: Portfolio;
  let owner: typeof SYSTEM | { actor: { userId: string; role: 'USER'; apiKeyId: null }; meta: { requestId: string } };
  const flush = () => new Promise((r) => setImmediate(r));

  beforeAll(async () => {
    counting = countQueries(db());
    bus = new LocalEventBus();
    services = createServices(counting.db.prisma, bus, { valuation: { stalePriceDays: 5, cacheTtlMs: 60_000 } });
    for (const [symbol, currency] of [['CA', 'USD'], ['CB', 'EUR'], ['CC', 'USD']]) await services.securities.upsert(SYSTEM, { symbol: symbol!, name: symbol!, currency: currency! });
    await services.marketData.ingestPrices(SYSTEM, [
      { symbol: 'CA', date: '2024-05-01', close: new D(110) },
      { symbol: 'CB', date: '2024-05-01', close: new D(50) },
      { symbol: 'CC', date: '2024-05-01', close: new D(7) },
    ]);
    await services.marketData.ingestFxRates(SYSTEM, [{ base: 'EUR', quote: 'USD', date: '2024-05-01', rate: new D('1.1') }]);
    const user = await services.identity.createUser(SYSTEM, { email: 'cache@test.local', role: 'USER' });
    owner = { actor: { userId: user.id, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'test' } };
    portfolio = await services.portfolios.create(owner, { name: 'Cached', baseCurrency: 'USD' });
    await services.ledger.record(owner, { portfolioId: portfolio.id, type: 'DEPOSIT', date: '2024-05-01', amount: new D(10_000), currency: 'USD' });
    await services.ledger.record(owner, { portfolioId: portfolio.id, type: 'BUY', date: '2024-05-01', symbol: 'CA', quantity: new D(10), price: new D(100) });
    await flush();
  }, 60_000);
  afterAll(() => counting?.close());

  /** NAV now and the statements it took. */
  async function nav(service: ValuationService = services.valuation): Promise<[string, number]> {
    counting.reset();
    const [v] = await service.valueMany([portfolio]);
    return [v!.nav.toFixed(), counting.statements.length];
  }

  test('a repeated valuation is served from memory, as of the new instant; a dated one is never cached', async () => {
    const [first, firstStatements] = await nav();
    expect(first).toBe('10100');
    expect(firstStatements).toBeGreaterThan(0);
    const before = Date.now();
    counting.reset();
    const [again] = await services.valuation.valueMany([portfolio]);
    expect(counting.statements).toEqual([]);
    expect(again!.nav.toFixed()).toBe('10100');
    expect(again!.asOf.getTime()).toBeGreaterThanOrEqual(before);
    // What the Decimal scalar serializes for a cached valuation is each value's own text.
    const decimals = [again!, ...again!.holdings, ...again!.cash].flatMap((o) => Object.values(o).filter((v) => D.isDecimal(v)));
    expect(decimals.length).toBeGreaterThan(8);
    for (const v of decimals) expect(textOf(v)).toBe(v.toFixed());
    counting.reset();
    await services.valuation.valueMany([portfolio], '2024-05-01');
    expect(counting.statements.length).toBeGreaterThan(0);
  });

  test('prices.ingested drops it for a held security, not for another one', async () => {
    await nav();
    await services.marketData.ingestPrices(SYSTEM, [{ symbol: 'CC', date: '2024-05-02', close: new D(8) }]);
    await flush();
    expect(await nav()).toEqual(['10100', 0]);
    // CA 10 × 120: 9,000 + 1,200 = 10,200
    await services.marketData.ingestPrices(SYSTEM, [{ symbol: 'CA', date: '2024-05-02', close: new D(120) }]);
    await flush();
    const [value, statements] = await nav();
    expect(value).toBe('10200');
    expect(statements).toBeGreaterThan(0);
  });

  test('cash.moved and trade.booked drop it for their portfolio', async () => {
    await nav();
    // + 500 USD: 10,700
    await services.ledger.record(owner, { portfolioId: portfolio.id, type: 'DEPOSIT', date: '2024-05-02', amount: new D(500), currency: 'USD' });
    await flush();
    expect((await nav())[0]).toBe('10700');
    // BUY CB 2 @ 40 EUR: EUR cash −80 × 1.1 = −88, CB 2 × 50 × 1.1 = +110 → 10,722
    await services.ledger.record(owner, { portfolioId: portfolio.id, type: 'BUY', date: '2024-05-02', symbol: 'CB', quantity: new D(2), price: new D(40) });
    await flush();
    expect((await nav())[0]).toBe('10722');
  });

  test('fx.ingested drops every cached valuation', async () => {
    await nav();
    // EUR/USD 1.2: CB 100 EUR × 1.2 = 120, EUR cash −80 × 1.2 = −96 → 9,500 + 1,200 + 120 − 96 = 10,724
    await services.marketData.ingestFxRates(SYSTEM, [{ base: 'EUR', quote: 'USD', date: '2024-05-02', rate: new D('1.2') }]);
    await flush();
    expect((await nav())[0]).toBe('10724');
  });

  test('a valuation read while an event arrives is not kept: it may predate the change', async () => {
    await nav();
    bus.publish({ type: 'fx.ingested', rates: [] });
    await flush();
    counting.reset();
    const pending = services.valuation.valueMany([portfolio]);
    // Delivered (a microtask) while the reads above are in flight.
    bus.publish({ type: 'cash.moved', portfolioId: portfolio.id, transactionId: 'x', currency: 'USD', tradeDate: '2024-05-02' });
    await pending;
    expect(counting.statements.length).toBeGreaterThan(0);
    expect((await nav())[1]).toBeGreaterThan(0);
    expect((await nav())[1]).toBe(0);
  });

  test('what no event announces is bounded by the TTL; TTL 0 never caches', async () => {
    const short = new ValuationService(counting.db.prisma, bus, { stalePriceDays: 5, cacheTtlMs: 1000 });
    const [before] = await nav(short);
    // Another process raising CA's quote by 10 directly: no event reaches this one.
    await db().prisma.$executeRawUnsafe(`UPDATE quotes SET price = price + 10 WHERE security_id = (SELECT id FROM securities WHERE symbol = 'CA')`);
    expect(await nav(short)).toEqual([before, 0]);
    await new Promise((r) => setTimeout(r, 1100));
    // 10 CA × 10 more
    expect((await nav(short))[0]).toBe(new D(before).plus(100).toFixed());
    const off = new ValuationService(counting.db.prisma, bus, { stalePriceDays: 5, cacheTtlMs: 0 });
    await nav(off);
    expect((await nav(off))[1]).toBeGreaterThan(0);
  });
});
