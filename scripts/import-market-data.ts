// Usage: npm run import:prices -- <file.csv>   |   npm run import:fx -- <file.csv>
// Streams the file into the database of DATABASE_URL, as the application role (COPY on PostgreSQL), or the embedded
// one in DATA_DIR, with progress on stderr. Exit code 0 when every row landed, 2 when some
// were rejected (listed), 1 on failure. With REDIS_URL, each committed batch is announced to
// the running servers (prices.ingested / fx.ingested), as the mutations announce theirs.
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/client';
import pino from 'pino';
import { createEventBus } from '../src/events/redis-bus';
import { MarketImporter, type ImportProgress } from '../src/services/market-import';

async function main() {
  const [kind, file] = process.argv.slice(2);
  if ((kind !== 'prices' && kind !== 'fx') || !file) throw new Error('usage: npm run import:prices -- <file.csv>  or  npm run import:fx -- <file.csv>');
  const config = loadConfig();
  const db = await openDatabase(config.databaseAppUrl ? { url: config.databaseAppUrl } : { dataDir: config.dataDir });
  // Bus warnings go to stderr with the progress: stdout holds the result line alone.
  const bus = await createEventBus(config.redisUrl, pino({ level: 'warn' }, pino.destination(2)));
  let last = 0;
  const progress = (p: ImportProgress) => {
    if (Date.now() - last < 1000 && p.bytes < p.totalBytes) return;
    last = Date.now();
    const pct = p.totalBytes ? ((100 * p.bytes) / p.totalBytes).toFixed(1) : '100';
    const rate = Math.round(p.rows / Math.max(p.elapsedMs / 1000, 0.001));
    process.stderr.write(`\r${kind}: ${p.rows.toLocaleString('en')} rows (${pct}%), ${p.accepted.toLocaleString('en')} accepted, ${p.rejected} rejected, ${rate.toLocaleString('en')} rows/s   `);
  };
  try {
    const importer = new MarketImporter(db.prisma, { pgUrl: config.databaseAppUrl, onProgress: progress, bus });
    const r = kind === 'prices' ? await importer.importPrices(file) : await importer.importFx(file);
    process.stderr.write('\n');
    for (const e of r.errors.slice(0, 50)) console.error(`line ${e.index}: ${e.message}`);
    if (r.rejected > 50) console.error(`… and ${r.rejected - 50} more rejected rows`);
    console.log(JSON.stringify({ file, rows: r.rows, accepted: r.accepted, rejected: r.rejected, seconds: r.elapsedMs / 1000, rowsPerSecond: Math.round(r.rows / (r.elapsedMs / 1000)) }));
    process.exitCode = r.rejected ? 2 : 0;
  } finally {
    await bus.close?.();
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
