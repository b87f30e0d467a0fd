import { randomUUID } from 'node:crypto';
import { openDatabase, type Database } from '../../src/db/client';
import type { PoolClient } from 'pg';
import { assertHeldToPolicies } from '../../src/db/app-role';
import { PrincipalClient, PrincipalPool } from '../../src/db/principal-pool';
import { asSystem, asUser, withoutPrincipal } from '../../src/db/principal';
import type { PrismaClient, Role } from '../../src/generated/prisma/client';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/db';

/*
 * Row-level security on PostgreSQL, the second wall: these queries go through the server's own
 * database client with no application check in front of them, as a resolver that forgot its
 * check would. PGlite has no such wall (the application connects as its superuser).
 */

type Tables = Record<string, (db: PrismaClient) => Promise<string[]>>;

/** Every portfolio-owned table, and the portfolio of each row a query there returns. */
const TABLES: Tables = {
  portfolios: async (db) => (await db.portfolio.findMany()).map((r) => r.id),
  portfolio_shares: async (db) => (await db.portfolioShare.findMany()).map((r) => r.portfolioId),
  transactions: async (db) => (await db.transaction.findMany()).map((r) => r.portfolioId),
  lots: async (db) => (await db.lot.findMany()).map((r) => r.portfolioId),
  realized_gains: async (db) => (await db.realizedGain.findMany()).map((r) => r.portfolioId),
  cash_balances: async (db) => (await db.cashBalance.findMany()).map((r) => r.portfolioId),
  portfolio_daily_values: async (db) => (await db.portfolioDailyValue.findMany()).map((r) => r.portfolioId),
  orders: async (db) => (await db.order.findMany()).map((r) => r.portfolioId),
  fills: async (db) => (await db.$queryRaw<{ p: string }[]>`SELECT o.portfolio_id::text AS p FROM fills f JOIN orders o ON o.id = f.order_id`).map((r) => r.p),
  fills_alone: async (db) => (await db.fill.findMany({ select: { orderId: true } })).map((r) => r.orderId),
  alert_rules: async (db) => (await db.alertRule.findMany()).map((r) => r.portfolioId),
  alert_events: async (db) => (await db.alertEvent.findMany()).map((r) => r.portfolioId),
  alert_deliveries: async (db) => (await db.alertDelivery.findMany({ select: { eventId: true } })).map((r) => r.eventId),
  alert_retries: async (db) => (await db.alertRetry.findMany({ select: { deliveryId: true } })).map((r) => r.deliveryId),
  alert_dlq: async (db) => (await db.alertDeadLetter.findMany({ select: { eventId: true } })).map((r) => r.eventId),
  modeling_sessions: async (db) => (await db.modelingSession.findMany()).map((r) => r.portfolioId),
  calculation_runs: async (db) => (await db.calculationRun.findMany()).map((r) => r.portfolioId!),
  audit_log: async (db) => (await db.auditLog.findMany({ where: { portfolioId: { not: null } } })).map((r) => r.portfolioId!),
};

interface Owner {
  userId: string;
  portfolioId: string;
  /** Ids of its order and alert event: fills and deliveries name those, not the portfolio. */
  orderId: string;
  eventId: string;
  deliveryId: string;
  transactionId: string;
}

/** The portfolio a row of `table` belongs to, given what TABLES returns for it. */
function portfolioOf(owners: Owner[], table: string, id: string): string {
  if (table === 'fills_alone') return owners.find((o) => o.orderId === id)!.portfolioId;
  if (table === 'alert_deliveries' || table === 'alert_dlq') return owners.find((o) => o.eventId === id)!.portfolioId;
  if (table === 'alert_retries') return owners.find((o) => o.deliveryId === id)!.portfolioId;
  return id;
}

async function seedOwner(db: PrismaClient, role: Role, securityId: string): Promise<Owner> {
  const user = await db.user.create({ data: { email: `${randomUUID()}@rls.test`, role } });
  const p = await db.portfolio.create({ data: { ownerId: user.id, name: 'P', baseCurrency: 'USD' } });
  const base = { portfolioId: p.id, currency: 'USD' };
  const buy = await db.transaction.create({ data: { ...base, securityId, type: 'BUY', tradeDate: new Date('2024-01-02'), quantity: '2', price: '10', amount: '-20' } });
  const sell = await db.transaction.create({ data: { ...base, securityId, type: 'SELL', tradeDate: new Date('2024-02-02'), quantity: '1', price: '12', amount: '12' } });
  const lot = await db.lot.create({ data: { portfolioId: p.id, securityId, openTransactionId: buy.id, qtyOriginal: '2', qtyOpen: '1', costBasis: '10', acquiredOn: new Date('2024-01-02') } });
  await db.realizedGain.create({
    data: { ...base, lotId: lot.id, transactionId: sell.id, securityId, quantity: '1', proceeds: '12', cost: '10', gain: '2', acquiredOn: new Date('2024-01-02'), soldOn: new Date('2024-02-02'), holdingDays: 31, longTerm: false },
  });
  await db.cashBalance.create({ data: { ...base, balance: '992' } });
  await db.portfolioDailyValue.create({ data: { portfolioId: p.id, asofDate: new Date('2024-02-02'), nav: '1004', cash: '992', positionsValue: '12', netFlow: '0' } });
  const order = await db.order.create({ data: { portfolioId: p.id, securityId, side: 'BUY', type: 'MARKET', quantity: '1' } });
  const filled = await db.transaction.create({ data: { ...base, securityId, type: 'BUY', tradeDate: new Date('2024-02-03'), quantity: '1', price: '11', amount: '-11' } });
  await db.fill.create({ data: { orderId: order.id, transactionId: filled.id, externalId: randomUUID(), quantity: '1', price: '11', executedAt: new Date('2024-02-03T15:00:00Z') } });
  const rule = await db.alertRule.create({ data: { portfolioId: p.id, type: 'NAV_ABOVE', threshold: '1' } });
  const event = await db.alertEvent.create({ data: { ruleId: rule.id, portfolioId: p.id, type: 'NAV_ABOVE', value: '1004', message: 'above', dedupeKey: randomUUID() } });
  const delivery = await db.alertDelivery.create({ data: { eventId: event.id, url: 'https://hooks.example.com/x', status: 'DEAD', attempts: 1 } });
  await db.alertRetry.create({ data: { deliveryId: delivery.id, attempt: 1, error: 'HTTP 503', httpStatus: 503 } });
  await db.alertDeadLetter.create({ data: { deliveryId: delivery.id, eventId: event.id, url: delivery.url, payload: { eventId: event.id }, attempts: 1, lastError: 'HTTP 503' } });
  await db.modelingSession.create({ data: { portfolioId: p.id, userId: user.id, name: 'what if', trades: [] } });
  await db.calculationRun.create({ data: { kind: 'nav_series', portfolioId: p.id, status: 'succeeded' } });
  await db.auditLog.create({ data: { actorUserId: user.id, action: 'portfolio.create', entityType: 'Portfolio', entityId: p.id, portfolioId: p.id } });
  return { userId: user.id, portfolioId: p.id, orderId: order.id, eventId: event.id, deliveryId: delivery.id, transactionId: buy.id };
}

const rlsMessage = /row-level security|violates row-level security policy/;

const describePostgres = testEngines().includes('postgres') ? describe : describe.skip;

describePostgres('row-level security [postgres]', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;
  let a: Owner; // USER
  let b: Owner; // USER, shares with v
  let m: Owner; // MANAGER
  let v: Owner; // VIEWER (owns one too, read-only for them)
  let admin: string;
  let securityId: string;
  let all: Owner[];

  /** The portfolios whose rows `principal` sees in each table. */
  async function visible(run: <T>(fn: () => Promise<T>) => Promise<T>): Promise<Record<string, Set<string>>> {
    const out: Record<string, Set<string>> = {};
    for (const [table, rows] of Object.entries(TABLES)) out[table] = new Set((await run(() => rows(prisma))).map((id) => portfolioOf(all, table, id)));
    return out;
  }

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    prisma = db.prisma;
    securityId = (await prisma.security.create({ data: { symbol: 'RLS', name: 'RLS Inc.', currency: 'USD' } })).id;
    a = await seedOwner(prisma, 'USER', securityId);
    b = await seedOwner(prisma, 'USER', securityId);
    m = await seedOwner(prisma, 'MANAGER', securityId);
    v = await seedOwner(prisma, 'VIEWER', securityId);
    admin = (await prisma.user.create({ data: { email: `${randomUUID()}@rls.test`, role: 'ADMIN' } })).id;
    await prisma.portfolioShare.create({ data: { portfolioId: b.portfolioId, userId: v.userId } });
    all = [a, b, m, v];
  }, 60_000);
  afterAll(() => db?.drop());

  test("the server's connection is neither superuser nor BYPASSRLS, and does not own the tables", async () => {
    const [role] = await prisma.$queryRaw<{ name: string; rolsuper: boolean; rolbypassrls: boolean }[]>`
      SELECT rolname AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`;
    expect(role).toEqual({ name: 'foliograph_app', rolsuper: false, rolbypassrls: false });
    await expect(assertHeldToPolicies(db)).resolves.toBeUndefined();
    // History is appended, never rewritten: not even granted.
    const [grants] = await prisma.$queryRaw<{ insert: boolean; update: boolean; delete: boolean }[]>`
      SELECT has_table_privilege('audit_log', 'INSERT') AS insert, has_table_privilege('audit_log', 'UPDATE') AS update, has_table_privilege('audit_log', 'DELETE') AS delete`;
    expect(grants).toEqual({ insert: true, update: false, delete: false });
    const privileged: Database = await openDatabase({ url: process.env.FOLIOGRAPH_TEST_PG! });
    try {
      await expect(assertHeldToPolicies(privileged)).rejects.toThrow(/superuser.*foliograph_app/);
    } finally {
      await privileged.close();
    }
  });

  test("as user A, a query with no check in front of it returns none of B's rows, in every portfolio-owned table", async () => {
    const seen = await visible((fn) => asUser(a.userId, fn));
    for (const [table, portfolios] of Object.entries(seen)) expect([table, [...portfolios]]).toEqual([table, table === 'portfolio_shares' ? [] : [a.portfolioId]]);
    expect(await asUser(b.userId, () => prisma.portfolioShare.count())).toBe(1);
    expect(await asUser(a.userId, () => prisma.portfolio.findUnique({ where: { id: b.portfolioId } }))).toBeNull();
    expect(await asUser(a.userId, () => prisma.transaction.count({ where: { portfolioId: b.portfolioId } }))).toBe(0);
  });

  test("as user A, writing into B's portfolio is refused by the policy, and B's rows cannot be changed or removed", async () => {
    const base = { portfolioId: b.portfolioId, currency: 'USD' };
    const refusals: (() => PromiseLike<unknown>)[] = [
      () => prisma.transaction.create({ data: { ...base, type: 'DEPOSIT', tradeDate: new Date('2024-03-01'), amount: '1000000' } }),
      () => prisma.cashBalance.create({ data: { ...base, currency: 'EUR', balance: '1' } }),
      () => prisma.order.create({ data: { portfolioId: b.portfolioId, securityId, side: 'SELL', type: 'MARKET', quantity: '1' } }),
      () => prisma.alertRule.create({ data: { portfolioId: b.portfolioId, type: 'NAV_BELOW', threshold: '1' } }),
      () => prisma.portfolioShare.create({ data: { portfolioId: b.portfolioId, userId: a.userId } }),
      () => prisma.modelingSession.create({ data: { portfolioId: b.portfolioId, name: 'mine now', trades: [] } }),
      () => prisma.portfolio.create({ data: { ownerId: b.userId, name: 'in the name of B', baseCurrency: 'USD' } }),
      () => prisma.fill.create({ data: { orderId: b.orderId, transactionId: a.transactionId, externalId: randomUUID(), quantity: '1', price: '1', executedAt: new Date() } }),
      () => prisma.auditLog.create({ data: { actorUserId: b.userId, action: 'forged', entityType: 'Portfolio', entityId: b.portfolioId } }),
      // Moving one's own row into another's portfolio: the WITH CHECK side.
      () => prisma.alertRule.updateMany({ where: { portfolioId: a.portfolioId }, data: { portfolioId: b.portfolioId } }),
    ];
    for (const attempt of refusals) await expect(asUser(a.userId, attempt)).rejects.toThrow(rlsMessage);
    const changed = await asUser(a.userId, async () => [
      await prisma.cashBalance.updateMany({ where: { portfolioId: b.portfolioId }, data: { balance: '0' } }),
      await prisma.portfolio.updateMany({ where: { id: b.portfolioId }, data: { name: 'taken' } }),
      await prisma.alertRule.deleteMany({ where: { portfolioId: b.portfolioId } }),
      await prisma.$executeRaw`UPDATE lots SET qty_open = 0 WHERE portfolio_id = ${b.portfolioId}::uuid`,
    ]);
    expect(changed.map((c) => (typeof c === 'number' ? c : c.count))).toEqual([0, 0, 0, 0]);
    const intact = await prisma.cashBalance.findFirst({ where: { portfolioId: b.portfolioId } });
    expect(intact?.balance.toFixed()).toBe('992');
  });

  test('no principal, no rows: nothing is read and nothing written', async () => {
    const seen = await visible((fn) => withoutPrincipal(fn));
    for (const [table, portfolios] of Object.entries(seen)) expect([table, portfolios.size]).toEqual([table, 0]);
    await expect(withoutPrincipal(() => prisma.transaction.create({ data: { portfolioId: a.portfolioId, currency: 'USD', type: 'DEPOSIT', tradeDate: new Date('2024-03-01'), amount: '1' } }))).rejects.toThrow(rlsMessage);
    expect(await withoutPrincipal(() => prisma.securityEvent.count())).toBe(0);
  });

  test('the system context sees every owner', async () => {
    const seen = await visible((fn) => asSystem(fn));
    for (const [table, portfolios] of Object.entries(seen)) {
      const expected = table === 'portfolio_shares' ? [b.portfolioId] : all.map((o) => o.portfolioId);
      expect([table, [...portfolios].sort()]).toEqual([table, [...expected].sort()]);
    }
  });

  test('a MANAGER reads every portfolio and writes only their own', async () => {
    const seen = await visible((fn) => asUser(m.userId, fn));
    expect([...seen.transactions!].sort()).toEqual(all.map((o) => o.portfolioId).sort());
    expect([...seen.audit_log!].sort()).toEqual(all.map((o) => o.portfolioId).sort());
    await expect(asUser(m.userId, () => prisma.transaction.create({ data: { portfolioId: b.portfolioId, currency: 'USD', type: 'DEPOSIT', tradeDate: new Date('2024-03-01'), amount: '1' } }))).rejects.toThrow(rlsMessage);
    const own = await asUser(m.userId, () => prisma.transaction.create({ data: { portfolioId: m.portfolioId, currency: 'USD', type: 'DEPOSIT', tradeDate: new Date('2024-03-01'), amount: '1' } }));
    expect(own.portfolioId).toBe(m.portfolioId);
  });

  test('a VIEWER reads what is shared with them (and their own), writes nothing, and may acknowledge its alerts', async () => {
    const seen = await visible((fn) => asUser(v.userId, fn));
    for (const [table, portfolios] of Object.entries(seen)) {
      const expected = table === 'portfolio_shares' ? [b.portfolioId] : [b.portfolioId, v.portfolioId];
      expect([table, [...portfolios].sort()]).toEqual([table, [...expected].sort()]);
    }
    for (const pid of [b.portfolioId, v.portfolioId]) {
      await expect(asUser(v.userId, () => prisma.transaction.create({ data: { portfolioId: pid, currency: 'USD', type: 'DEPOSIT', tradeDate: new Date('2024-03-01'), amount: '1' } }))).rejects.toThrow(rlsMessage);
    }
    const acked = await asUser(v.userId, () => prisma.alertEvent.updateMany({ where: { id: b.eventId }, data: { acknowledgedAt: new Date(), acknowledgedBy: v.userId } }));
    expect(acked.count).toBe(1);
    // Unshared, it is gone for them at once.
    await prisma.portfolioShare.delete({ where: { portfolioId_userId: { portfolioId: b.portfolioId, userId: v.userId } } });
    try {
      expect(await asUser(v.userId, () => prisma.transaction.count({ where: { portfolioId: b.portfolioId } }))).toBe(0);
    } finally {
      await prisma.portfolioShare.create({ data: { portfolioId: b.portfolioId, userId: v.userId } });
    }
  });

  test('an ADMIN reads and writes every portfolio', async () => {
    const seen = await visible((fn) => asUser(admin, fn));
    expect([...seen.lots!].sort()).toEqual(all.map((o) => o.portfolioId).sort());
    const row = await asUser(admin, () => prisma.alertRule.create({ data: { portfolioId: b.portfolioId, type: 'NAV_BELOW', threshold: '2' } }));
    expect(row.portfolioId).toBe(b.portfolioId);
    expect(await asUser(admin, () => prisma.securityEvent.count())).toBe(await asSystem(() => prisma.securityEvent.count()));
  });

  test('the lists a transaction keeps follow changes made inside it: a new portfolio is written at once, an unshare hides at once', async () => {
    // A USER who creates a portfolio and books into it in one transaction: the writable list
    // kept from the transaction's first statement must not stand in the way.
    const made = await asUser(a.userId, () =>
      prisma.$transaction(async (tx) => {
        await tx.$executeRaw`UPDATE lots SET qty_open = qty_open WHERE portfolio_id = ${a.portfolioId}::uuid`;
        const p = await tx.portfolio.create({ data: { ownerId: a.userId, name: `new ${randomUUID()}`, baseCurrency: 'USD' } });
        await tx.cashBalance.create({ data: { portfolioId: p.id, currency: 'USD', balance: '5' } });
        return p.id;
      }),
    );
    expect(await asSystem(() => prisma.cashBalance.count({ where: { portfolioId: made } }))).toBe(1);
    await asSystem(async () => {
      await prisma.cashBalance.deleteMany({ where: { portfolioId: made } });
      await prisma.portfolio.delete({ where: { id: made } });
    });
    // A VIEWER's readable list, kept by a first read, is dropped by an unshare in the same transaction.
    const seenAfter = await asUser(v.userId, () =>
      prisma.$transaction(async (tx) => {
        const before = await tx.transaction.count({ where: { portfolioId: b.portfolioId } });
        await asSystem(() => tx.portfolioShare.delete({ where: { portfolioId_userId: { portfolioId: b.portfolioId, userId: v.userId } } }));
        const after = await tx.transaction.count({ where: { portfolioId: b.portfolioId } });
        throw Object.assign(new Error('undo'), { counts: [before, after] });
      }).catch((err: { counts?: number[] }) => err.counts),
    );
    expect(seenAfter).toEqual([await asSystem(() => prisma.transaction.count({ where: { portfolioId: b.portfolioId } })), 0]);
    expect(await asSystem(() => prisma.portfolioShare.count({ where: { portfolioId: b.portfolioId, userId: v.userId } }))).toBe(1);
  });

  test('queries of different principals in the same tick stay apart (Prisma batches findUnique calls)', async () => {
    const find = (user: string, id: string) => asUser(user, () => prisma.portfolio.findUnique({ where: { id } }));
    const [aOwn, bOnA, bOwn, aOnB] = await Promise.all([find(a.userId, a.portfolioId), find(b.userId, a.portfolioId), find(b.userId, b.portfolioId), find(a.userId, b.portfolioId)]);
    expect([aOwn?.id, bOnA, bOwn?.id, aOnB]).toEqual([a.portfolioId, null, b.portfolioId, null]);
  });

  test('the connection layer sets the principal only when it changed, and again after a rollback undid it', async () => {
    const pool = new PrincipalPool({ connectionString: db.url!, max: 1 });
    const client = (await pool.connect()) as unknown as PrincipalClient & PoolClient;
    const setting = async (principal: string) => (await client.queryAs(principal, "SELECT current_setting('app.principal', true) AS p")).rows[0].p as string | null;
    try {
      expect(await setting(a.userId)).toBe(a.userId);
      await client.queryAs(a.userId, 'BEGIN');
      expect(await setting('system')).toBe('system');
      // The rollback undoes the set_config made inside the transaction: the connection holds A again.
      await client.queryAs('system', 'ROLLBACK');
      expect(await setting('system')).toBe('system');
      expect(await setting(b.userId)).toBe(b.userId);
    } finally {
      client.release();
      await pool.end();
    }
  });
});
