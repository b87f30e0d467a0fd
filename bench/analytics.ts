/*
 * Analytics benchmarks on PostgreSQL (issue 5), each beside the time of merely loading the
 * same data in the same run (same queries, decimals parsed, no computation):
 *   1. performance + risk together, 10 years of daily NAV (≈2,600 points), a 200-position
 *      portfolio with quarterly deposits;
 *   2. one-year SECTOR attribution against a 500-constituent, daily-rebalanced benchmark, with
 *      the benchmark's stored daily sums current (warm) and built in the run (cold), beside
 *      loading exactly what it reads (AnalyticsService.attributionData), and the store's builds
 *      alone.
 * Timed through the services (no HTTP), cache cleared before every run, median of N runs
 * after one warm-up; the NAV series is built once beforehand (as a read finds it current).
 *
 * On a fresh database (bench/support.ts's benchDatabase) opened as the application role, so
 * row-level security applies as the server runs; the bench acts as its ADMIN user from the
 * user's creation on. The bulk setup (securities, bars, VACUUM, which needs the tables' owner)
 * goes through the superuser's connection.
 *
 * Usage: npx tsx bench/analytics.ts [runs=7]   (PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres)
 */
import os from 'node:os';
import { actAsUser, asSystem } from '../src/db/principal';
import { LocalEventBus } from '../src/events/bus';
import { createServices } from '../src/services';
import { D } from '../src/domain/decimal';
import { businessDays, fromEpochDay } from '../src/domain/nav-series';
import { toEpochDay } from '../src/domain/dates';
import { loadBenchmark, loadBenchmarkSums, loadNavPoints } from '../src/services/analytics-data';
import { groupOf } from '../src/domain/analytics';
import { refreshBenchmarkSums } from '../src/services/benchmark-sums';
import { benchDatabase, machineLine, median } from './support';

const RUNS = Number(process.argv[2] ?? 7);
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function timeIt(runs: number, before: () => void, fn: () => Promise<unknown>): Promise<number> {
  before();
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    before();
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

async function main() {
  const database = await benchDatabase('an');
  const superuser = await database.superuser();
  try {
    const prisma = database.db.prisma;
    console.log(machineLine(database.pgVersion));
    const services = createServices(prisma, new LocalEventBus());
    const user = await asSystem(() => prisma.user.create({ data: { email: 'bench@local', role: 'ADMIN' } }));
    const ctx = { actor: { userId: user.id, role: 'ADMIN' as const, apiKeyId: null }, meta: { requestId: 'bench' } };
    actAsUser(user.id);

    const today = new Date().toISOString().slice(0, 10);
    const start = fromEpochDay(toEpochDay(today) - Math.round(10 * 365.25));
    const days = businessDays(start, today);
    // 500 USD securities in 11 sectors; the portfolio holds the first 200.
    await superuser.prisma.security.createMany({ data: Array.from({ length: 500 }, (_, i) => ({ symbol: `A${String(i).padStart(4, '0')}`, name: `Bench ${i}`, currency: 'USD', sector: `Sector ${i % 11}`, country: 'US', assetClass: 'Equity' })) });
    let t = performance.now();
    await superuser.prisma.$executeRawUnsafe(`
      INSERT INTO price_bars (security_id, timeframe, ts, close)
      SELECT s.id, '1d', d.day::timestamptz, round((50 + (s.n % 50) + 10 * sin(d.k / 30.0 + s.n) + d.k * 0.01)::numeric, 4)
      FROM (SELECT id, row_number() OVER (ORDER BY symbol) AS n FROM securities) s
      CROSS JOIN unnest($1::date[]) WITH ORDINALITY AS d(day, k)`, days);
    // As autovacuum leaves a table that took a large insert (PostgreSQL ≥ 13 vacuums on inserts
    // too): statistics current and pages all-visible, so that index-only scans skip the heap.
    await superuser.prisma.$executeRawUnsafe('VACUUM ANALYZE price_bars');
    console.log(`setup: ${(500 * days.length).toLocaleString('en')} daily bars in ${ms(performance.now() - t)} (vacuumed)`);

    const pf = await services.portfolios.create(ctx, { name: 'Bench 200', baseCurrency: 'USD' });
    t = performance.now();
    await services.ledger.record(ctx, { portfolioId: pf.id, type: 'DEPOSIT', date: days[0]!, amount: new D(10_000_000), currency: 'USD' });
    for (let i = 0; i < 200; i++) {
      await services.ledger.record(ctx, { portfolioId: pf.id, type: 'BUY', date: days[0]!, symbol: `A${String(i).padStart(4, '0')}`, quantity: new D(100 + i), price: new D(50 + (i % 50)) } as never);
    }
    for (let q = 63; q < days.length; q += 63) await services.ledger.record(ctx, { portfolioId: pf.id, type: 'DEPOSIT', date: days[q]!, amount: new D(50_000), currency: 'USD' });
    console.log(`setup: ledger of ${200 + 1 + Math.floor(days.length / 63)} transactions in ${ms(performance.now() - t)}`);
    t = performance.now();
    const run = await services.valuation.refreshNavSeries(pf.id, { full: true });
    console.log(`setup: NAV series of ${run?.days} days × 200 positions built in ${ms(performance.now() - t)}`);
    const weight = new D(1).div(500);
    await services.benchmarks.upsert(ctx, { code: 'B500', name: 'Equal 500', currency: 'USD', constituents: Array.from({ length: 500 }, (_, i) => ({ symbol: `A${String(i).padStart(4, '0')}`, weight })) });

    const clear = () => services.analytics.cache.clear();
    const from10 = days[0]!;
    const to = days.at(-1)!;

    // 1. performance + risk over 10 years
    const perfRisk = await timeIt(RUNS, clear, () =>
      Promise.all([services.analytics.performance(ctx, pf.id, from10, to), services.analytics.risk(ctx, pf.id, { from: from10, to })]),
    );
    const loadNav = await timeIt(RUNS, clear, () => loadNavPoints(prisma, pf.id, to));
    const perfOnly = await timeIt(RUNS, clear, () => services.analytics.performance(ctx, pf.id, from10, to));
    const riskOnly = await timeIt(RUNS, clear, () => services.analytics.risk(ctx, pf.id, { from: from10, to }));
    const cached = await timeIt(RUNS, () => undefined, () => services.analytics.performance(ctx, pf.id, from10, to));
    console.log(`1. performance + risk, 10 years (${days.length} NAV points, 200 positions): ${ms(perfRisk)} (performance ${ms(perfOnly)}, risk ${ms(riskOnly)}, cached ${ms(cached)}); loading the NAV series alone: ${ms(loadNav)}`);

    // 2. one-year sector attribution vs the 500-constituent benchmark: cold (the benchmark's
    // stored daily sums dropped before each run, so the run builds them for the year) and
    // warm (the store current, as every read after the first finds it).
    const from1 = days[days.length - 253]!;
    const bench = (await loadBenchmark(prisma, 'B500'))!;
    // The store is system work (benchmark-sums.ts): dropped and marked stale as the system.
    const dropStore = () => asSystem(() => prisma.$executeRaw`DELETE FROM benchmark_daily_sums WHERE benchmark_id = ${bench.id}::uuid`);
    const attrCold = await timeIt(RUNS, clear, async () => {
      await dropStore();
      return services.analytics.attribution(ctx, pf.id, from1, to, 'B500', 'SECTOR');
    });
    const attr = await timeIt(RUNS, clear, () => services.analytics.attribution(ctx, pf.id, from1, to, 'B500', 'SECTOR'));
    // Loading alone: the very reads attribution makes (AnalyticsService.attributionData: the NAV
    // series' currency check, the period's NAV points, ledger, securities, the 200 portfolio
    // securities' closes, FX, the benchmark's stored sums per day and sector), parsed, nothing
    // computed; plus the benchmark's row and constituents.
    const load = await timeIt(RUNS, clear, async () => {
      const b = (await loadBenchmark(prisma, 'B500'))!;
      const data = await services.analytics.attributionData(ctx, pf, from1, to, b, 'SECTOR');
      return data.benchmark;
    });
    const year = (await loadNavPoints(prisma, pf.id, to)).filter((x) => x.date >= from1).map((x) => x.date);
    // The store's first build for the year alone, and the per-request aggregation it replaces.
    const build1 = await timeIt(RUNS, () => undefined, async () => {
      await dropStore();
      await refreshBenchmarkSums(prisma, bench.id, year[0]!, to);
    });
    const perRequest = await timeIt(RUNS, () => undefined, () => loadBenchmarkSums(prisma, bench.constituents.map((c) => ({ ...c, group: groupOf('SECTOR', c) })), year));
    await dropStore();
    let t10 = performance.now();
    await refreshBenchmarkSums(prisma, bench.id, from10, to);
    const build10 = performance.now() - t10;
    t10 = performance.now();
    await asSystem(() => prisma.$executeRaw`UPDATE benchmarks SET sums_stale_from = ${to}::date WHERE id = ${bench.id}::uuid`);
    await refreshBenchmarkSums(prisma, bench.id, from1, to);
    const oneDay = performance.now() - t10;
    const a = await services.analytics.attribution(ctx, pf.id, from1, to, 'B500', 'SECTOR');
    console.log(`2. one-year SECTOR attribution vs 500 constituents (${a.groups.length} groups, 252 days), store current: ${ms(attr)}; loading the same data alone (what attribution reads: NAV points, ledger, 200 securities' closes, FX, stored sums per day and sector): ${ms(load)}; ÷ loading ${(attr / load).toFixed(2)}; cold (store built in the run): ${ms(attrCold)}`);
    console.log(`   store: first build of the year ${ms(build1)} (the per-request aggregation it replaces: ${ms(perRequest)}); of 10 years ${ms(build10)}; rebuild of one stale day ${ms(oneDay)}`);
    console.log(`   check: allocation + selection + interaction − active = ${a.allocation.plus(a.selection).plus(a.interaction).minus(a.activeReturn).toExponential(2)}`);
    console.log(`load average at the end: ${os.loadavg()[0]!.toFixed(2)}`);
  } finally {
    await superuser.close();
    await database.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
