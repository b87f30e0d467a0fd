import { randomUUID } from 'node:crypto';
import { Prisma } from '../../src/generated/prisma/client';
import { D } from '../../src/domain/decimal';
import { openDatabase, type Database } from '../../src/db/client';
import { queryRows } from '../../src/db/direct';
import { asSystem, asUser } from '../../src/db/principal';
import { LocalEventBus } from '../../src/events/bus';
import { createServices, type ServiceContext } from '../../src/services';
import { isUniqueViolation } from '../../src/services/db';
import { describeEachEngine } from '../support/db';
import { countQueries } from '../support/query-counter';

/*
 * What keeps the fill and the SELL fast (BENCHMARKS.md, "Ledger"): fills of one order in one
 * process are the fast path's two statements each, never a retry; the driver's own errors
 * are told apart as Prisma's are; a large SELL stays cheap on a generic plan.
 */

async function owner(database: Database): Promise<{ ctx: ServiceContext; userId: string }> {
  const user = await asSystem(() => database.prisma.user.create({ data: { email: `fill-path-${randomUUID()}@test.local`, role: 'USER' } }));
  return { userId: user.id, ctx: { actor: { userId: user.id, role: 'USER', apiKeyId: null }, meta: { requestId: 'fill-path' } } };
}

async function security(database: Database): Promise<string> {
  const symbol = `FP${randomUUID().slice(0, 6).toUpperCase()}`;
  await asSystem(() => database.prisma.security.create({ data: { symbol, name: symbol, currency: 'USD' } }));
  return symbol;
}

describeEachEngine('fill path', (db, engine) => {
  test('eight fills of one order at once in one process: each is two statements, none retried or locked', async () => {
    const counting = countQueries(db());
    try {
      const services = createServices(counting.db.prisma, new LocalEventBus());
      const { ctx, userId } = await owner(counting.db);
      const symbol = await security(counting.db);
      const order = await asUser(userId, async () => {
        const p = await services.portfolios.create(ctx, { name: 'one order', baseCurrency: 'USD' });
        return services.trading.placeOrder(ctx, { portfolioId: p.id, symbol, side: 'BUY', type: 'MARKET', quantity: new D(100), timeInForce: 'GTC' });
      });
      // After the order's placement, as a fill must be.
      const executedAt = new Date(Date.now() + 1000);
      counting.reset();
      const fills = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          asUser(userId, () => services.trading.recordFill(ctx, { orderId: order.id, externalId: `fp-${order.id}-${i}`, quantity: new D(10), price: new D(20 + i), executedAt })),
        ),
      );
      expect(new Set(fills.map((f) => f.id)).size).toBe(8);
      // The unlocked read and the gated booking per fill; a retry or the locked path would add statements.
      expect(counting.statements).toHaveLength(16);
      const after = await asUser(userId, () => services.trading.order(ctx, order.id));
      // 10 × (20 + 21 + … + 27) / 80 = 23.5
      expect({ status: after!.status, filledQty: after!.filledQty.toFixed(), avg: after!.avgFillPrice!.toFixed() }).toEqual({ status: 'PARTIALLY_FILLED', filledQty: '80', avg: '23.5' });
      const lots = await asUser(userId, () => services.ledger.lots(ctx, order.portfolioId));
      expect(lots).toHaveLength(8);
    } finally {
      await counting.close();
    }
  });

  if (engine !== 'postgres') return;

  test('a unique violation straight from the driver is a unique violation, on the columns of its key', async () => {
    const symbol = `FP${randomUUID().slice(0, 6).toUpperCase()}`;
    const err = await asSystem(() =>
      queryRows(db().prisma, Prisma.sql`INSERT INTO securities (id, symbol, name, currency, updated_at) VALUES (gen_random_uuid(), ${symbol}, 'a', 'USD', now()), (gen_random_uuid(), ${symbol}, 'b', 'USD', now()) RETURNING id`),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).not.toBeNull();
    expect(isUniqueViolation(err)).toBe(true);
    expect(isUniqueViolation(err, 'symbol')).toBe(true);
    expect(isUniqueViolation(err, 'name')).toBe(false);
  });

  test('a SELL relieving 2,000 lots costs about the same on a generic plan as on a custom one', async () => {
    // Every connection of this handle runs prepared statements on their generic plan, as
    // PostgreSQL may choose from a statement's sixth execution on a connection.
    const url = new URL(db().url!);
    url.searchParams.set('options', '-c plan_cache_mode=force_generic_plan');
    const generic = await openDatabase({ url: url.toString(), poolSize: 2 });
    try {
      const { ctx, userId } = await owner(db());
      const symbol = await security(db());
      const sell = async (database: Database): Promise<number> => {
        const services = createServices(database.prisma, new LocalEventBus());
        const pid = await asUser(userId, async () => {
          const p = await services.portfolios.create(ctx, { name: `lots ${randomUUID()}`, baseCurrency: 'USD', costBasisMethod: 'HIFO' });
          const buy = await services.ledger.record(ctx, { portfolioId: p.id, type: 'BUY', date: '2023-01-02', symbol, quantity: new D(20_000), price: new D(10) });
          // 2,000 lots of one security, as 2,000 BUYs would leave them.
          await database.prisma.$executeRaw`
            UPDATE lots SET qty_original = 10, qty_open = 10, cost_basis = 100 WHERE open_transaction_id = ${buy.id}::uuid`;
          await database.prisma.$executeRaw`
            INSERT INTO lots (id, portfolio_id, security_id, open_transaction_id, qty_original, qty_open, cost_basis, acquired_on)
            SELECT gen_random_uuid(), ${p.id}::uuid, ${buy.securityId}::uuid, ${buy.id}::uuid, 10, 10, 100 + (i % 97), date '2023-01-02' + (i % 300)
            FROM generate_series(1, 1999) i`;
          return p.id;
        });
        const started = performance.now();
        await asUser(userId, () => services.ledger.record(ctx, { portfolioId: pid, type: 'SELL', date: '2024-06-03', symbol, quantity: new D(20_000), price: new D('12.5'), fee: new D(1) }));
        const ms = performance.now() - started;
        const gains = await asUser(userId, () => services.ledger.realizedGains(ctx, pid));
        expect(gains).toHaveLength(2000);
        return ms;
      };
      const custom = await sell(db());
      const onGeneric = await sell(generic);
      // Matched as `id = ANY(list)`, each lot split the 2,000-id list anew: 6-50× the custom plan
      // (quiet or loaded machine); through unnest both plans take about the same.
      expect(onGeneric).toBeLessThan(3 * custom + 200);
    } finally {
      await generic.close();
    }
  }, 60_000);
});
