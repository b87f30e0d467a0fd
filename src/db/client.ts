import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import { PrincipalPool } from './principal-pool';
import { currentPrincipal, withPrincipal } from './principal';
import { statementName } from './prepared';
import { useDirectPool } from './direct';

export type Engine = 'postgres' | 'pglite';

export interface Database {
  prisma: PrismaClient;
  engine: Engine;
  /** The same adapter factory Prisma uses, handed to the schema engine for migrations. */
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** The embedded engine itself, on PGlite. */
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgresql://…` selects PostgreSQL; otherwise embedded PGlite in `dataDir`. */
  url?: string;
  /** A directory, or `memory://` for a throwaway database. */
  dataDir?: string;
  /** Connection pool size on PostgreSQL. */
  poolSize?: number;
  /** PGlite only: start from this dump (`dumpDataDir`) instead of an empty cluster. */
  loadDataDir?: Blob;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new PrincipalPool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // An idle connection the server ends (a restart, a dropped database) leaves the pool, which opens
    // another when asked; Prisma listens only while its adapter is connected, this covers the rest.
    pool.on('error', () => undefined);
    const adapterFactory = wholeScripts(new PrismaPg(pool, { statementNameGenerator: statementName as (query: { sql: string }) => string }));
    const prisma = new PrismaClient({ adapter: adapterFactory });
    batchPerPrincipal(prisma);
    useDirectPool(prisma, pool);
    return {
      prisma,
      engine: 'postgres',
      adapterFactory,
      close: async () => {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  }
  const pglite = new PGlite(options.dataDir ?? 'memory://', options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  await pglite.waitReady;
  const adapterFactory = wholeScripts(new PrismaPGlite(pglite));
  const prisma = new PrismaClient({ adapter: adapterFactory });
  return {
    prisma,
    engine: 'pglite',
    adapterFactory,
    pglite,
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

/*
 * Prisma batches the findUnique calls made in one tick into one query, run from the first
 * caller's context: calls of different principals would share one principal. Batches are kept
 * apart per principal, and each runs under its own. This reaches into Prisma's request handler
 * (7.10); if that changes shape, opening the database fails here rather than mixing principals.
 */
type Loader = { batchBy(req: object): string | undefined; singleLoader(req: object): Promise<unknown>; batchLoader(reqs: object[]): Promise<unknown> };

function batchPerPrincipal(prisma: PrismaClient): void {
  const loader = (prisma as unknown as { _requestHandler?: { dataloader?: { options?: Loader } } })._requestHandler?.dataloader?.options;
  if (!loader || typeof loader.batchBy !== 'function' || typeof loader.singleLoader !== 'function' || typeof loader.batchLoader !== 'function') {
    throw new Error("Prisma's request batching is not the one src/db/client.ts knows: cannot keep principals apart");
  }
  const { batchBy, singleLoader, batchLoader } = { batchBy: loader.batchBy.bind(loader), singleLoader: loader.singleLoader.bind(loader), batchLoader: loader.batchLoader.bind(loader) };
  const principalOf = new WeakMap<object, string>();
  loader.batchBy = (req) => {
    const key = batchBy(req);
    if (!key) return key;
    const principal = currentPrincipal();
    principalOf.set(req, principal);
    return `${key}\0${principal}`;
  };
  loader.singleLoader = (req) => {
    const principal = principalOf.get(req);
    return principal === undefined ? singleLoader(req) : withPrincipal(principal, () => singleLoader(req));
  };
  loader.batchLoader = (reqs) => withPrincipal(principalOf.get(reqs[0]!) ?? '', () => batchLoader(reqs));
}

/*
 * Migration scripts must reach the server whole, as the native schema engine sends them.
 * The adapters' own executeScript falls short for migrations: @prisma/adapter-pg 7.10
 * splits the script on every ";" (breaking a plpgsql function body), and
 * pglite-prisma-adapter 0.7 starts `exec` without awaiting it (a failing script would
 * be reported as applied). The schema engine is the only caller of executeScript.
 */
function wholeScripts(factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  const fix = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    const client = (adapter as unknown as { client: { exec?(sql: string): Promise<unknown>; query(sql: string): Promise<unknown> } }).client;
    adapter.executeScript = async (script: string) => {
      await (client.exec ? client.exec(script) : client.query(script));
    };
    return adapter;
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => fix(await factory.connect()),
    connectToShadowDb: async () => fix(await factory.connectToShadowDb()),
  };
}
