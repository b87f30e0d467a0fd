import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm' with { 'resolution-mode': 'import' };
import { openDatabase, type Database } from './client';
import { openSchemaEngine } from './schema-engine';

/*
 * Migrations stay in Prisma's own folder format, so that `prisma migrate deploy` on a
 * machine that reaches Prisma's binaries gives the same database as this runner.
 */
export const PRISMA_DIR = path.resolve(__dirname, '../../prisma');
const SCHEMA_PATH = path.join(PRISMA_DIR, 'schema.prisma');
const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');
const NO_FILTERS = { externalTables: [], externalEnums: [] };

async function readDatamodel() {
  return { path: SCHEMA_PATH, content: await readFile(SCHEMA_PATH, 'utf8') };
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const lockPath = path.join(dir, 'migration_lock.toml');
  return {
    baseDir: dir,
    lockfile: { path: lockPath, content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: await readFile(path.join(dir, name, 'migration.sql'), 'utf8') },
        },
      })),
    ),
  };
}

/** Names recorded as applied; empty on a database that was never migrated. */
async function appliedNames(db: Database): Promise<Set<string>> {
  try {
    const rows = await db.prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    return new Set(rows.map((r) => r.migration_name));
  } catch {
    return new Set();
  }
}

/** `migrate deploy`: applies what is not yet recorded in `_prisma_migrations`. */
export async function applyMigrations(db: Database): Promise<string[]> {
  const migrationsList = await readMigrations();
  // Most starts have nothing to apply; they skip loading the WebAssembly engine (about a second).
  const applied = await appliedNames(db);
  if (migrationsList.migrationDirectories.every((m) => applied.has(m.path))) return [];
  const { engine, close } = await openSchemaEngine(db.adapterFactory, await readDatamodel());
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    return appliedMigrationNames;
  } finally {
    await close();
  }
}

/**
 * What the schema engine proposes for hand-written SQL that schema.prisma cannot express
 * and that is meant to stay: Prisma reads an index's INCLUDE columns as key columns
 * (prisma/orm#8547, #8584) and would rebuild the covering unique index of price_bars
 * (migration 20261201074000_price_bars_close_cover) without its close. Left out of the
 * diff verbatim, so that any other difference still shows; as two steps, since the engine
 * puts its other changes between them (drops first, creates later).
 */
const HAND_WRITTEN = [
  `-- DropIndex
DROP INDEX "price_bars_security_id_timeframe_ts_key";
`,
  `-- CreateIndex
CREATE UNIQUE INDEX "price_bars_security_id_timeframe_ts_key" ON "price_bars"("security_id", "timeframe", "ts");
`,
];

/**
 * The SQL that would take a database built from the migrations to what schema.prisma
 * describes; empty when they agree (HAND_WRITTEN apart). The migrations are replayed in an
 * in-memory PGlite shadow database, so this never touches a live one.
 */
export async function pendingSchemaChange(): Promise<string> {
  const shadowHost = await openDatabase({ dataDir: 'memory://' });
  const datamodel = await readDatamodel();
  const { engine, close } = await openSchemaEngine(shadowHost.adapterFactory, datamodel);
  try {
    const { exitCode, stdout } = await engine.diff({
      from: { tag: 'migrations', ...(await readMigrations()) },
      to: { tag: 'schemaDatamodel', files: [datamodel] },
      script: true,
      exitCode: true,
      filters: NO_FILTERS,
    });
    if (exitCode === 0) return '';
    const sql = HAND_WRITTEN.reduce((rest, known) => rest.replace(known, ''), stdout ?? '');
    return sql.trim() ? sql : '';
  } finally {
    await close();
    await shadowHost.close();
  }
}

/** `migrate dev --create-only`: writes the pending change as a new migration folder. */
export async function createMigration(name: string): Promise<string | undefined> {
  const sql = await pendingSchemaChange();
  if (!sql.trim()) return undefined;
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const folder = path.join(MIGRATIONS_DIR, `${stamp}_${name.replace(/[^a-z0-9_]+/gi, '_').toLowerCase()}`);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'migration.sql'), sql);
  return folder;
}
