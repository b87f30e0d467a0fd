// Usage: npm run import:transactions -- <file.csv> --portfolio <id>
// Books a CSV of transactions (columns: src/services/transaction-import.ts, README) into the
// database of DATABASE_URL or the embedded one in DATA_DIR, through the ledger service, as
// the portfolio's owner, in date order whatever the file's order. Progress on stderr. Idempotent: a re-run books nothing twice.
// Exit code 0 when every row was booked or already there, 2 when some were rejected
// (listed by line number), 1 on failure.
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/client';
import { LocalEventBus } from '../src/events/bus';
import { createServices } from '../src/services';
import { isUuid } from '../src/services/validate';
import { importTransactions, type ImportProgress } from '../src/services/transaction-import';
import { asSystem, asUser } from '../src/db/principal';

function args(argv: string[]): { file: string; portfolioId: string } {
  let file: string | undefined;
  let portfolioId: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--portfolio') portfolioId = argv[++i];
    else if (argv[i]!.startsWith('--portfolio=')) portfolioId = argv[i]!.slice('--portfolio='.length);
    else file = argv[i];
  }
  if (!file || !portfolioId) throw new Error('usage: npm run import:transactions -- <file.csv> --portfolio <id>');
  return { file, portfolioId };
}

async function main(): Promise<number> {
  const { file, portfolioId } = args(process.argv.slice(2));
  const config = loadConfig();
  const db = await openDatabase(config.databaseAppUrl ? { url: config.databaseAppUrl } : { dataDir: config.dataDir });
  try {
    // Whose portfolio it is, asked for the system; the booking then runs as that owner.
    const portfolio = isUuid(portfolioId) ? await asSystem(() => db.prisma.portfolio.findUnique({ where: { id: portfolioId }, include: { owner: true } })) : null;
    if (!portfolio) throw new Error(`portfolio ${portfolioId} not found`);
    const services = createServices(db.prisma, new LocalEventBus());
    const ctx = { actor: { userId: portfolio.ownerId, role: portfolio.owner.role, apiKeyId: null }, meta: { requestId: `import-transactions-${Date.now()}` } };
    let last = 0;
    const progress = (p: ImportProgress) => {
      // Reading: the share of the file read; booking (in date order, after the whole file is read): of the rows settled.
      const done = p.phase === 'reading' ? p.bytes / (p.totalBytes || 1) : p.rows ? (p.booked + p.replayed + p.rejected) / p.rows : 1;
      if (Date.now() - last < 1000 && !(p.phase === 'booking' && done >= 1)) return;
      last = Date.now();
      const pct = Math.min(100, 100 * done).toFixed(1);
      process.stderr.write(
        p.phase === 'reading'
          ? `\rreading: ${p.rows} rows (${pct}%), ${p.rejected} rejected   `
          : `\rtransactions: ${p.rows} rows (${pct}%), ${p.booked} booked, ${p.replayed} already booked, ${p.rejected} rejected   `,
      );
    };
    const r = await asUser(portfolio.ownerId, () => importTransactions(services.ledger, ctx, file, portfolio.id, progress));
    process.stderr.write('\n');
    for (const e of r.errors.slice(0, 100)) console.error(`line ${e.line}: ${e.message}`);
    if (r.errors.length > 100) console.error(`… and ${r.errors.length - 100} more rejected rows`);
    console.log(JSON.stringify({ file, portfolio: portfolio.id, rows: r.rows, booked: r.booked, alreadyBooked: r.replayed, rejected: r.rejected, seconds: r.elapsedMs / 1000 }));
    return r.rejected ? 2 : 0;
  } finally {
    await db.close();
  }
}

// PGlite's shutdown resets process.exitCode: exit explicitly.
main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
