import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeEachEngine } from '../support/db';
import { createUserWithKey, startTestServer, type TestServer } from '../support/server';
import { cash, createPortfolio, ensureSecurities, lots } from '../support/ledger';
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
