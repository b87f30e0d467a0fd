import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { openDatabase } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { DEMO_API_KEY, DEMO_USER } from '../db/demo-data';
import { createApp } from './app';
import { seedDemo } from './demo';
import { startMarketSimulator } from './simulator';
import { PaperBroker } from '../services/paper-broker';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Services } from '../services';
import { asSystem } from '../db/principal';

/** `npm start`: migrate, bootstrap, seed the demo when asked, serve; stop cleanly on SIGTERM/SIGINT. */
async function main() {
  const bootStarted = Date.now();
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const migrator = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const applied = await applyMigrations(migrator);
  if (applied.length) log.info({ applied, engine: migrator.engine }, 'migrations applied');
  // On PostgreSQL the server runs as the application role, held to row-level security; PGlite has one connection.
  let db = migrator;
  if (config.databaseAppUrl) {
    await migrator.close();
    db = await openDatabase({ url: config.databaseAppUrl });
  }

  const app = await createApp({ config, db, log });
  if (config.bootstrapApiKey) {
    await app.services.identity.ensureKey({ actor: null, meta: { requestId: 'bootstrap' } }, config.bootstrapApiKey, { email: 'admin@foliograph.local', role: 'ADMIN', name: 'Administrator' }, 'bootstrap key');
  }
  // Seeding writes the demo user's portfolios before anyone signs in: for the system.
  if (config.seedDemo) await asSystem(() => seedDemo(app.services, async () => (await db.prisma.security.count()) === 0, log));
  const stopSimulator = config.marketSimulator ? await demoMarket(app.services, db, log, config.marketSimulatorIntervalMs) : () => undefined;
  const stopBroker = config.paperBroker ? new PaperBroker(db.prisma, app.bus, app.services.trading, log, config.orderDayClose).start() : () => undefined;

  const port = await app.listen(config.port);
  log.info({ port, engine: db.engine, dataDir: db.engine === 'pglite' ? config.dataDir : undefined, ms: Date.now() - bootStarted }, 'listening');
  if (config.seedDemo) printWelcome(port);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000).unref();
    stopSimulator();
    stopBroker();
    await app.stop();
    await db.close();
    clearTimeout(force);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The simulator trades as the demo user, so its ticks are audited like any feed's. */
async function demoMarket(services: Services, db: Database, log: Logger, intervalMs: number): Promise<() => void> {
  const user = await db.prisma.user.findUnique({ where: { email: DEMO_USER.email } });
  if (!user) {
    log.warn('MARKET_SIMULATOR is on but there is no demo user (SEED_DEMO=0?): not started');
    return () => undefined;
  }
  return startMarketSimulator(services, db.prisma, { actor: { userId: user.id, role: user.role, apiKeyId: null }, meta: { requestId: 'market-simulator' } }, log, intervalMs);
}

function printWelcome(port: number) {
  const url = `http://localhost:${port}/graphql`;
  process.stdout.write(
    [
      '',
      `  Foliograph is serving the demo at ${url}`,
      `  Demo API key: ${DEMO_API_KEY}`,
      '',
      `  In a browser: the dashboard at http://localhost:${port}/ and the GraphQL IDE at ${url}`,
      '  (paste the demo key once; both keep it).',
      '',
      '  Try:',
      `  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${DEMO_API_KEY}' \\`,
      `    -d '{"query":"{ me { email role } portfolios { nodes { id name baseCurrency } } }"}'`,
      '',
    ].join('\n') + '\n',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
