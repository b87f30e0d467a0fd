import type { PrismaClient } from '../../src/generated/prisma/client';
import { gql, type GqlResponse, type TestServer } from './server';
import { countQueries } from './query-counter';
import type { Database } from '../../src/db/client';
import { createServices } from '../../src/services';
import { LocalEventBus } from '../../src/events/bus';
import { D } from '../../src/domain/decimal';

/** Helpers shared by the ledger and trading suites: GraphQL calls and row counts. */

export const SYSTEM = { actor: { userId: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' as const, apiKeyId: null }, meta: { requestId: 'test' } };

export async function ensureSecurities(server: TestServer, symbols: [string, string][]): Promise<void> {
  for (const [symbol, currency] of symbols) {
    await server.app.services.securities.upsert(SYSTEM, { symbol, name: `${symbol} Inc.`, currency });
  }
}

export async function createPortfolio(url: string, key: string, name: string, costBasisMethod = 'FIFO', allowShort = false): Promise<string> {
  const res = await gql(url, key, `mutation($i: CreatePortfolioInput!) { createPortfolio(input: $i) { id } }`, {
    i: { name, baseCurrency: 'USD', costBasisMethod, allowShort },
  });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createPortfolio.id as string;
}

export const TXN_FIELDS = 'id type date symbol quantity price amount fee currency splitRatio externalId';

export function record(url: string, key: string, input: Record<string, unknown>): Promise<GqlResponse<any>> {
  return gql(url, key, `mutation($i: TransactionInput!) { recordTransaction(input: $i) { ${TXN_FIELDS} } }`, { i: input });
}

export async function recordOk(url: string, key: string, input: Record<string, unknown>): Promise<any> {
  const res = await record(url, key, input);
  if (res.errors) throw new Error(`${JSON.stringify(input)}: ${JSON.stringify(res.errors)}`);
  return res.data.recordTransaction;
}

export async function lots(url: string, key: string, portfolioId: string, openOnly = true): Promise<any[]> {
  const res = await gql(url, key, `query($id: ID!, $o: Boolean) { portfolio(id: $id) { lots(openOnly: $o) { id symbol qtyOriginal qtyOpen costBasis acquiredOn closedOn } } }`, { id: portfolioId, o: openOnly });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.portfolio.lots;
}

export async function gains(url: string, key: string, portfolioId: string, from?: string, to?: string): Promise<any[]> {
  const res = await gql(
    url,
    key,
    `query($id: ID!, $f: Date, $t: Date) { portfolio(id: $id) { realizedGains(from: $f, to: $t) { symbol quantity proceeds cost gain acquiredOn soldOn holdingDays longTerm } } }`,
    { id: portfolioId, f: from, t: to },
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.portfolio.realizedGains;
}

export async function cash(prisma: PrismaClient, portfolioId: string): Promise<Record<string, string>> {
  const rows = await prisma.cashBalance.findMany({ where: { portfolioId } });
  return Object.fromEntries(rows.map((r) => [r.currency, r.balance.toFixed()]));
}

/** Everything a booking writes, counted: a refused request must leave all of it unchanged. */
export async function footprint(prisma: PrismaClient, portfolioId: string) {
  const [transactions, lotRows, realized, orders, fills, audit, balances, portfolio] = await Promise.all([
    prisma.transaction.count({ where: { portfolioId } }),
    prisma.lot.findMany({ where: { portfolioId }, orderBy: { id: 'asc' }, select: { id: true, qtyOpen: true, qtyOriginal: true, costBasis: true } }),
    prisma.realizedGain.count({ where: { portfolioId } }),
    prisma.order.findMany({ where: { portfolioId }, orderBy: { id: 'asc' }, select: { id: true, status: true, filledQty: true } }),
    prisma.fill.count({ where: { order: { portfolioId } } }),
    prisma.auditLog.count({ where: { portfolioId } }),
    cash(prisma, portfolioId),
    prisma.portfolio.findUnique({ where: { id: portfolioId }, select: { navStaleFrom: true } }),
  ]);
  return JSON.parse(JSON.stringify({ transactions, lots: lotRows, realized, orders, fills, audit, balances, portfolio }));
}

/**
 * The statements a fill of `orderId` dated now sends, besides BEGIN, COMMIT and the principal
 * switch: the fill path's speed guarantee is two (the read and the booking; BENCHMARKS.md). A
 * first fill (`first`) prepares the statements on the connection and is not counted.
 */
export async function statementsOfFillNow(
  db: Database,
  userId: string,
  orderId: string,
  price: string,
  [first, counted]: [{ externalId: string; quantity: string }, { externalId: string; quantity: string }],
): Promise<string[]> {
  const counting = countQueries(db);
  try {
    const { trading } = createServices(counting.db.prisma, new LocalEventBus());
    const ctx = { actor: { userId, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'count' } };
    const fillNow = (f: { externalId: string; quantity: string }) => trading.recordFill(ctx, { orderId, externalId: f.externalId, quantity: new D(f.quantity), price: new D(price), executedAt: new Date() });
    await fillNow(first);
    counting.reset();
    await fillNow(counted);
    return counting.statements.filter((q) => !/^\s*(BEGIN|COMMIT|SET|SELECT set_config)/i.test(q));
  } finally {
    await counting.close();
  }
}
