import { seedDemo } from '../../src/server/demo';
import { createLogger } from '../../src/logger';
import { describeEachEngine } from '../support/db';
import { LocalEventBus } from '../../src/events/bus';
import { createServices } from '../../src/services';
import { D } from '../../src/domain/decimal';

/* The demo dataset books its trading history through the services without a rejection, on either engine. */
describeEachEngine('demo ledger', (get) => {
  test('the demo seed books deposits, trades across lot methods, dividends, a split and open orders', async () => {
    const db = get();
    const services = createServices(db.prisma, new LocalEventBus());
    expect(await seedDemo(services, async () => (await db.prisma.security.count()) === 0, createLogger('silent'))).toBe(true);
    const byType = await db.prisma.transaction.groupBy({ by: ['type'], _count: true });
    const count = Object.fromEntries(byType.map((r) => [r.type, r._count]));
    expect(count).toMatchObject({ DEPOSIT: expect.any(Number), BUY: expect.any(Number), SELL: expect.any(Number), DIVIDEND: expect.any(Number), SPLIT: 1, INTEREST: expect.any(Number), WITHDRAWAL: 1, FEE: expect.any(Number) });
    const methods = (await db.prisma.portfolio.findMany({ where: { lots: { some: { realizedGains: { some: {} } } } }, select: { costBasisMethod: true } })).map((p) => p.costBasisMethod).sort();
    expect(methods).toEqual(['AVERAGE', 'FIFO', 'HIFO']);
    expect(await db.prisma.order.count({ where: { status: 'NEW' } })).toBe(4);
    // After the 2-for-1 split AAPL's bars are at half price, so the position's value is continuous.
    const aapl = await db.prisma.quote.findFirst({ where: { security: { symbol: 'AAPL' } } });
    expect(Number(aapl!.price.toFixed())).toBeLessThan(150);

    // Every AAPL trade at the day's close in the shares it was traded in: the stored bars are
    // adjusted from the split date on, and a trade on the split day comes before the split (the
    // ledger restates it), so it is in pre-split shares: the stored close × 2.
    const split = (await db.prisma.transaction.findFirstOrThrow({ where: { type: 'SPLIT', security: { symbol: 'AAPL' } } })).tradeDate;
    const closes = new Map(
      (await db.prisma.priceBar.findMany({ where: { security: { symbol: 'AAPL' }, timeframe: '1d' } })).map((b) => [b.ts.toISOString().slice(0, 10), new D(b.close.toFixed())]),
    );
    const trades = await db.prisma.transaction.findMany({ where: { type: { in: ['BUY', 'SELL'] }, security: { symbol: 'AAPL' } } });
    const onSplitDay = trades.filter((t) => t.tradeDate.getTime() === split.getTime());
    expect(onSplitDay.map((t) => t.type)).toEqual(['BUY']);
    for (const t of trades) {
      const close = closes.get(t.tradeDate.toISOString().slice(0, 10))!;
      expect([t.tradeDate, t.price!.toFixed()]).toEqual([t.tradeDate, close.times(t.tradeDate.getTime() === split.getTime() ? 2 : 1).toDecimalPlaces(4).toFixed()]);
    }
    // The split-day lot is restated by the split: twice the shares traded.
    const lot = await db.prisma.lot.findFirstOrThrow({ where: { openTransactionId: onSplitDay[0]!.id } });
    expect(lot.qtyOriginal.toFixed()).toBe(onSplitDay[0]!.quantity!.times(2).toFixed());
  }, 120_000);
});
