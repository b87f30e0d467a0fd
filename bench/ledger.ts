// Ledger throughput: fills booked end to end through TradingService.recordFill, and one
// SELL relieving 1,000 open lots, on PostgreSQL (when reachable) and embedded PGlite.
// Usage: npx tsx bench/ledger.ts [fills=2000] [concurrency=16]
//   PostgreSQL: PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres), as the other benches;
//   a throwaway database is created on it and dropped afterwards. Twice: as the server runs,
//   connected as the application role (row-level security applies), and, for the overhead of
//   row-level security, the same code connected as the superuser (PostgreSQL skips every policy).
//   Every step runs as the bench's user (src/db/principal.ts), as a request of theirs would.
// Baselines measured in the same run, same engine, same concurrency:
//   - raw SQL: one database transaction per fill inserting the same rows a booked fill
//     writes (transaction, lot, fill, audit entry, cash upsert, order update), no reads,
//     no checks: the floor the engine and driver impose.
//   - raw SQL: one UPDATE of the same 1,000 lots and one INSERT of 1,000 gain rows.
// The SELL is timed cold (the process's first SELLs) and warmed (after more SELLs on other lots): benchSell.
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, type Database } from '../src/db/client';
import { applyMigrations } from '../src/db/migrate';
import { LocalEventBus } from '../src/events/bus';
import { createServices } from '../src/services';
import { D } from '../src/domain/decimal';
import { ADMIN_URL, benchDatabase, machineLine, median } from './support';
import { asUser } from '../src/db/principal';

const FILLS = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const PORTFOLIOS = 16;
const LOTS = 1000;
const SELL_RUNS = 5;
/** Unmeasured SELLs between the cold and the warmed ones (benchSell). */
const WARM_SELLS = 10;


async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function setup(db: Database) {
  const prisma = db.prisma;
  const user = await prisma.user.create({ data: { email: `bench-${randomUUID()}@bench.local`, role: 'USER' } });
  const security = await prisma.security.create({ data: { symbol: `B${randomBytes(4).toString('hex').toUpperCase()}`, name: 'Bench', currency: 'USD' } });
  const ctx = { actor: { userId: user.id, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'bench' } };
  return { user, security, ctx };
}

async function benchFills(db: Database, concurrency: number) {
  const services = createServices(db.prisma, new LocalEventBus());
  const { security, ctx } = await setup(db);
  const orders: string[] = [];
  for (let i = 0; i < PORTFOLIOS; i++) {
    const p = await asUser(ctx.actor.userId, () => services.portfolios.create(ctx, { name: `fills ${i} ${randomUUID()}`, baseCurrency: 'USD' }));
    const o = await asUser(ctx.actor.userId, () => services.trading.placeOrder(ctx, { portfolioId: p.id, symbol: security.symbol, side: 'BUY', type: 'MARKET', quantity: new D(1_000_000) }));
    orders.push(o.id);
  }
  const started = performance.now();
  await pool(FILLS, concurrency, (i) =>
    asUser(ctx.actor.userId, () => services.trading.recordFill(ctx, {
      orderId: orders[i % orders.length]!,
      externalId: `bench-${randomUUID()}`,
      quantity: new D(10),
      price: new D('101.25'),
      fee: new D('0.5'),
      executedAt: new Date(),
    })),
  );
  const ms = performance.now() - started;
  const booked = await asUser(ctx.actor.userId, () => db.prisma.fill.count({ where: { orderId: { in: orders } } }));
  if (booked !== FILLS) throw new Error(`expected ${FILLS} fills, found ${booked}`);
  return { perSecond: (FILLS / ms) * 1000, ms };
}

/** The same rows a booked fill writes, as raw INSERTs in one transaction each: the engine's floor. */
async function benchRawFills(db: Database, concurrency: number) {
  const prisma = db.prisma;
  const { user, security } = await setup(db);
  const portfolios: { id: string; order: string }[] = [];
  for (let i = 0; i < PORTFOLIOS; i++) {
    const p = await asUser(user.id, () => prisma.portfolio.create({ data: { ownerId: user.id, name: `raw ${i} ${randomUUID()}`, baseCurrency: 'USD' } }));
    const o = await asUser(user.id, () => prisma.order.create({ data: { portfolioId: p.id, securityId: security.id, side: 'BUY', type: 'MARKET', quantity: '1000000' } }));
    portfolios.push({ id: p.id, order: o.id });
  }
  const started = performance.now();
  await pool(FILLS, concurrency, (i) => {
    const { id, order } = portfolios[i % portfolios.length]!;
    const txn = randomUUID();
    return asUser(user.id, () => prisma.$transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO transactions (id, portfolio_id, security_id, type, trade_date, quantity, price, amount, fee, currency) VALUES (${txn}::uuid, ${id}::uuid, ${security.id}::uuid, 'BUY', '2024-03-01', 10, 101.25, -1013, 0.5, 'USD')`;
      await tx.$executeRaw`INSERT INTO lots (id, portfolio_id, security_id, open_transaction_id, qty_original, qty_open, cost_basis, acquired_on) VALUES (${randomUUID()}::uuid, ${id}::uuid, ${security.id}::uuid, ${txn}::uuid, 10, 10, 1013, '2024-03-01')`;
      await tx.$executeRaw`INSERT INTO fills (id, order_id, transaction_id, external_id, quantity, price, fee, executed_at) VALUES (${randomUUID()}::uuid, ${order}::uuid, ${txn}::uuid, ${randomUUID()}, 10, 101.25, 0.5, now())`;
      await tx.$executeRaw`INSERT INTO cash_balances (portfolio_id, currency, balance, updated_at) VALUES (${id}::uuid, 'USD', -1013, now()) ON CONFLICT (portfolio_id, currency) DO UPDATE SET balance = cash_balances.balance + EXCLUDED.balance`;
      await tx.$executeRaw`UPDATE orders SET filled_qty = filled_qty + 10, status = 'PARTIALLY_FILLED' WHERE id = ${order}::uuid`;
      await tx.$executeRaw`INSERT INTO audit_log (actor_user_id, action, entity_type, entity_id, portfolio_id, after) VALUES (${user.id}::uuid, 'fill.record', 'Fill', ${txn}, ${id}::uuid, '{}'::jsonb)`;
    }));
  });
  const ms = performance.now() - started;
  return { perSecond: (FILLS / ms) * 1000, ms };
}

/** A portfolio with 1,000 open lots of one security (rows inserted directly: the setup is not what is measured). */
async function thousandLots(db: Database, ownerId: string, securityId: string): Promise<string> {
  const prisma = db.prisma;
  const p = await prisma.portfolio.create({ data: { ownerId, name: `lots ${randomUUID()}`, baseCurrency: 'USD', costBasisMethod: 'HIFO' } });
  const txn = await prisma.transaction.create({ data: { portfolioId: p.id, securityId, type: 'BUY', tradeDate: new Date('2023-01-02'), quantity: String(LOTS * 10), price: '10', amount: '0', currency: 'USD' } });
  await prisma.lot.createMany({
    data: Array.from({ length: LOTS }, (_, i) => ({
      portfolioId: p.id,
      securityId,
      openTransactionId: txn.id,
      qtyOriginal: '10',
      qtyOpen: '10',
      costBasis: String(100 + (i % 97)),
      acquiredOn: new Date(Date.UTC(2023, 0, 2) + (i % 300) * 86_400_000),
    })),
  });
  return p.id;
}

/** SELLs of everything in fresh portfolios of 1,000 lots, each timed, alternating with the raw baseline on another such portfolio. */
async function sells(db: Database, services: ReturnType<typeof createServices>, { user, security, ctx }: Awaited<ReturnType<typeof setup>>, runs: number) {
  const times: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run < runs; run++) {
    const pid = await asUser(user.id, () => thousandLots(db, user.id, security.id));
    const started = performance.now();
    await asUser(user.id, () => services.ledger.record(ctx, { portfolioId: pid, type: 'SELL', date: '2024-06-03', symbol: security.symbol, quantity: new D(LOTS * 10), price: new D('12.5'), fee: new D(1) }));
    times.push(performance.now() - started);
    const gains = await asUser(user.id, () => db.prisma.realizedGain.count({ where: { portfolioId: pid } }));
    if (gains !== LOTS) throw new Error(`expected ${LOTS} realized gains, found ${gains}`);

    // Baseline: the same writes as two raw statements in one transaction.
    const pid2 = await asUser(user.id, () => thousandLots(db, user.id, security.id));
    const ids = await asUser(user.id, () => db.prisma.lot.findMany({ where: { portfolioId: pid2 }, select: { id: true, openTransactionId: true } }));
    const t0 = performance.now();
    await asUser(user.id, () => db.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE lots SET qty_open = 0, cost_basis = 0, closed_on = '2024-06-03' WHERE portfolio_id = ${pid2}::uuid`;
      await tx.$executeRaw`
        INSERT INTO realized_gains (id, portfolio_id, lot_id, transaction_id, security_id, quantity, proceeds, cost, gain, currency, acquired_on, sold_on, holding_days, long_term)
        SELECT gen_random_uuid(), ${pid2}::uuid, lot, ${ids[0]!.openTransactionId}::uuid, ${security.id}::uuid, 10, 125, 100, 25, 'USD', '2023-01-02', '2024-06-03', 518, true
        FROM unnest(${ids.map((r) => r.id)}::uuid[]) AS lot`;
    }));
    raw.push(performance.now() - t0);
  }
  return { times, raw };
}

/**
 * The SELL twice: first as the process meets it (the lot engine and the statement's building
 * still interpreted: a server's first SELLs), then warmed, after WARM_SELLS more SELLs in
 * portfolios of their own, never measured, as a server that has been running has its SELL path
 * optimised by V8. Every measured SELL relieves fresh lots.
 */
async function benchSell(db: Database) {
  const services = createServices(db.prisma, new LocalEventBus());
  const bench = await setup(db);
  const cold = await sells(db, services, bench, SELL_RUNS);
  await sells(db, services, bench, WARM_SELLS);
  const warm = await sells(db, services, bench, SELL_RUNS);
  return { cold: { median: median(cold.times), runs: cold.times }, warm: { median: median(warm.times), runs: warm.times }, rawMedian: median([...cold.raw, ...warm.raw]) };
}

async function withEngine(name: string, open: () => Promise<{ db: Database; drop: () => Promise<void> }>) {
  const { db, drop } = await open();
  try {
    const conc = db.engine === 'pglite' ? 1 : CONCURRENCY;
    const fills = await benchFills(db, conc);
    const rawFills = await benchRawFills(db, conc);
    const fillsSeq = db.engine === 'pglite' ? fills : await benchFills(db, 1);
    const sell = await benchSell(db);
    return { name, conc, fills, fillsSeq, rawFills, sell };
  } finally {
    await drop();
  }
}

async function main() {
  const results = [];
  const probe = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  let pg = true;
  try {
    await probe.connect();
  } catch {
    pg = false;
    console.error(`PostgreSQL not reachable at ${ADMIN_URL}: PGlite only`);
  }
  if (pg) {
    // A fresh migrated database, opened as the application role or as the superuser.
    const fresh = (role: 'app' | 'superuser') => async () => {
      const bench = await benchDatabase(`ledger_${role}`, CONCURRENCY + 4);
      if (role === 'app') return { db: bench.db, drop: bench.drop };
      const db = await bench.superuser();
      return { db, drop: async () => { await db.close(); await bench.drop(); } };
    };
    results.push(await withEngine('PostgreSQL (application role, row-level security)', fresh('app')));
    results.push(await withEngine('PostgreSQL (superuser: no row-level security)', fresh('superuser')));
  }
  await probe.end().catch(() => undefined);
  results.push(await withEngine('PGlite (in-memory)', async () => { const db = await openDatabase({ dataDir: 'memory://' }); await applyMigrations(db); return { db, drop: () => db.close() }; }));

  console.log(`\n${machineLine()}`);
  console.log(`${FILLS} fills of 10 @ 101.25 (fee 0.5) over ${PORTFOLIOS} portfolios/orders; SELL of ${LOTS * 10} relieving ${LOTS} HIFO lots, median of ${SELL_RUNS}:`);
  console.log(`cold = the process's first SELLs on the engine (PostgreSQL superuser and PGlite run after the application role's), warmed = after ${WARM_SELLS} more SELLs on other lots\n`);
  console.log('| engine | fills/s (service, concurrency) | fills/s (service, sequential) | fills/s raw INSERT baseline | SELL relieving 1,000 lots, cold (median ms) | runs (ms) | SELL, warmed (median ms) | runs (ms) | raw UPDATE+INSERT baseline (ms) |');
  console.log('|---|---:|---:|---:|---:|---|---:|---|---:|');
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.fills.perSecond.toFixed(0)} (×${r.conc}) | ${r.fillsSeq.perSecond.toFixed(0)} | ${r.rawFills.perSecond.toFixed(0)} (×${r.conc}) | ` +
        `${r.sell.cold.median.toFixed(1)} | ${ms(r.sell.cold.runs)} | ${r.sell.warm.median.toFixed(1)} | ${ms(r.sell.warm.runs)} | ${r.sell.rawMedian.toFixed(1)} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
