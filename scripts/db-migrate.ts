// Usage: npm run db:migrate — applies pending migrations to DATABASE_URL, or to the
// embedded database in DATA_DIR when DATABASE_URL is unset (what `npm start` does first).
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/client';
import { applyMigrations } from '../src/db/migrate';

async function main() {
  const config = loadConfig();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await applyMigrations(db);
    console.log(applied.length ? `applied ${applied.join(', ')} on ${db.engine}` : `${db.engine}: already up to date`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
