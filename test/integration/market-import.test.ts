import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { MarketImporter } from '../../src/services/market-import';
import { cellsProblem, record } from '../../src/services/csv-file';
import { parsePrice } from '../../src/services/price-file';
import { validatePriceRows } from '../../src/services/market-data';
import { describeEachEngine } from '../support/db';
import { D } from '../../src/domain/decimal';
import { LocalEventBus } from '../../src/events/bus';
import { RedisEventBus } from '../../src/events/redis-bus';
import type { EventOf } from '../../src/events/types';
import { until } from '../support/live';
import { freePort, startRedis, stopRedis } from '../support/redis';

const run = promisify(execFile);
/** The UTC date `n` days from today. */
const utcDay = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
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
    // PostgreSQL's bulk path (COPY into a staging table) whenever the importer has a PostgreSQL URL.
    const audit = await db().prisma.auditLog.findFirstOrThrow({ where: { action: 'prices.import' } });
    expect(audit.after).toMatchObject({ rows: 6006, accepted: 6000, rejected: 6, engine: engine === 'postgres' ? 'copy' : 'unnest' });
  });

  test('odd cells, line endings and a \\r\\n split across read chunks: every row gets the verdict and the value of decimal.js + validatePriceRows', async () => {
    await db().prisma.security.createMany({ data: [{ symbol: 'IMP3', name: 'Three', currency: 'USD' }, { symbol: 'IMP4', name: 'Four', currency: 'USD' }] });
    const header = 'symbol,date,open,high,low,close,volume';
    // [line, the terminator after it]
    const lines: [string, string][] = [[header, '\r\n']];
    // Filler of fixed-length lines, the first padded so that one \r ends the first 1 MiB read and its \n begins the next.
    const filler = (j: number, pad = '') => `IMP4,${new Date(Date.UTC(1900, 0, 1) + j * 86_400_000).toISOString().slice(0, 10)},,,,20.25${pad},`;
    const lineBytes = filler(0).length + 2;
    const pad = '0'.repeat(((2 ** 20 - 1 - (header.length + 2) - (lineBytes - 2)) % lineBytes + lineBytes) % lineBytes);
    const fillerRows = Math.ceil(2 ** 20 / lineBytes) + 10;
    for (let j = 0; j < fillerRows; j++) lines.push([filler(j, j === 0 ? pad : ''), '\r\n']);
    const odd = [
      'IMP3,2001-01-01,10,11,9,10.5,100',
      'IMP3,2001-01-02,+10,11.,9.0000,10.50000000000000,0100',
      'IMP3,2001-01-03,.5,.6,.4,.5,.0',
      'IMP3,2001-01-04,0,1,0,1,1',
      'IMP3,2001-01-05,1,1,1,1.00000000001,1',
      'IMP3,2001-01-06,,,,123456789012345678901,',
      'IMP3,2001-01-07,,,,1.12345678901,',
      'IMP3,2001-01-08,,,,5,1.12345',
      'IMP3,2001-01-09,,,,5,-0',
      ' imp3 , 2001-01-10 , 1 , 2 , 0.5 , 1.5 , 7',
      '"IMP3","2001-01-11","1","2","0.5","1.5","7"',
      'IMP3,2001-01-12,1,2,0.5,1.5',
      'IMP3,2001-02-30,1,2,0.5,1.5,1',
      'IMP3,2001-01-13,2,1.5,1,1.2,1',
      'IMP3,2001-01-14,1,2,1.5,1.2,1',
      'IMP3,2001-01-15,Infinity,,,1,',
      'IMP3,2001-01-16,1e3,,,1,',
      ',2001-01-17,1,1,1,1,1',
      'IMP3,,1,1,1,1,1',
      'IMP3,2999-01-01,1,1,1,1,1',
      'IMP3,2001-01-01,10,12,9,11,100',
      'IMP3,2001-01-18,10,10,10,10,0',
      'IMP3,2001-01-19,9.99,10,9.99,10,',
      'IMP3,2001-01-20,10.01,10,9,10,',
      'IMP3,2001-01-21,00000000000000000000001,,,1,',
      'IMP3,2001-01-22,99999999999999999999,,,99999999999999999999.9999999999,',
      'IMP3,2001-01-23,,,,,1',
      'NOPE,2001-01-24,1,1,1,1,1',
      // Tomorrow (UTC) is taken, the day after is in the future, at any hour.
      `IMP3,${utcDay(1)},1,1,1,1,1`,
      `IMP3,${utcDay(2)},1,1,1,1,1`,
    ];
    odd.forEach((l, i) => {
      lines.push([l, ['\n', '\r\n', '\r'][i % 3]!]);
      // (\r\n, not \n: after a lone \r, a \n would make one \r\n of the two.)
      if (i % 7 === 0) lines.push(['', '\r\n']);
    });
    const file = path.join(dir, `odd-${engine}.csv`);
    writeFileSync(file, lines.map(([l, t]) => l + t).join(''));

    // The verdicts of decimal.js and validatePriceRows, row by row, as the importer gave them before its text checks.
    const cols = header.split(',');
    const expectedErrors: [number, string][] = [];
    const expectedBars = new Map<string, (string | null)[]>();
    lines.forEach(([l], i) => {
      if (i === 0 || !l.trim()) return;
      const cells = l.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      try {
        const problem = cellsProblem(cols, cells);
        if (problem) throw new Error(problem);
        const { valid, errors } = validatePriceRows([parsePrice(record(cols, cells))], new Map([['IMP3', 'a'], ['IMP4', 'b']]));
        if (errors.length) expectedErrors.push([i + 1, errors[0]!.message]);
        else {
          const r = valid[0]!.row;
          expectedBars.set(`${valid[0]!.symbol} ${valid[0]!.ts.toISOString().slice(0, 10)}`, [r.open, r.high, r.low, r.close, r.volume].map((v) => v?.toFixed() ?? null));
        }
      } catch (err) {
        expectedErrors.push([i + 1, (err as Error).message]);
      }
    });
    expect(expectedErrors.length).toBeGreaterThan(15);

    const r = await new MarketImporter(db().prisma, { pgUrl: db().url }).importPrices(file);
    expect(r.errors.map((e) => [e.index, e.message])).toEqual(expectedErrors);
    expect(r.rows).toBe(lines.filter(([l], i) => i > 0 && l.trim()).length);
    type Row = { k: string; open: string | null; high: string | null; low: string | null; close: string; volume: string | null };
    const stored = await db().prisma.$queryRaw<Row[]>`
      SELECT s.symbol || ' ' || to_char(b.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS k, b.open::text AS open, b.high::text AS high, b.low::text AS low, b.close::text AS close, b.volume::text AS volume
      FROM price_bars b JOIN securities s ON s.id = b.security_id WHERE s.symbol IN ('IMP3', 'IMP4')`;
    expect(stored.length).toBe(expectedBars.size);
    const norm = (x: string | null) => (x === null ? null : new D(x).toFixed());
    expect(new Map(stored.map((b) => [b.k, [b.open, b.high, b.low, b.close, b.volume].map(norm)]))).toEqual(expectedBars);
    expect(expectedBars.get('IMP3 2001-01-01')).toEqual(['10', '12', '9', '11', '100']);
    expect(expectedBars.has(`IMP3 ${utcDay(1)}`)).toBe(true);
    expect(expectedErrors.at(-1)).toEqual([expect.any(Number), `${utcDay(2)} is in the future`]);
  });

  test('a bar given again in a later batch wins, with batches written over several connections', async () => {
    const lines = ['symbol,date,close', 'IMP1,1990-01-01,1', 'IMP2,1990-01-01,2'];
    for (let i = 1; i < 2500; i++) lines.push(`IMP${1 + (i % 2)},${new Date(Date.UTC(1990, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)},3`);
    lines.push('IMP1,1990-01-01,1.5', 'IMP2,1990-01-01,2.5');
    const file = path.join(dir, `again-${engine}.csv`);
    writeFileSync(file, lines.join('\n'));
    const r = await new MarketImporter(db().prisma, { pgUrl: db().url, batchSize: 1000, connections: 3 }).importPrices(file);
    expect(r).toMatchObject({ rows: 2503, accepted: 2503, rejected: 0 });
    const first = await db().prisma.priceBar.findMany({ where: { ts: new Date('1990-01-01T00:00:00Z'), security: { symbol: { in: ['IMP1', 'IMP2'] } } }, include: { security: true }, orderBy: { close: 'asc' } });
    expect(first.map((b) => [b.security.symbol, b.close.toFixed()])).toEqual([
      ['IMP1', '1.5'],
      ['IMP2', '2.5'],
    ]);
  });

  test('a file that overlaps stored bars part way through a batch: the new bars land, the stored ones take the file\'s values, nothing twice', async () => {
    const day = (i: number) => new Date(Date.UTC(1980, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    const file = (name: string, from: number, to: number, close: string) => {
      const f = path.join(dir, `${name}-${engine}.csv`);
      writeFileSync(f, ['symbol,date,close', ...Array.from({ length: to - from }, (_, k) => `IMP1,${day(from + k)},${close}`)].join('\n'));
      return f;
    };
    const bars = async () =>
      (await db().prisma.priceBar.findMany({ where: { ts: { gte: new Date(`${day(0)}T00:00:00Z`), lte: new Date(`${day(40)}T00:00:00Z`) }, security: { symbol: 'IMP1' } }, orderBy: { ts: 'asc' } })).map((b) => `${b.ts.toISOString().slice(0, 10)} ${b.close.toFixed()}`);
    expect(await importer().importPrices(file('first', 10, 20, '7'))).toMatchObject({ accepted: 10, rejected: 0 });
    // Days 0–9 are new (the first conflict comes after ten rows), 10–19 stored, 20–29 new again.
    expect(await importer().importPrices(file('overlap', 0, 30, '8.5'))).toMatchObject({ accepted: 30, rejected: 0 });
    expect(await bars()).toEqual(Array.from({ length: 30 }, (_, i) => `${day(i)} 8.5`));
  });

  test('a file is streamed, not loaded whole: fed through a FIFO in two halves, the first batches are committed before the second half is written', async () => {
    await db().prisma.security.create({ data: { symbol: 'IMP5', name: 'Five', currency: 'USD' } });
    const fifo = path.join(dir, `stream-${engine}.fifo`);
    execFileSync('mkfifo', [fifo]);
    const day = (i: number) => new Date(Date.UTC(1980, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, k) => `IMP5,${day(from + k)},${10 + ((from + k) % 9)}\n`).join('');
    const stored = () => db().prisma.priceBar.count({ where: { security: { symbol: 'IMP5' } } });
    const progress: number[] = [];
    const importing = new MarketImporter(db().prisma, { pgUrl: db().url, batchSize: 1000, onProgress: (p) => progress.push(p.rows) }).importPrices(fifo);
    const writer = createWriteStream(fifo);
    try {
      writer.write(`symbol,date,close\n${rows(0, 2500)}`);
      // The end of the file is not written yet: bars in the database now were written batch by batch as read.
      await until(async () => (await stored()) >= 1000, 30_000, 'the first batch committed before the end of the file');
      expect(progress.length).toBeGreaterThanOrEqual(1);
    } finally {
      writer.end(rows(2500, 2500));
    }
    const r = await importing;
    expect(r).toMatchObject({ rows: 5000, accepted: 5000, rejected: 0 });
    expect(await stored()).toBe(5000);
    expect(progress.at(-1)).toBe(5000);
  }, 60_000);

  test('FX file: zero rate, same currency and bad cells are reported', async () => {
    const file = path.join(dir, `fx-${engine}.csv`);
    writeFileSync(file, ['date,base,quote,rate', '2024-01-02,EUR,USD,1.1', '2024-01-02,EUR,USD,0', '2024-01-02,USD,USD,1', '2024-01-02,USD,JPY,abc', '2024-01-03,USD,JPY,141.5'].join('\n'));
    const r = await importer().importFx(file);
    expect(r).toMatchObject({ rows: 5, accepted: 2, rejected: 3 });
    expect(r.errors.map((e) => e.index)).toEqual([3, 4, 5]);
    expect(await db().prisma.fxRate.count()).toBe(2);
  });

  test('each committed batch is announced on the bus: the newest price per security, the newest rate per pair; a batch with nothing to write, not at all', async () => {
    const bus = new LocalEventBus();
    const prices: EventOf<'prices.ingested'>[] = [];
    const rates: EventOf<'fx.ingested'>[] = [];
    bus.subscribe('prices.ingested', (e) => prices.push(e));
    bus.subscribe('fx.ingested', (e) => rates.push(e));
    const day = (i: number) => new Date(Date.UTC(1970, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    const lines = ['symbol,date,close'];
    const cents = (i: number) => `${Math.floor(i / 100)}.${String(i % 100).padStart(2, '0')}`;
    for (let i = 0; i < 1500; i++) lines.push(`IMP1,${day(i)},${cents(1000 + i)}`, `IMP2,${day(i)},${cents(2000 + i)}`);
    for (let i = 0; i < 500; i++) lines.push(`NOPE,${day(i)},1`);
    const file = path.join(dir, `announced-${engine}.csv`);
    writeFileSync(file, lines.join('\n'));
    const r = await new MarketImporter(db().prisma, { pgUrl: db().url, batchSize: 1000, bus }).importPrices(file);
    expect(r).toMatchObject({ rows: 3500, accepted: 3000, rejected: 500 });
    // Three batches with bars (the fourth has none); on PostgreSQL each commits on two connections, one security each.
    expect(prices.length).toBe(engine === 'postgres' ? 6 : 3);
    const newest = new Map(prices.flatMap((e) => e.prices.map((p) => [p.symbol, p] as const)));
    expect([...newest.values()].sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual([
      { securityId: expect.any(String), symbol: 'IMP1', price: '24.99', ts: `${day(1499)}T00:00:00.000Z` },
      { securityId: expect.any(String), symbol: 'IMP2', price: '34.99', ts: `${day(1499)}T00:00:00.000Z` },
    ]);
    const fxFile = path.join(dir, `announced-fx-${engine}.csv`);
    writeFileSync(fxFile, 'base,quote,date,rate\nEUR,USD,1970-01-02,1.25\nEUR,USD,1970-01-05,1.5\nEUR,USD,1970-01-03,1.75\n');
    await new MarketImporter(db().prisma, { pgUrl: db().url, bus }).importFx(fxFile);
    expect(rates).toEqual([{ type: 'fx.ingested', rates: [{ base: 'EUR', quote: 'USD', date: '1970-01-05', rate: '1.5' }] }]);
  });

  if (engine === 'postgres') {
    test('with REDIS_URL, npm run import:prices announces its batches to the servers through Redis', async () => {
      const port = await freePort();
      const redis = await startRedis(port);
      const url = `redis://127.0.0.1:${port}`;
      const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };
      const server = new RedisEventBus(url, quiet);
      const heard: EventOf<'prices.ingested'>[] = [];
      server.subscribe('prices.ingested', (e) => heard.push(e));
      try {
        await server.start();
        const file = path.join(dir, 'cli-redis.csv');
        writeFileSync(file, 'symbol,date,close\nIMP2,1975-01-02,3.25\nIMP2,1975-01-03,3.5\n');
        const res = await run('npx', ['tsx', 'scripts/import-market-data.ts', 'prices', file], { env: { ...process.env, DATABASE_URL: db().url, REDIS_URL: url, NODE_OPTIONS: '' } });
        expect(JSON.parse(res.stdout.trim())).toMatchObject({ rows: 2, accepted: 2, rejected: 0 });
        await until(() => heard.length > 0, 10_000, 'prices.ingested from the importer');
        expect(heard).toEqual([{ type: 'prices.ingested', prices: [{ securityId: expect.any(String), symbol: 'IMP2', price: '3.5', ts: '1975-01-03T00:00:00.000Z' }] }]);
      } finally {
        await server.close();
        await stopRedis(redis);
      }
    }, 60_000);

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
