import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../../src/generated/prisma/client';
import type { Database } from '../../src/db/client';

/**
 * Counts every SQL statement Prisma sends, by wrapping the driver adapter it talks to
 * (Prisma 7 with adapters has no `$on('query')`). Statements inside transactions count too.
 * The returned Database shares the engine (the same PGlite instance, or the same
 * PostgreSQL database through a new pool) with the one it wraps.
 */
export interface CountingDatabase {
  db: Database;
  statements: string[];
  reset(): void;
  close(): Promise<void>;
}

export function countQueries(base: Database): CountingDatabase {
  const statements: string[] = [];
  const wrap = <T extends { queryRaw(q: SqlQuery): Promise<unknown>; executeRaw(q: SqlQuery): Promise<number> }>(target: T): T => {
    const queryRaw = target.queryRaw.bind(target);
    const executeRaw = target.executeRaw.bind(target);
    target.queryRaw = ((q: SqlQuery) => {
      statements.push(q.sql);
      return queryRaw(q);
    }) as T['queryRaw'];
    target.executeRaw = (q: SqlQuery) => {
      statements.push(q.sql);
      return executeRaw(q);
    };
    return target;
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: base.adapterFactory.provider,
    adapterName: base.adapterFactory.adapterName,
    connect: async () => {
      const adapter: SqlDriverAdapter = wrap(await base.adapterFactory.connect());
      const start = adapter.startTransaction.bind(adapter);
      adapter.startTransaction = async (level) => wrap<Transaction>(await start(level));
      return adapter;
    },
    connectToShadowDb: () => base.adapterFactory.connectToShadowDb(),
  };
  const prisma = new PrismaClient({ adapter: factory });
  return {
    db: { ...base, prisma, close: () => prisma.$disconnect() },
    statements,
    reset: () => {
      statements.length = 0;
    },
    close: () => prisma.$disconnect(),
  };
}
