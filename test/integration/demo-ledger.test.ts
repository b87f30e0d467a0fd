import { seedDemo } from '../../src/server/demo';
import { createLogger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { LocalEventBus } from '../../src/events/bus';
import { createServices } from '../../src/services';

/* The demo dataset books its trading history through the services without a rejection. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('pglite');
}, 60_000);
afterAll(() => db.drop());

test('the demo seed books deposits, trades across lot methods, dividends, a split and open orders', async () => {
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
}, 120_000);
