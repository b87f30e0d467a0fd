/* What every benchmark needs: a fresh migrated PostgreSQL database (opened as the application
 * role, as the server runs), the real server on it with a MANAGER key, a median, and a line
 * naming the machine. */
import os from 'node:os';
import { Client } from 'pg';
import { openDatabase, type Database } from '../src/db/client';
import { appRoleUrl } from '../src/db/app-role';
import { asSystem } from '../src/db/principal';
import { applyMigrations } from '../src/db/migrate';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createApp, type App } from '../src/server/app';
import type { ServiceContext } from '../src/services';
import { D } from '../src/domain/decimal';

export const ADMIN_URL = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const SYSTEM: ServiceContext = { actor: { userId: '00000000-0000-0000-0000-000000000000', role: 'ADMIN', apiKeyId: null }, meta: { requestId: 'bench' } };

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface BenchDatabase {
  /** As the application role: row-level security applies. */
  db: Database;
  /** The superuser's connection string (raw baselines, DDL). */
  url: string;
  /** The application role's connection string. */
  appUrl: string;
  /** The same database as the superuser, whom PostgreSQL holds to no policy: the no-row-level-security baseline. */
  superuser(): Promise<Database>;
  pgVersion: string;
  /** Drops the database unless KEEP_DB is set. */
  drop(): Promise<void>;
}

export async function benchDatabase(prefix: string, poolSize = 10): Promise<BenchDatabase> {
  const name = `fg_bench_${prefix}_${process.pid}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const migrator = await openDatabase({ url: u.toString() });
  await applyMigrations(migrator);
  await migrator.close();
  const db = await openDatabase({ url: appRoleUrl(u.toString()), poolSize });
  const pgVersion = (await db.prisma.$queryRawUnsafe<{ v: string }[]>("SELECT current_setting('server_version') AS v"))[0]!.v;
  return {
    db,
    url: u.toString(),
    appUrl: appRoleUrl(u.toString()),
    superuser: () => openDatabase({ url: u.toString(), poolSize }),
    pgVersion,
    drop: async () => {
      await db.close();
      if (process.env.KEEP_DB) console.log(`kept database ${name}`);
      else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export function machineLine(pgVersion?: string): string {
  const cpus = os.cpus();
  return `machine: ${cpus.length} vCPU ${cpus[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}${pgVersion ? `, PostgreSQL ${pgVersion}` : ''}; load ${os.loadavg()[0]!.toFixed(2)}`;
}

export interface BenchServer {
  app: App;
  url: string;
  key: string;
  /** The MANAGER's own context, for calling services directly. */
  ctx: ServiceContext;
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

/** The real server on `bench`'s database, rate limits off, with a MANAGER and their API key. */
export async function benchServer(bench: BenchDatabase, env: Record<string, string> = {}): Promise<BenchServer> {
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: bench.url, RATE_LIMIT_PER_KEY: '0', RATE_LIMIT_PER_IP: '0', ...env });
  const app = await createApp({ config, db: bench.db, log: createLogger('silent') });
  const port = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/graphql`;
  const user = await asSystem(() => app.services.identity.createUser(SYSTEM, { email: 'bench@bench.local', role: 'MANAGER' }));
  const key = (await asSystem(() => app.services.identity.createApiKey(SYSTEM, { name: 'bench', userId: user.id }))).key;
  return {
    app,
    url,
    key,
    ctx: { actor: { userId: user.id, role: 'MANAGER', apiKeyId: null }, meta: { requestId: 'bench' } },
    gql: async (query, variables) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as { data?: any; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
      return body.data;
    },
    close: () => app.stop(),
  };
}

export const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'];
export const benchSymbol = (i: number) => `B${String(i).padStart(4, '0')}`;

/** `n` securities spread over four currencies, eleven sectors and four countries. */
export async function createBenchSecurities(db: Database, n = 1000): Promise<void> {
  await db.prisma.security.createMany({
    data: Array.from({ length: n }, (_, i) => ({ symbol: benchSymbol(i), name: `Bench ${i}`, currency: CURRENCIES[i % 4]!, sector: `S${i % 11}`, country: ['US', 'DE', 'GB', 'JP'][i % 4]! })),
  });
}

/** A EUR portfolio holding each of the first 1,000 bench securities (issue 4's valuation target). */
export async function seedThousandPositions(server: BenchServer, date: string): Promise<{ id: string }> {
  const { app, ctx } = server;
  const big = await app.services.portfolios.create(ctx, { name: 'Thousand', baseCurrency: 'EUR' });
  await app.services.ledger.record(ctx, { portfolioId: big.id, type: 'DEPOSIT', date, amount: new D(50_000_000), currency: 'EUR' });
  for (let s = 0; s < 1000; s++) await app.services.ledger.record(ctx, { portfolioId: big.id, type: 'BUY', date, symbol: benchSymbol(s), quantity: new D(100 + s), price: new D('10.5') });
  return big;
}

export const VALUATION_QUERY = `query($id: ID!) { portfolio(id: $id) { valuation { nav positionsValue cashValue complete holdings { symbol quantity price marketValue marketValueBase costBasis unrealizedPnl weight pricingStatus } cash { currency balanceBase } } } }`;

/** The valuation's baseline: one SQL statement summing qty × quote × FX of the same lots ($1 = portfolio id). */
export const VALUATION_SUM_SQL = `
  SELECT sum(l.qty_open * q.price * CASE s.currency WHEN 'EUR' THEN 1
           WHEN 'USD' THEN 1 / (SELECT rate FROM fx_rates WHERE base = 'EUR' AND quote = 'USD' ORDER BY date DESC LIMIT 1)
           WHEN 'GBP' THEN (SELECT rate FROM fx_rates WHERE base = 'GBP' AND quote = 'USD' ORDER BY date DESC LIMIT 1) / (SELECT rate FROM fx_rates WHERE base = 'EUR' AND quote = 'USD' ORDER BY date DESC LIMIT 1)
           ELSE 1 / ((SELECT rate FROM fx_rates WHERE base = 'USD' AND quote = 'JPY' ORDER BY date DESC LIMIT 1) * (SELECT rate FROM fx_rates WHERE base = 'EUR' AND quote = 'USD' ORDER BY date DESC LIMIT 1)) END)
  FROM lots l JOIN securities s ON s.id = l.security_id JOIN quotes q ON q.security_id = l.security_id WHERE l.portfolio_id = $1::uuid AND l.qty_open <> 0`;
