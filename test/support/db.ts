import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { openDatabase, type Database, type Engine } from '../../src/db/client';
import { applyMigrations } from '../../src/db/migrate';
import { appRoleUrl } from '../../src/db/app-role';

/** The engines this run covers: PGlite always, PostgreSQL when global-setup reached it. */
export function testEngines(): Engine[] {
  return process.env.FOLIOGRAPH_TEST_PG ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends Database {
  /** The connection string on PostgreSQL, as the application role (for spawned processes), undefined on PGlite. */
  url?: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A fresh, migrated database per test file: in-memory PGlite, or a new database on the
 * PostgreSQL server that is dropped afterwards. Nothing is shared between files. Both are
 * copies of a template that global-setup migrated once for the run.
 */
export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const template = process.env.FOLIOGRAPH_TEST_PGLITE_TEMPLATE;
    const db = await openDatabase({ dataDir: 'memory://', loadDataDir: template ? new Blob([readFileSync(template)]) : undefined });
    if (!template) await applyMigrations(db);
    return { ...db, drop: () => db.close() };
  }
  const admin = process.env.FOLIOGRAPH_TEST_PG;
  if (!admin) throw new Error('PostgreSQL is not available for tests');
  const name = `fg_test_${randomBytes(6).toString('hex')}`;
  const exec = async (sql: string) => {
    const client = new Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const template = process.env.FOLIOGRAPH_TEST_PG_TEMPLATE;
  await exec(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
  if (!template) {
    const migrator = await openDatabase({ url: withDatabase(admin, name) });
    await applyMigrations(migrator);
    await migrator.close();
  }
  // As the server runs in production: the application role, held to row-level security.
  const url = appRoleUrl(withDatabase(admin, name));
  const db = await openDatabase({ url, poolSize: 20 });
  return {
    ...db,
    url,
    drop: async () => {
      await db.close();
      await exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** `describe` once per engine, with a fresh database for each. */
export function describeEachEngine(title: string, body: (get: () => TestDatabase, engine: Engine) => void): void {
  for (const engine of testEngines()) {
    describe(`${title} [${engine}]`, () => {
      let db: TestDatabase | undefined;
      beforeAll(async () => {
        db = await createTestDatabase(engine);
      }, 60_000);
      afterAll(async () => {
        await db?.drop();
      });
      body(() => {
        if (!db) throw new Error('database not ready');
        return db;
      }, engine);
    });
  }
}
