import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeEachEngine } from '../support/db';
import { createUserWithKey, startTestServer, type TestServer } from '../support/server';
import { cash, createPortfolio, ensureSecurities, gains, lots } from '../support/ledger';
import { importTransactions, splitCsvLine } from '../../src/services/transaction-import';

const CSV = [
  'date,type,symbol,quantity,price,fee,currency,external_id,amount,split_ratio,note',
  '2024-01-02,DEPOSIT,,,,,USD,d-1,10000,,"opening, with a comma"',
  '2024-01-03,BUY,IMPA,100,10,1,,b-1,,,',
  '2024-01-04,BUY,IMPA,100,10,1,,,,,',
  '2024-01-04,BUY,IMPA,100,10,1,,,,,', // the same content twice: two bookings, both idempotent on re-run
  '2024-01-05,SELL,IMPA,5000,11,,,s-1,,,', // line 6: oversell
  '2024-01-06,BUY,IMPA,0,10,,,,,,', // line 7: zero quantity
  '2024-01-07,SPLIT,IMPA,,,,,,,-2,', // line 8: bad ratio
  '2024-01-08,BUY,IMPA,1,abc,,,,,,', // line 9: not a number
  '2024-01-09,DIVIDEND,IMPA,,,,,div-1,30,,',
  '2024-01-10,SPLIT,IMPA,,,,,,,2,',
].join('\n');

// A history in date order: lots, gains and cash depend on the order it is booked in.
const HISTORY = [
  '2024-01-02,DEPOSIT,,,,,USD,,50000,,',
  '2024-01-03,BUY,ORDA,100,10,1,,,,,',
  '2024-01-10,BUY,ORDA,100,12,1,,,,,',
  '2024-01-10,SELL,ORDA,150,13,,,,,,', // after the day's BUY: it relieves both lots
  '2024-02-01,BUY,ORDB,40,50,,,,,,',
  '2024-02-15,SELL,ORDA,20,11,2,,,,,',
  '2024-03-01,SELL,ORDA,1000,11,,,,,,', // oversell: rejected when booked
  '2024-03-05,DIVIDEND,ORDA,,,,,,25,,',
  '2024-04-01,SELL,ORDA,10,12,,,,,,', // a trade on the split day comes before the split
  '2024-04-01,SPLIT,ORDA,,,,,,,2,',
  '2024-04-02,BUY,ORDA,20,6,,,,,,',
  '2024-05-01,SELL,ORDA,50,7,,,,,,',
  '2024-05-02,BUY,ORDB,1,abc,,,,,,', // not a number: rejected when read
  '2024-13-01,BUY,ORDB,1,1,,,,,,', // not a date: rejected when read
  '2024-06-01,SELL,ORDB,10,55,,,,,,',
].map((r) => r.replace(/ \/\/.*$/, ''));
const HISTORY_HEADER = 'date,type,symbol,quantity,price,fee,currency,external_id,amount,split_ratio,note';
const HISTORY_REJECTED = [HISTORY[6]!, HISTORY[12]!, HISTORY[13]!];

/**
 * HISTORY's days in a seeded random order, each day's rows in their order but a split first:
 * what the import must put back (rows of one day keep the file's order, a SPLIT goes last).
 */
function shuffledHistory(): string[] {
  const days = [...new Set(HISTORY.map((r) => r.slice(0, 10)))];
  let seed = 20241201;
  for (let i = days.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [days[i], days[j]] = [days[j]!, days[i]!];
  }
  return days.flatMap((d) => {
    const rows = HISTORY.filter((r) => r.startsWith(d));
    return [...rows.filter((r) => r.includes(',SPLIT,')), ...rows.filter((r) => !r.includes(',SPLIT,'))];
  });
}

const run = promisify(execFile);

describeEachEngine('transaction import', (db, engine) => {
  let server: TestServer;
  let key: string;
  let userId: string;
  let file: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    ({ key, userId } = await createUserWithKey(server, 'USER'));
    await ensureSecurities(server, [['IMPA', 'USD']]);
    file = path.join(mkdtempSync(path.join(tmpdir(), 'fg-import-')), 'tx.csv');
    writeFileSync(file, CSV.replace(/ \/\/.*$/gm, ''));
  });
  afterAll(() => server.close());

  test('splitCsvLine honours quotes', () => {
    expect(splitCsvLine('a,"b, c","d ""e"""')).toEqual(['a', 'b, c', 'd "e"']);
  });

  test('books the valid rows in order, reports the rejected by line number, and a re-run books nothing twice', async () => {
    const pid = await createPortfolio(server.url, key, 'import');
    const ctx = { actor: { userId, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'import' } };
    const progress: number[] = [];
    const first = await importTransactions(server.app.services.ledger, ctx, file, pid, (p) => progress.push(p.rows));
    expect(first).toMatchObject({ rows: 10, booked: 6, replayed: 0, rejected: 4 });
    expect(first.errors.map((e) => e.line)).toEqual([6, 7, 8, 9]);
    expect(first.errors[0]!.message).toMatch(/short by 4700/);
    expect(progress.at(-1)).toBe(10);
    // 3 buys of 100 @ 10 + fee 1, split 2-for-1: 600 shares costing 3003.
    const open = await lots(server.url, key, pid);
    expect(open.map((l) => [l.qtyOpen, l.costBasis])).toEqual([['200', '1001'], ['200', '1001'], ['200', '1001']]);
    expect(await cash(db().prisma, pid)).toEqual({ USD: String(10000 - 3003 + 30) });

    const again = await importTransactions(server.app.services.ledger, ctx, file, pid);
    expect(again).toMatchObject({ rows: 10, booked: 0, replayed: 6, rejected: 4 });
    expect(await db().prisma.transaction.count({ where: { portfolioId: pid } })).toBe(6);
    expect(await cash(db().prisma, pid)).toEqual({ USD: String(10000 - 3003 + 30) });
  });

  test('a file out of date order books what the file in date order books: the same lots, gains and cash; rejected rows keep their line numbers', async () => {
    const shuffled = shuffledHistory();
    // The test means something only if the shuffled file is out of date order.
    expect(shuffled.map((r) => r.slice(0, 10))).not.toEqual(HISTORY.map((r) => r.slice(0, 10)));
    expect(shuffled.indexOf(HISTORY[9]!)).toBeLessThan(shuffled.indexOf(HISTORY[8]!));
    const dir = mkdtempSync(path.join(tmpdir(), 'fg-import-order-'));
    const ctx = { actor: { userId, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'import-order' } };
    await ensureSecurities(server, [['ORDA', 'USD'], ['ORDB', 'USD']]);
    const outcome = async (name: string, rows: string[]) => {
      const csv = path.join(dir, `${name}.csv`);
      writeFileSync(csv, [HISTORY_HEADER, ...rows].join('\n'));
      const pid = await createPortfolio(server.url, key, name);
      const result = await importTransactions(server.app.services.ledger, ctx, csv, pid);
      const lotRows = (await lots(server.url, key, pid, false)).map(({ id: _id, ...lot }) => lot);
      // Rejected rows by line (the header is line 1), as the rows they were.
      const rejected = result.errors.map((e) => rows[e.line - 2]!);
      return { csv, pid, result, rejected, state: { lots: lotRows, gains: await gains(server.url, key, pid), cash: await cash(db().prisma, pid) } };
    };
    const sorted = await outcome('sorted', HISTORY);
    const mixed = await outcome('shuffled', shuffled);
    expect(sorted.result).toMatchObject({ rows: 15, booked: 12, replayed: 0, rejected: 3 });
    expect(mixed.result).toMatchObject({ rows: 15, booked: 12, replayed: 0, rejected: 3 });
    expect(sorted.rejected).toEqual(HISTORY_REJECTED);
    expect(mixed.rejected.slice().sort()).toEqual(HISTORY_REJECTED);
    expect(mixed.result.errors.map((e) => e.line)).toEqual(mixed.result.errors.map((e) => e.line).sort((a, b) => a - b));
    expect(mixed.result.errors.find((e) => e.line === shuffled.indexOf(HISTORY[6]!) + 2)!.message).toMatch(/short by 970/);
    // FIFO: 01-10 sells the 01-03 lot and half the 01-10 one; 20 and 10 more of it go before the split doubles it to 40; 05-01 sells those 40 and 10 of the 04-02 lot.
    expect(sorted.state.cash).toEqual({ USD: '48891' });
    expect(sorted.state.lots.map((l) => [l.symbol, l.acquiredOn, l.qtyOpen, l.costBasis])).toEqual([
      ['ORDA', '2024-01-03', '0', '0'],
      ['ORDA', '2024-01-10', '0', '0'],
      ['ORDB', '2024-02-01', '30', '1500'],
      ['ORDA', '2024-04-02', '10', '60'],
    ]);
    expect(mixed.state).toEqual(sorted.state);
    // A re-run of the shuffled file books nothing twice; the oversell is now refused behind the later SELLs booked.
    const again = await importTransactions(server.app.services.ledger, ctx, mixed.csv, mixed.pid);
    expect(again).toMatchObject({ rows: 15, booked: 0, replayed: 12, rejected: 3 });
    expect(again.errors.map((e) => e.line)).toEqual(mixed.result.errors.map((e) => e.line));
    expect(await cash(db().prisma, mixed.pid)).toEqual(sorted.state.cash);
  });

  // A separate process reaches the test database only on PostgreSQL (PGlite here is in memory).
  if (engine !== 'postgres') return;

  test('npm run import:transactions books a file as the portfolio\'s owner, shows progress, lists rejected rows by line with exit code 2, and a re-run books nothing twice', async () => {
    const pid = await createPortfolio(server.url, key, 'import cli');
    const cli = () =>
      run('npx', ['tsx', 'scripts/import-transactions.ts', file, '--portfolio', pid], { env: { ...process.env, DATABASE_URL: db().url, NODE_OPTIONS: '' } }).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const first = await cli();
    expect((first as { code?: number }).code).toBe(2);
    expect(JSON.parse(first.stdout.trim())).toMatchObject({ portfolio: pid, rows: 10, booked: 6, alreadyBooked: 0, rejected: 4 });
    expect(first.stderr).toMatch(/transactions: 10 rows \(100\.0%\), 6 booked, 0 already booked, 4 rejected/);
    expect(first.stderr.match(/^line \d+/gm)).toEqual(['line 6', 'line 7', 'line 8', 'line 9']);
    expect(first.stderr).toMatch(/line 6: .*short by 4700/);
    const audit = await db().prisma.auditLog.findMany({ where: { portfolioId: pid, action: 'transaction.record' } });
    expect(audit.map((a) => a.actorUserId)).toEqual(Array(6).fill(userId));
    const again = await cli();
    expect((again as { code?: number }).code).toBe(2);
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ rows: 10, booked: 0, alreadyBooked: 6, rejected: 4 });
    expect(await db().prisma.transaction.count({ where: { portfolioId: pid } })).toBe(6);
    expect(await cash(db().prisma, pid)).toEqual({ USD: String(10000 - 3003 + 30) });
  }, 60_000);
});
