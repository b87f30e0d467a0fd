import { Client } from 'pg';

/**
 * Decides once per run whether the PostgreSQL suites run. Without a reachable server
 * they are skipped, and the run says so plainly.
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
}
