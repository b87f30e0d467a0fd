import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';

/**
 * Once per run: decides whether the PostgreSQL suites run (without a reachable server
 * they are skipped, and the run says so plainly), then builds the migrated templates
 * that each test file copies (test/support/prepare-templates.ts).
 */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.FOLIOGRAPH_TEST_PG = url;
  } catch (err) {
    process.env.FOLIOGRAPH_TEST_PG = '';
    process.stdout.write(
      `\n[foliograph] PostgreSQL is not reachable at ${url} (${(err as Error).message}).\n` +
        '[foliograph] SKIPPING the PostgreSQL integration suites; the PGlite suites still run.\n' +
        '[foliograph] Set TEST_DATABASE_URL or start PostgreSQL to run them (.ci/run does).\n\n',
    );
  } finally {
    await client.end().catch(() => undefined);
  }

  const root = path.resolve(__dirname, '../..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/support/prepare-templates.ts'], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const templates = JSON.parse(out.trim().split('\n').pop()!) as { pglite: string; postgres: string | null };
  process.env.FOLIOGRAPH_TEST_PGLITE_TEMPLATE = templates.pglite;
  process.env.FOLIOGRAPH_TEST_PG_TEMPLATE = templates.postgres ?? '';
}
