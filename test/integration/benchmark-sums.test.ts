import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { D } from '../../src/domain/decimal';
import { businessDays } from '../../src/domain/nav-series';
import { groupOf, type GroupBy } from '../../src/domain/analytics';
import { LocalEventBus } from '../../src/events/bus';
import { createServices, type Services } from '../../src/services';
import { loadBenchmark, loadBenchmarkSums, type BenchmarkSums } from '../../src/services/analytics-data';
import { storedBenchmarkSums } from '../../src/services/benchmark-sums';
import { MarketImporter } from '../../src/services/market-import';
import { describeEachEngine } from '../support/db';

/*
 * The stored daily sums of a benchmark against the per-request aggregation they replace
 * (loadBenchmarkSums): the same rows, digit for digit, for every groupBy and for ranges read
 * cold, extended forward and backward; and rebuilt after what changes them.
 *
 * Data, 2023-12-18 … 2024-02-09 (40 business days): AAA, BBB, EEE (USD), CCC (EUR) closes with
 * three decimals (ratios that do not terminate); the worked example of analytics.test.ts on
 * 2024-01-02 … 01-05 for AAA and BBB; EEE without a bar every third day and with one on
 * Saturday 2024-01-13; DDD (no sector, no country) from 2024-01-10 only.
 */

const DAYS = businessDays('2023-12-18', '2024-02-09');
const WORKED: Record<string, Record<string, string>> = {
  AAA: { '2024-01-02': '100', '2024-01-03': '110', '2024-01-04': '99', '2024-01-05': '108.9' },
  BBB: { '2024-01-02': '50', '2024-01-03': '50', '2024-01-04': '55', '2024-01-05': '55' },
};
const SECURITIES = [
  { symbol: 'AAA', currency: 'USD', sector: 'Tech', country: 'US', assetClass: 'Equity' },
  { symbol: 'BBB', currency: 'USD', sector: 'Energy', country: 'US', assetClass: 'Equity' },
  { symbol: 'CCC', currency: 'EUR', sector: 'Tech', country: 'DE', assetClass: 'Equity' },
  { symbol: 'DDD', currency: 'USD', sector: null, country: null, assetClass: 'Bond' },
  { symbol: 'EEE', currency: 'USD', sector: 'Energy', country: 'US', assetClass: 'Equity' },
];
const BX = [
  { symbol: 'AAA', weight: new D('0.123456789012') },
  { symbol: 'BBB', weight: new D('0.2') },
  { symbol: 'CCC', weight: new D('0.25') },
  { symbol: 'DDD', weight: new D('0.15') },
  { symbol: 'EEE', weight: new D('0.276543210988') },
];
const GROUPINGS: (GroupBy | null)[] = ['SECTOR', 'ASSET_CLASS', 'COUNTRY', 'CURRENCY', null];

function bars(): { symbol: string; date: string; close: D }[] {
  const out: { symbol: string; date: string; close: D }[] = [];
  SECURITIES.forEach((s, k) =>
    DAYS.forEach((date, i) => {
      if (s.symbol === 'EEE' && i % 3 === 1) return;
      if (s.symbol === 'DDD' && date < '2024-01-10') return;
      const close = WORKED[s.symbol]?.[date] ?? (50 + 7 * k + ((i * 37 + k * 11) % 23) * 0.731).toFixed(3);
      out.push({ symbol: s.symbol, date, close: new D(close) });
    }),
  );
  out.push({ symbol: 'EEE', date: '2024-01-13', close: new D('77.777') });
  return out;
}

const normal = (s: BenchmarkSums) => ({
  complete: s.complete,
  rows: s.rows.map((r) => `${r.day} ${r.group} ${r.currency} ${r.sum.toString()}`).sort(),
});

describeEachEngine('benchmark daily sums', (db, engine) => {
  let services: Services;
  const ctx = { actor: { userId: '', role: 'ADMIN' as const, apiKeyId: null }, meta: { requestId: 'test' } };
  const range = (a: string, b: string) => DAYS.filter((d) => d >= a && d <= b);
  const direct = async (code: string, groupBy: GroupBy | null, days: string[]) => {
    const b = (await loadBenchmark(db().prisma, code))!;
    return loadBenchmarkSums(db().prisma, b.constituents.map((c) => ({ ...c, group: groupBy ? groupOf(groupBy, c) : undefined })), days);
  };
  const stored = async (code: string, groupBy: GroupBy | null, days: string[]) => {
    const b = (await loadBenchmark(db().prisma, code))!;
    return storedBenchmarkSums(db().prisma, b.id, b.constituents.length, groupBy, days);
  };
  /** Stored and direct agree for every grouping; returns the stored SECTOR sums. */
  const agree = async (code: string, days: string[]) => {
    for (const g of GROUPINGS) expect([g, normal(await stored(code, g, days))]).toEqual([g, normal(await direct(code, g, days))]);
    return normal(await stored(code, 'SECTOR', days));
  };
  const staleFrom = async (code: string) => (await db().prisma.benchmark.findUniqueOrThrow({ where: { code } })).sumsStaleFrom?.toISOString().slice(0, 10) ?? null;

  beforeAll(async () => {
    services = createServices(db().prisma, new LocalEventBus());
    ctx.actor.userId = (await db().prisma.user.create({ data: { email: `bsums-${engine}@local`, role: 'ADMIN' } })).id;
    for (const s of SECURITIES) await services.securities.upsert(ctx, { ...s, name: s.symbol });
    const px = await services.marketData.ingestPrices(ctx, bars());
    expect(px.rejected).toBe(0);
    await services.marketData.ingestFxRates(ctx, DAYS.map((date, i) => ({ base: 'EUR', quote: 'USD', date, rate: new D('0.0013').times(i % 7).plus('1.05') })));
    await services.benchmarks.upsert(ctx, { code: 'BX', name: 'mixed', currency: 'USD', constituents: BX });
    await services.benchmarks.upsert(ctx, { code: 'BM', name: 'worked example', currency: 'USD', constituents: [{ symbol: 'AAA', weight: new D('0.5') }, { symbol: 'BBB', weight: new D('0.5') }] });
  }, 120_000);

  test('the worked example: the hand-computed sums, as the per-request aggregation gives them', async () => {
    const days = range('2024-01-02', '2024-01-05');
    expect(await agree('BM', days)).toEqual({ complete: true, rows: ['1 Tech USD 0.05', '2 Energy USD 0.05', '2 Tech USD -0.05', '3 Tech USD 0.05'] });
  });

  test('read cold, extended forward and backward, and over sub-ranges: the same rows digit for digit', async () => {
    await agree('BX', range('2024-01-15', '2024-01-24'));
    const runs = await db().prisma.calculationRun.count({ where: { kind: 'benchmark_sums' } });
    await agree('BX', range('2024-01-18', '2024-02-06')); // forward
    await agree('BX', range('2024-01-10', '2024-02-09')); // backward (DDD's first close) and forward
    await agree('BX', range('2024-01-22', '2024-01-30')); // inside what is stored: no rebuild
    await agree('BX', range('2024-01-12', '2024-01-16')); // around the Saturday bar
    const built = await db().prisma.calculationRun.findMany({ where: { kind: 'benchmark_sums' }, orderBy: { startedAt: 'asc' }, skip: runs });
    expect(built.map((r) => [(r.params as { from: string }).from, (r.params as { to: string }).to])).toEqual([
      ['2024-01-25', '2024-02-06'],
      ['2024-01-10', '2024-02-09'],
    ]);
    // Before DDD's first close the sums are incomplete: the caller takes the per-constituent path.
    const early = normal(await stored('BX', 'SECTOR', range('2023-12-18', '2024-01-12')));
    expect(early.complete).toBe(false);
    expect(early).toEqual(normal(await direct('BX', 'SECTOR', range('2023-12-18', '2024-01-12'))));
    await agree('BX', DAYS);
  });

  test('a late or corrected bar marks the stored sums stale from its date; the next read rebuilds from there', async () => {
    const days = range('2024-01-10', '2024-02-09');
    const before = await agree('BX', days);
    await services.marketData.ingestPrices(ctx, [{ symbol: 'CCC', date: '2024-01-24', close: new D('61.234') }]);
    expect(await staleFrom('BX')).toBe('2024-01-24');
    expect(await staleFrom('BM')).toBeNull(); // CCC is not in BM
    const after = await agree('BX', days);
    expect(after.rows).not.toEqual(before.rows);
    const run = await db().prisma.calculationRun.findFirstOrThrow({ where: { kind: 'benchmark_sums' }, orderBy: { startedAt: 'desc' } });
    expect(run.params).toMatchObject({ from: '2024-01-24', to: '2024-02-09', staleFrom: '2024-01-24' });
    expect(await staleFrom('BX')).toBeNull();
    // A bar on a Sunday belongs to Monday's day.
    await services.marketData.ingestPrices(ctx, [{ symbol: 'EEE', date: '2024-01-28', close: new D('80.5') }]);
    expect(await staleFrom('BX')).toBe('2024-01-28');
    await agree('BX', days);
  });

  test('the file importer marks them stale as the mutation does', async () => {
    const days = range('2024-01-10', '2024-02-09');
    const before = await agree('BX', days);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fg-bsums-')), 'late.csv');
    writeFileSync(file, 'symbol,date,close\nBBB,2024-01-31,12.5\n');
    const r = await new MarketImporter(db().prisma, { pgUrl: db().url, batchSize: 1000 }).importPrices(file);
    expect(r.accepted).toBe(1);
    expect(await staleFrom('BX')).toBe('2024-01-31');
    expect((await agree('BX', days)).rows).not.toEqual(before.rows);
  });

  test('new weights, or a constituent with a new sector, mark every stored day stale; the same benchmark again does not', async () => {
    const days = range('2024-01-10', '2024-02-09');
    await agree('BX', days);
    await services.benchmarks.upsert(ctx, { code: 'BX', name: 'renamed', currency: 'USD', constituents: BX });
    expect(await staleFrom('BX')).toBeNull();
    const before = await agree('BX', days);
    await services.benchmarks.upsert(ctx, { code: 'BX', name: 'mixed', currency: 'USD', constituents: BX.map((c, i) => ({ ...c, weight: i === 1 ? new D('0.1') : i === 2 ? new D('0.35') : c.weight })) });
    expect(await staleFrom('BX')).toBe(DAYS[0]); // the first stored day
    const reweighted = await agree('BX', days);
    expect(reweighted.rows).not.toEqual(before.rows);
    await services.securities.upsert(ctx, { ...SECURITIES[2]!, name: 'CCC', sector: 'Energy' });
    expect(await staleFrom('BX')).toBe(DAYS[0]); // the first stored day
    const regrouped = await agree('BX', days);
    expect(regrouped.rows.some((r) => / Tech EUR /.test(r))).toBe(false);
    expect(regrouped.rows.some((r) => / Energy EUR /.test(r))).toBe(true);
    // A field that groups nothing leaves the sums as they are.
    await services.securities.upsert(ctx, { ...SECURITIES[2]!, name: 'CCC renamed', sector: 'Energy' });
    expect(await staleFrom('BX')).toBeNull();
  });

  test('attribution follows a sector change at once (stored sums and cached results both refreshed)', async () => {
    const pf = await services.portfolios.create(ctx, { name: 'P', baseCurrency: 'USD' });
    await services.ledger.record(ctx, { portfolioId: pf.id, type: 'DEPOSIT', date: '2024-01-10', amount: new D(100_000), currency: 'USD' });
    await services.ledger.record(ctx, { portfolioId: pf.id, type: 'BUY', date: '2024-01-10', symbol: 'AAA', quantity: new D(100), price: new D(60) } as never);
    const weightOf = async () => (await services.analytics.attribution(ctx, pf.id, '2024-01-10', '2024-02-09', 'BX', 'SECTOR')).groups.map((g) => `${g.key} ${g.benchmarkWeight.toString()}`).sort();
    expect(await weightOf()).toEqual(['CASH 0', 'Energy 0.726543210988', 'Tech 0.123456789012', 'UNCLASSIFIED 0.15']);
    await services.securities.upsert(ctx, { ...SECURITIES[2]!, name: 'CCC', sector: 'Tech' });
    expect(await weightOf()).toEqual(['CASH 0', 'Energy 0.376543210988', 'Tech 0.473456789012', 'UNCLASSIFIED 0.15']);
  });
});
