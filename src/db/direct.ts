import type pg from 'pg';
import type { Prisma } from '../generated/prisma/client';
import { statementName } from './prepared';

/*
 * The fill's own statements (TradingService.readFillTarget, LedgerService.book on the unlocked
 * path) straight on the pool that Prisma's PostgreSQL adapter uses, past Prisma's client: for
 * a raw statement its request pipeline (the request's serialisation, the interpreter, the
 * result's mapping) cost several times the driver's own CPU, and the fast path of a fill is
 * two such statements. Same pool, so the same connections, principal switch
 * (src/db/principal-pool.ts) and prepared statements (src/db/prepared.ts).
 *
 * Only for a client that openDatabase made on PostgreSQL, and not inside a transaction: a
 * transaction's statements must go on its connection, so `q` being a transaction's client
 * (or a client without a pool here, as on PGlite, where a Prisma transaction may hold the one
 * connection) sends the statement through Prisma as before.
 */
const pools = new WeakMap<object, pg.Pool>();

export function useDirectPool(prisma: object, pool: pg.Pool): void {
  pools.set(prisma, pool);
}

interface RawClient {
  $queryRaw<T = unknown>(query: Prisma.Sql): Prisma.PrismaPromise<T>;
  $executeRaw(query: Prisma.Sql): Prisma.PrismaPromise<number>;
}

/*
 * Columns as Prisma's raw queries give them for what these statements select: booleans and
 * JSON parsed, everything else as the server's text (the statements cast numbers and dates
 * to text themselves). PostgreSQL errors come as the driver's (`isUniqueViolation` knows both).
 */
const BOOL = 16;
const JSON_OID = 114;
const JSONB = 3802;
const asText = (v: string) => v;
const types = {
  getTypeParser: (oid: number) => (oid === BOOL ? (v: string) => v === 't' : oid === JSON_OID || oid === JSONB ? JSON.parse : asText),
} as pg.CustomTypesConfig;

function run(pool: pg.Pool, sql: Prisma.Sql): Promise<pg.QueryResult> {
  return pool.query({ name: statementName({ sql: sql.text }), text: sql.text, values: sql.values as unknown[], types });
}

/** `q.$queryRaw(sql)`, on the driver when `q` is a pooled PostgreSQL client outside a transaction. */
export async function queryRows<T>(q: RawClient, sql: Prisma.Sql): Promise<T[]> {
  const pool = pools.get(q);
  return pool ? ((await run(pool, sql)).rows as T[]) : q.$queryRaw<T[]>(sql);
}

/** `q.$executeRaw(sql)`: the number of rows the statement changed. */
export async function executeRows(q: RawClient, sql: Prisma.Sql): Promise<number> {
  const pool = pools.get(q);
  return pool ? ((await run(pool, sql)).rowCount ?? 0) : q.$executeRaw(sql);
}
