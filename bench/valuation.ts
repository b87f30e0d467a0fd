/*
 * Focused benchmark of `valuation` (issue 4) on PostgreSQL: a EUR portfolio of 1,000
 * positions in four currencies, asked over HTTP (the query of bench/market-data.ts) and
 * through the service, with the time split by phase.
 *
 *   cold  = every request follows an event that invalidates the cached valuation
 *           (a prices.ingested naming one held security), so the service reads and computes;
 *   warm  = nothing changed since the previous request (the cached valuation is served).
 *
 * Usage: npx tsx bench/valuation.ts [runs=50]   (PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres)
 */
import os from 'node:os';
import { Client } from 'pg';
import { openDatabase } from '../src/db/client';
import { applyMigrations } from '../src/db/migrate';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createApp } from '../src/server/app';
import { D } from '../src/domain/decimal';
import { businessDays } from '../src/domain/nav-series';

const ADMIN_URL = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const NAME = `fg_bench_val_${process.pid}`;
const dbUrl = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${NAME}`;
  return u.toString();
})();
const RUNS = Number(process.argv[2] ?? 50);
const CCY = ['USD', 'EUR', 'GBP', 'JPY'];
const SYSTEM = { actor: { userId: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' as const, apiKeyId: null }, meta: { requestId: 'bench' } };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sym = (i: number) => `B${String(i).padStart(4, '0')}`;

async function main() {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${NAME}`);
  const db = await openDatabase({ url: dbUrl, poolSize: 10 });
  try {
    await applyMigrations(db);
    const pgVersion = (await db.prisma.$queryRawUnsafe<{ v: string }[]>("SELECT current_setting('server_version') AS v"))[0]!.v;
    console.log(`machine: ${os.cpus().length} vCPU ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${pgVersion}; load ${os.loadavg()[0]!.toFixed(2)}`);
    await db.prisma.security.createMany({ data: Array.from({ length: 1000 }, (_, i) => ({ symbol: sym(i), name: `Bench ${i}`, currency: CCY[i % 4]!, sector: `S${i % 11}`, country: ['US', 'DE', 'GB', 'JP'][i % 4]! })) });
    const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: dbUrl });
    const app = await createApp({ config, db, log: createLogger('silent') });
    const port = await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${port}/graphql`;
    const user = await app.services.identity.createUser(SYSTEM, { email: 'bench@bench.local', role: 'MANAGER' });
    const key = (await app.services.identity.createApiKey(SYSTEM, { name: 'bench', userId: user.id })).key;
    const ctx = { actor: { userId: user.id, role: 'MANAGER' as const, apiKeyId: null }, meta: { requestId: 'bench' } };
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as { data?: any; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
      return body.data;
    };
    const today = new Date().toISOString().slice(0, 10);
    const recent = businessDays(new Date(Date.now() - 200 * 86_400_000).toISOString().slice(0, 10), today).slice(-60);
    const bars = [];
    for (let s = 0; s < 1000; s++) for (const d of recent) bars.push({ symbol: sym(s), date: d, close: new D((10 + (s % 7) / 10).toFixed(2)) });
    await app.services.marketData.ingestPrices(ctx, bars);
    await app.services.marketData.ingestFxRates(
      ctx,
      recent.flatMap((d) => [
        { base: 'EUR', quote: 'USD', date: d, rate: new D('1.0812') },
        { base: 'GBP', quote: 'USD', date: d, rate: new D('1.2634') },
        { base: 'USD', quote: 'JPY', date: d, rate: new D('147.25') },
      ]),
    );
    const big = await app.services.portfolios.create(ctx, { name: 'Thousand', baseCurrency: 'EUR' });
    await app.services.ledger.record(ctx, { portfolioId: big.id, type: 'DEPOSIT', date: recent[0]!, amount: new D(50_000_000), currency: 'EUR' });
    for (let s = 0; s < 1000; s++) await app.services.ledger.record(ctx, { portfolioId: big.id, type: 'BUY', date: recent[0]!, symbol: sym(s), quantity: new D(100 + s), price: new D('10.5') });
    const portfolio = await db.prisma.portfolio.findUniqueOrThrow({ where: { id: big.id } });
    const secId = (await db.prisma.security.findFirstOrThrow({ where: { symbol: sym(0) } })).id;
    // What a real prices.ingested would publish after its commit: the cached valuation goes.
    const invalidate = async () => {
      app.bus.publish({ type: 'prices.ingested', prices: [{ securityId: secId, symbol: sym(0), price: '10', ts: new Date().toISOString() }] });
      await new Promise((r) => setImmediate(r));
    };

    const VAL = `query($id: ID!) { portfolio(id: $id) { valuation { nav positionsValue cashValue complete holdings { symbol quantity price marketValue marketValueBase costBasis unrealizedPnl weight pricingStatus } cash { currency balanceBase } } } }`;
    const PORTFOLIO_ONLY = `query($id: ID!) { portfolio(id: $id) { id name } }`;
    const time = async (n: number, fn: () => Promise<unknown>, before?: () => Promise<void>) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        if (before) await before();
        const t = performance.now();
        await fn();
        xs.push(performance.now() - t);
      }
      return median(xs);
    };
    for (let i = 0; i < 10; i++) await gql(VAL, { id: big.id });
    const first = await gql(VAL, { id: big.id });
    if (first.portfolio.valuation.holdings.length !== 1000) throw new Error('expected 1,000 holdings');

    const rows: [string, number][] = [];
    if (process.env.CPU_PROFILE) {
      // A CPU profile of the warm and cold HTTP requests only (open it in Chrome DevTools).
      const { Session } = await import('node:inspector/promises');
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      await time(RUNS, () => gql(VAL, { id: big.id }));
      await time(RUNS, () => gql(VAL, { id: big.id }), invalidate);
      const { profile } = await session.post('Profiler.stop');
      (await import('node:fs')).writeFileSync(process.env.CPU_PROFILE, JSON.stringify(profile));
      console.log(`profile written to ${process.env.CPU_PROFILE}`);
    }
    rows.push(['HTTP valuation, warm (nothing changed since the last request)', await time(RUNS, () => gql(VAL, { id: big.id }))]);
    rows.push(['HTTP valuation, cold (an invalidating event before each request)', await time(RUNS, () => gql(VAL, { id: big.id }), invalidate)]);
    rows.push(['HTTP portfolio { id name } (auth, GraphQL, HTTP floor)', await time(RUNS, () => gql(PORTFOLIO_ONLY, { id: big.id }))]);
    const svc = app.services.valuation as any;
    rows.push(['service valueMany, cold', await time(RUNS, () => svc.valueMany([portfolio]), invalidate)]);
    rows.push(['service valueMany, warm', await time(RUNS, () => svc.valueMany([portfolio]))]);
    rows.push(['  positions and cash: the query and decoding', await time(RUNS, () => svc.current([big.id]))]);
    const sumSql = `
      SELECT sum(l.qty_open * q.price * CASE s.currency WHEN 'EUR' THEN 1
               WHEN 'USD' THEN 1 / (SELECT rate FROM fx_rates WHERE base = 'EUR' AND quote = 'USD' ORDER BY date DESC LIMIT 1)
               WHEN 'GBP' THEN (SELECT rate FROM fx_rates WHERE base = 'GBP' AND quote = 'USD' ORDER BY date DESC LIMIT 1) / (SELECT rate FROM fx_rates WHERE base = 'EUR' AND quote = 'USD' ORDER BY date DESC LIMIT 1)
               ELSE 1 / ((SELECT rate FROM fx_rates WHERE base = 'USD' AND quote = 'JPY' ORDER BY date DESC LIMIT 1) * (SELECT rate FROM fx_rates WHERE base = 'EUR' AND quote = 'USD' ORDER BY date DESC LIMIT 1)) END)
      FROM lots l JOIN securities s ON s.id = l.security_id JOIN quotes q ON q.security_id = l.security_id WHERE l.portfolio_id = $1::uuid AND l.qty_open <> 0`;
    rows.push(['baseline: one SQL query summing qty × quote × FX', await time(RUNS, () => db.prisma.$queryRawUnsafe(sumSql, big.id))]);
    console.log('\n| case | median ms |\n|---|---:|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v.toFixed(1)} |`);
    await app.stop();
  } finally {
    await db.close();
    if (process.env.KEEP_DB) console.log(`kept database ${NAME}`);
    else await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
