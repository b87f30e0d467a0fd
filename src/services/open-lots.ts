import { Prisma } from '../generated/prisma/client';
import { D } from '../domain/decimal';
import type { Lot } from '../domain/lots';

/** An open lot as openLotsSql gives it: the database's text of each number and date. */
export interface OpenLotJson {
  id: string;
  q0: string;
  q: string;
  c: string;
  d: string;
}

/**
 * SQL for the open lots of `securityId` in `portfolioId` that a booking of `side` touches, oldest
 * first, then in booking order (the order the lot engine breaks ties in), as one JSON array: a BUY
 * only ever touches short lots (it covers them) and a SELL only long ones, so only those are read;
 * a SPLIT reads both. One JSON value rather than a row per lot: Prisma's per-row, per-column
 * handling of a thousand rows costs more than the database building the array. A subquery, so a
 * booking's other reads under the lock share its statement (inDateOrder, readFillTarget).
 */
export function openLotsSql(portfolioId: Prisma.Sql, securityId: Prisma.Sql, side: 'BUY' | 'SELL' | 'SPLIT'): Prisma.Sql {
  // Written out per side, not as sign(qty_open) = $n: a BUY's `qty_open < 0` is the predicate
  // of the partial index of open short lots, which spares it visiting every open long lot.
  const sign = side === 'BUY' ? Prisma.sql`AND l.qty_open < 0` : side === 'SELL' ? Prisma.sql`AND l.qty_open > 0` : Prisma.empty;
  return Prisma.sql`(SELECT coalesce(json_agg(json_build_object('id', l.id, 'q0', l.qty_original::text, 'q', l.qty_open::text, 'c', l.cost_basis::text, 'd', l.acquired_on::text)
                                       ORDER BY l.acquired_on, l.created_at, l.id), '[]')
                FROM lots l WHERE l.portfolio_id = ${portfolioId} AND l.security_id = ${securityId} AND l.closed_on IS NULL ${sign})`;
}

/** openLotsSql's JSON as the lot engine's lots. */
export function lotsFromJson(rows: readonly OpenLotJson[]): Lot[] {
  return rows.map((r) => ({ id: r.id, qtyOriginal: new D(r.q0), qtyOpen: new D(r.q), costBasis: new D(r.c), acquiredOn: r.d }));
}
