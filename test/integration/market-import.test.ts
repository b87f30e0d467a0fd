import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MarketImporter } from '../../src/services/market-import';
import { describeEachEngine } from '../support/db';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'fg-import-'));

describeEachEngine('market data file import', (db, engine) => {
  const importer = () => new MarketImporter(db().prisma, { pgUrl: db().url, batchSize: 1000 });

  beforeAll(async () => {
    await db().prisma.security.createMany({ data: [{ symbol: 'IMP1', name: 'One', currency: 'USD' }, { symbol: 'IMP2', name: 'Two', currency: 'EUR' }] });
  });

  test('streams a CSV in batches: good rows land, bad rows are reported by line number; a re-run changes nothing', async () => {
    const lines = ['symbol,date,open,high,low,close,volume'];
    for (let i = 0; i < 3000; i++) {
      const d = new Date(Date.UTC(2000, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
      lines.push(`IMP1,${d},10,11,9,10.5,100`, `"IMP2",${d},,,,20.25,`);
    }
    lines.splice(5, 0, 'NOPE,2020-01-01,1,1,1,1,1'); // line 6: unknown symbol
    lines.splice(100, 0, 'IMP1,2020-13-01,1,1,1,1,1'); // line 101: bad date
    lines.splice(2000, 0, 'IMP1,2020-01-01,1,1,1,NaN,1'); // line 2001: NaN
    lines.splice(4000, 0, 'IMP1,2999-01-01,1,1,1,1,1'); // line 4001: far future
    lines.splice(5000, 0, 'IMP1,1999-01-01,1,2,1,1.5,-7'); // line 5001: negative volume
    lines.splice(5500, 0, 'IMP1,1999-01-02,10,9,11,10,1'); // line 5501: high below low
    const file = path.join(dir, `prices-${engine}.csv`);
    writeFileSync(file, lines.join('\n') + '\n');
    const progress: number[] = [];
    const r = await new MarketImporter(db().prisma, { pgUrl: db().url, batchSize: 1000, onProgress: (p) => progress.push(p.rows) }).importPrices(file);
    expect(r.rows).toBe(6006);
    expect(r.accepted).toBe(6000);
    expect(r.errors.map((e) => [e.index, e.message])).toEqual([
      [6, 'unknown symbol "NOPE"'],
      [101, 'date "2020-13-01" is not a date YYYY-MM-DD'],
      [2001, 'close is not a finite number'],
      [4001, '2999-01-01 is in the future'],
      [5001, 'volume must not be negative, got -7'],
      [5501, 'high 9 is below low 11'],
    ]);
    expect(progress.length).toBeGreaterThanOrEqual(6);
    expect(await db().prisma.priceBar.count()).toBe(6000);
    const quote = await db().prisma.quote.findFirstOrThrow({ where: { security: { symbol: 'IMP2' } } });
    expect(quote.price.toFixed()).toBe('20.25');
    expect(quote.ts.toISOString().slice(0, 10)).toBe(new Date(Date.UTC(2000, 0, 1) + 2999 * 86_400_000).toISOString().slice(0, 10));
    const again = await importer().importPrices(file);
    expect(again.accepted).toBe(6000);
    expect(await db().prisma.priceBar.count()).toBe(6000);
    expect(await db().prisma.auditLog.count({ where: { action: 'prices.import' } })).toBe(2);
  });

  test('FX file: zero rate, same currency and bad cells are reported', async () => {
    const file = path.join(dir, `fx-${engine}.csv`);
    writeFileSync(file, ['date,base,quote,rate', '2024-01-02,EUR,USD,1.1', '2024-01-02,EUR,USD,0', '2024-01-02,USD,USD,1', '2024-01-02,USD,JPY,abc', '2024-01-03,USD,JPY,141.5'].join('\n'));
    const r = await importer().importFx(file);
    expect(r).toMatchObject({ rows: 5, accepted: 2, rejected: 3 });
    expect(r.errors.map((e) => e.index)).toEqual([3, 4, 5]);
    expect(await db().prisma.fxRate.count()).toBe(2);
  });

  if (engine === 'postgres') {
    test('npm run import:prices streams a file through COPY and reports progress', async () => {
      const file = path.join(dir, 'cli.csv');
      writeFileSync(file, 'symbol,at,close\nIMP1,2024-01-02T15:30:00Z,12.5\nIMP1,2024-01-02T15:31:00Z,12.75\nNOPE,2024-01-02T15:31:00Z,1\n');
      const res = await run('npx', ['tsx', 'scripts/import-market-data.ts', 'prices', file], { env: { ...process.env, DATABASE_URL: db().url, NODE_OPTIONS: '' } }).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect((res as { code?: number }).code).toBe(2); // some rows rejected
      expect(JSON.parse(res.stdout.trim())).toMatchObject({ rows: 3, accepted: 2, rejected: 1 });
      expect(res.stderr).toMatch(/line 4: unknown symbol "NOPE"/);
      expect(res.stderr).toMatch(/prices: 3 rows \(100\.0%\)/);
    }, 60_000);
  }
});
