// Run by global-setup in a child process, once per test run: builds migrated template
// databases that every test file then copies, instead of each file running the schema
// engine itself (slow, and its WebAssembly runtime keeps timers that hold jest open).
// Prints one JSON line: { pglite: <dump path>, postgres: <template database name> | null }.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openDatabase } from '../../src/db/client';
import { applyMigrations, PRISMA_DIR } from '../../src/db/migrate';

/** Changes whenever a migration does, so a template is rebuilt exactly when it must be. */
function migrationsHash(): string {
  const dir = path.join(PRISMA_DIR, 'migrations');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name, 'migration.sql');
    if (existsSync(file)) hash.update(name).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

async function pgliteTemplate(hash: string): Promise<string> {
  const file = path.join(tmpdir(), `foliograph-test-template-${hash}.tar.gz`);
  if (existsSync(file)) return file;
  const db = await openDatabase({ dataDir: 'memory://' });
  await applyMigrations(db);
  // Renamed only once complete, like the PostgreSQL template.
  writeFileSync(`${file}.${process.pid}`, await dumpOf(db));
  renameSync(`${file}.${process.pid}`, file);
  await db.close();
  return file;
}

async function dumpOf(db: Awaited<ReturnType<typeof openDatabase>>): Promise<Buffer> {
  if (!db.pglite) throw new Error('not a PGlite database');
  return Buffer.from(await (await db.pglite.dumpDataDir('gzip')).arrayBuffer());
}

async function postgresTemplate(adminUrl: string, hash: string): Promise<string> {
  const name = `fg_template_${hash}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return name;
    await admin.query(`CREATE DATABASE ${name}_building`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}_building`;
    const db = await openDatabase({ url: url.toString() });
    await applyMigrations(db);
    await db.close();
    // Renamed only once complete: an interrupted build never passes for a template.
    await admin.query(`ALTER DATABASE ${name}_building RENAME TO ${name}`);
    return name;
  } finally {
    await admin.end();
  }
}

async function main() {
  const hash = migrationsHash();
  const adminUrl = process.env.FOLIOGRAPH_TEST_PG;
  const result = { pglite: await pgliteTemplate(hash), postgres: adminUrl ? await postgresTemplate(adminUrl, hash) : null };
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
