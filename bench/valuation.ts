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
import { D } from '../src/domain/decimal';
import { businessDays } from '../src/domain/nav-series';
import { actAsUser } from '../src/db/principal';
import { createServices } from '../src/services';
import { LocalEventBus } from '../src/events/bus';
import { benchDatabase, benchServer, benchSymbol as sym, createBenchSecurities, machineLine, median, seedThousandPositions, VALUATION_QUERY as VAL, VALUATION_SUM_SQL } from './support';

const RUNS = Number(process.argv[2] ?? 50);

async function main() {
  const bench = await benchDatabase('val');
  const { db } = bench;
  try {
    console.log(machineLine(bench.pgVersion));
    await createBenchSecurities(db);
    const server = await benchServer(bench);
    const { app, ctx, gql } = server;
    // From here on the bench acts as its MANAGER, as the server would for their requests.
    actAsUser(ctx.actor!.userId);
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
    const big = await seedThousandPositions(server, recent[0]!);
    const portfolio = await db.prisma.portfolio.findUniqueOrThrow({ where: { id: big.id } });
    const secId = (await db.prisma.security.findFirstOrThrow({ where: { symbol: sym(0) } })).id;
    // What a real prices.ingested would publish after its commit: the cached valuation goes.
    const invalidate = async () => {
      app.bus.publish({ type: 'prices.ingested', prices: [{ securityId: secId, symbol: sym(0), price: '10', ts: new Date().toISOString() }] });
      await new Promise((r) => setImmediate(r));
    };

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
    rows.push(['baseline: one SQL query summing qty × quote × FX', await time(RUNS, () => db.prisma.$queryRawUnsafe(VALUATION_SUM_SQL, big.id))]);
    // The same service calls on a superuser connection, which PostgreSQL holds to no policy: what row-level security costs.
    const superuser = await bench.superuser();
    const plainBus = new LocalEventBus();
    const plain = createServices(superuser.prisma, plainBus).valuation as any;
    const invalidatePlain = async () => {
      plainBus.publish({ type: 'prices.ingested', prices: [{ securityId: secId, symbol: sym(0), price: '10', ts: new Date().toISOString() }] });
      await new Promise((r) => setImmediate(r));
    };
    await plain.valueMany([portfolio]);
    rows.push(['service valueMany, cold, as the superuser (no row-level security)', await time(RUNS, () => plain.valueMany([portfolio]), invalidatePlain)]);
    rows.push(['  positions and cash, as the superuser (no row-level security)', await time(RUNS, () => plain.current([big.id]))]);
    rows.push(['baseline SQL, as the superuser (no row-level security)', await time(RUNS, () => superuser.prisma.$queryRawUnsafe(VALUATION_SUM_SQL, big.id))]);
    await superuser.close();
    console.log('\n| case | median ms |\n|---|---:|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v.toFixed(1)} |`);
    await server.close();
  } finally {
    await bench.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
