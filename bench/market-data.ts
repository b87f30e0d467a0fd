/*
 * Market data and valuation benchmarks on PostgreSQL (issue 4), each beside a baseline
 * measured in the same run:
 *   1. file import (npm run import:prices path: CSV stream → COPY → upsert) vs raw COPY of
 *      the same rows into an unindexed table;
 *   2. GraphQL ingestPrices over HTTP vs the same rows through the service directly;
 *   3. valuation of a 1,000-position, 4-currency portfolio over HTTP (median, warm) vs one
 *      SQL query summing the same positions × quote × FX;
 *   4. daily NAV series, 5 years × 200 positions, full rebuild vs one SQL query reading and
 *      summing the same bars.
 *
 * Usage: npx tsx bench/market-data.ts   (PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres)
 */
import os from 'node:os';
import { mkdtempSync, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { D } from '../src/domain/decimal';
import { MarketImporter } from '../src/services/market-import';
import { businessDays } from '../src/domain/nav-series';
import { benchDatabase, benchServer, benchSymbol, createBenchSecurities, machineLine, median, seedThousandPositions, VALUATION_QUERY as VAL, VALUATION_SUM_SQL } from './support';
import { actAsUser } from '../src/db/principal';

const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main() {
  const bench = await benchDatabase('md');
  const { db, url: dbUrl } = bench;
  const results: string[] = [];
  try {
    console.log(machineLine(bench.pgVersion));

    // 1,000 securities in four currencies.
    await createBenchSecurities(db);
    const today = new Date().toISOString().slice(0, 10);
    const start5y = new Date(Date.now() - 5 * 365.25 * 86_400_000).toISOString().slice(0, 10);
    const days = businessDays(start5y, today);

    // ---------------------------------------------------------------- 1. file import
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fg-bench-'));
    const csv = path.join(dir, 'prices.csv');
    const out = createWriteStream(csv);
    out.write('symbol,date,open,high,low,close,volume\n');
    let rows = 0;
    for (let s = 0; s < 200; s++) {
      let chunk = '';
      for (let d = 0; d < days.length; d++) {
        const c = (50 + s + 10 * Math.sin(d / 30 + s)).toFixed(4);
        chunk += `B${String(s).padStart(4, '0')},${days[d]},${c},${(Number(c) + 1).toFixed(4)},${(Number(c) - 1).toFixed(4)},${c},${1000 + d}\n`;
        rows++;
      }
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    console.log(`1. ${fmt(rows)} bars, ${(statSync(csv).size / 2 ** 20).toFixed(1)} MiB CSV`);
    // Baseline: the raw COPY rate of the same rows into an unindexed, unconstrained table.
    const raw = new Client({ connectionString: dbUrl });
    await raw.connect();
    await raw.query('CREATE UNLOGGED TABLE raw_bars (symbol text, date date, open numeric, high numeric, low numeric, close numeric, volume numeric)');
    const { createReadStream } = await import('node:fs');
    let t = performance.now();
    await pipeline(createReadStream(csv), raw.query(copyFrom('COPY raw_bars FROM STDIN (FORMAT csv, HEADER true)')));
    const rawMs = performance.now() - t;
    await raw.end();
    t = performance.now();
    const imported = await new MarketImporter(db.prisma, { pgUrl: bench.appUrl }).importPrices(csv);
    const importMs = performance.now() - t;
    if (imported.rejected) throw new Error(JSON.stringify(imported.errors.slice(0, 3)));
    results.push(`| file import (\`import:prices\`), ${fmt(rows)} bars | ${fmt(rows / (importMs / 1000))} bars/s | raw \`COPY\` into an unindexed table: ${fmt(rows / (rawMs / 1000))} rows/s | ≥ 50,000 bars/s |`);
    console.log(results.at(-1));

    // ---------------------------------------------------------------- 2. GraphQL ingest
    const server = await benchServer(bench, { MAX_BODY_BYTES: String(64 * 2 ** 20) });
    const { app, ctx, gql } = server;
    // From here on the bench acts as its MANAGER, as the server would for their requests.
    actAsUser(ctx.actor!.userId);
    const recent = days.slice(-125);
    const batch = (offset: number) => {
      const input: { symbol: string; date: string; open: string; high: string; low: string; close: string; volume: string }[] = [];
      for (let s = 200; s < 1000; s++) for (const d of recent.slice(offset, offset + 62)) input.push({ symbol: benchSymbol(s), date: d, open: '10', high: '11', low: '9', close: (10 + (s % 7) / 10).toFixed(2), volume: '100' });
      return input;
    };
    const gqlRows = batch(0);
    t = performance.now();
    const ing = await gql(`mutation($input: [PriceInput!]!) { ingestPrices(input: $input) { accepted rejected } }`, { input: gqlRows });
    const gqlMs = performance.now() - t;
    const svcRows = batch(62).map((r) => ({ ...r, open: new D(r.open), high: new D(r.high), low: new D(r.low), close: new D(r.close), volume: new D(r.volume) }));
    t = performance.now();
    await app.services.marketData.ingestPrices(ctx, svcRows);
    const svcMs = performance.now() - t;
    results.push(`| GraphQL \`ingestPrices\` over HTTP, ${fmt(ing.ingestPrices.accepted)} bars in one request | ${fmt(gqlRows.length / (gqlMs / 1000))} bars/s | the same service call without HTTP/GraphQL (${fmt(svcRows.length)} other bars): ${fmt(svcRows.length / (svcMs / 1000))} bars/s | ≥ 5,000 bars/s |`);
    console.log(results.at(-1));

    // FX: 5 years of three pairs.
    const fxRows = days.flatMap((d, i) => [
      { base: 'EUR', quote: 'USD', date: d, rate: new D((1.08 + 0.05 * Math.sin(i / 50)).toFixed(6)) },
      { base: 'GBP', quote: 'USD', date: d, rate: new D((1.26 + 0.05 * Math.sin(i / 40)).toFixed(6)) },
      { base: 'USD', quote: 'JPY', date: d, rate: new D((145 + 5 * Math.sin(i / 60)).toFixed(4)) },
    ]);
    await app.services.marketData.ingestFxRates(ctx, fxRows);

    // ---------------------------------------------------------------- 3. valuation, 1,000 positions
    const big = await seedThousandPositions(server, recent[0]!);
    for (let i = 0; i < 10; i++) await gql(VAL, { id: big.id });
    const http: number[] = [];
    for (let i = 0; i < 50; i++) {
      t = performance.now();
      const v = await gql(VAL, { id: big.id });
      http.push(performance.now() - t);
      if (v.portfolio.valuation.holdings.length !== 1000) throw new Error('expected 1,000 holdings');
    }
    const sqlTimes: number[] = [];
    for (let i = 0; i < 60; i++) {
      t = performance.now();
      await db.prisma.$queryRawUnsafe(VALUATION_SUM_SQL, big.id);
      if (i >= 10) sqlTimes.push(performance.now() - t);
    }
    results.push(`| \`valuation\` of 1,000 positions in 4 currencies over HTTP, warm (median of 50) | ${median(http).toFixed(1)} ms | one SQL query summing qty × quote × FX of the same lots: ${median(sqlTimes).toFixed(1)} ms | < 20 ms |`);
    console.log(results.at(-1));

    // ---------------------------------------------------------------- 4. NAV series 5y × 200
    const series = await app.services.portfolios.create(ctx, { name: 'Five years', baseCurrency: 'USD' });
    await app.services.ledger.record(ctx, { portfolioId: series.id, type: 'DEPOSIT', date: days[0]!, amount: new D(10_000_000), currency: 'USD' });
    for (let s = 0; s < 200; s++) {
      await app.services.ledger.record(ctx, { portfolioId: series.id, type: 'BUY', date: days[(s * 5) % 250]!, symbol: benchSymbol(s), quantity: new D(100), price: new D(50 + s) });
    }
    for (let m = 1; m < 60; m++) {
      await app.services.ledger.record(ctx, { portfolioId: series.id, type: m % 2 ? 'DEPOSIT' : 'WITHDRAWAL', date: days[m * 21]!, amount: new D(10_000), currency: m % 3 ? 'USD' : 'EUR' });
    }
    const navRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      const r = await app.services.valuation.refreshNavSeries(series.id, { full: true });
      navRuns.push(performance.now() - t);
      if (!r || r.days < 1200) throw new Error(`unexpected run ${JSON.stringify(r)}`);
    }
    const sqlNav: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      await db.prisma.$queryRawUnsafe(
        `SELECT (b.ts AT TIME ZONE 'UTC')::date AS d, sum(b.close * 100) FROM price_bars b
         WHERE b.security_id IN (SELECT DISTINCT security_id FROM transactions WHERE portfolio_id = $1::uuid AND security_id IS NOT NULL) AND b.timeframe = '1d'
         GROUP BY 1 ORDER BY 1`,
        series.id,
      );
      sqlNav.push(performance.now() - t);
    }
    // An incremental rebuild after a backdated deposit one month back.
    await app.services.ledger.record(ctx, { portfolioId: series.id, type: 'DEPOSIT', date: days.at(-21)!, amount: new D(1), currency: 'USD' });
    t = performance.now();
    const inc = await app.services.valuation.refreshNavSeries(series.id);
    const incMs = performance.now() - t;
    results.push(`| daily NAV series, ${days.length} business days (5 y) × 200 positions, 4 currencies, full rebuild (median of 3) | ${fmt(median(navRuns))} ms | one SQL query reading and summing the same ${fmt(200 * days.length)} bars by day: ${fmt(median(sqlNav))} ms | < 2,000 ms |`);
    results.push(`| the same series rebuilt incrementally from a backdated deposit 21 business days back (${inc?.days} days) | ${fmt(incMs)} ms | | |`);
    console.log(results.slice(-2).join('\n'));
    await server.close();
  } finally {
    await bench.drop();
  }
  console.log('\n| case | figure | baseline (same run) | target |\n|---|---:|---|---|\n' + results.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
