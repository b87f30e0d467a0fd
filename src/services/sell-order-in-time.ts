import { Prisma } from '../generated/prisma/client';
import type { DomainError } from '../domain/errors';
import type { Tx } from './db';
import type { BookingInput } from './ledger';
import { badInput } from './validate';

/** The latest SELL or SPLIT booked in a portfolio for a security after a date. */
export interface LaterRelief {
  id: string;
  type: string;
  date: string;
}

/** A SPLIT of a security booked in a portfolio, as a later BUY's restatement needs it. */
export interface LaterSplit {
  id: string;
  date: string;
  ratio: string;
}

/*
 * Booked history is not replayed, so what a booking does to the lots must be what booking in
 * date order would have done. The ledger's order is by date, and on one day trades before a
 * split (a SPLIT restates every lot acquired on or before its date, as the NAV replay does).
 *
 * A backdated SELL relieves the lots open now that were acquired on or before its date (the
 * lot engine leaves later ones alone). That is what replaying the ledger in date order would
 * give only while nothing in that order after it has changed those lots: a later SELL has
 * already relieved them by the cost-basis method (the earlier sale would have taken them first),
 * a SPLIT dated after it, or on its day, has restated their quantities in post-split shares.
 * A backdated SPLIT likewise: a later SELL relieved lots the split would have restated first,
 * a later SPLIT has restated them already. Then the booking is refused, naming the booking in
 * the way, rather than booked against the wrong lots. Both paths ask under the portfolio lock,
 * so no such booking can slip in between: recordTransaction here, a fill in the read it makes
 * anyway (TradingService.readFillTarget).
 *
 * A backdated BUY needs no refusal: the lot it opens is one no later booking has seen, and the
 * splits dated on or after its day are restated into it exactly as they would have been
 * (restateBySplits). Only short lots it would cover, which those splits have restated, cannot
 * be covered in pre-split shares; that is refused in the lot booking (LedgerService).
 */

/**
 * SQL for the latest SELL or SPLIT of `securityId` in `portfolioId` in the way of a SELL or SPLIT
 * dated `date` (a SELL or SPLIT dated after it, else a SPLIT on its day), as a JSON LaterRelief,
 * or NULL. An index range scan of the portfolio's transactions dated after `date`
 * (transactions_portfolio_id_trade_date_id_idx: for a sale dated today, next to nothing), and
 * only when it finds none a probe of the security's splits on `date` (transactions_split_idx).
 */
export function laterReliefSql(portfolioId: Prisma.Sql, securityId: Prisma.Sql, date: string): Prisma.Sql {
  const relief = Prisma.sql`json_build_object('id', t.id, 'type', t.type::text, 'date', t.trade_date::text)`;
  return Prisma.sql`COALESCE(
    (SELECT ${relief} FROM transactions t
      WHERE t.portfolio_id = ${portfolioId} AND t.trade_date > ${date}::date AND t.security_id = ${securityId} AND t.type IN ('SELL', 'SPLIT')
      ORDER BY t.trade_date DESC, t.created_at DESC LIMIT 1),
    (SELECT ${relief} FROM transactions t
      WHERE t.portfolio_id = ${portfolioId} AND t.security_id = ${securityId} AND t.trade_date = ${date}::date AND t.type = 'SPLIT'
      ORDER BY t.created_at DESC LIMIT 1))`;
}

/**
 * SQL for the SPLITs of `securityId` in `portfolioId` dated on or after a BUY's `date`, in the
 * order they were applied (date, then booking), as a JSON array of LaterSplit, or NULL: a scan
 * of the security's splits (transactions_split_idx), next to nothing to find.
 */
export function laterSplitsSql(portfolioId: Prisma.Sql, securityId: Prisma.Sql, date: string): Prisma.Sql {
  return Prisma.sql`(SELECT json_agg(json_build_object('id', t.id, 'date', t.trade_date::text, 'ratio', t.split_ratio::text) ORDER BY t.trade_date, t.created_at)
    FROM transactions t WHERE t.portfolio_id = ${portfolioId} AND t.security_id = ${securityId} AND t.trade_date >= ${date}::date AND t.type = 'SPLIT')`;
}

/** The refusal of a `type` (SELL or SPLIT) of `symbol` dated `date` behind `later`. */
export function behindLaterRelief(type: string, symbol: string, date: string, later: LaterRelief): DomainError {
  return badInput(
    `a ${type} of ${symbol} dated ${date} cannot be booked behind the ${later.type} dated ${later.date} (transaction ${later.id}): ` +
      `lots are relieved in date order and booked history is not replayed`,
  );
}

/** recordTransaction's SELL or SPLIT: refused behind a later SELL or SPLIT of its security. */
export async function refuseBehindLaterRelief(tx: Tx, portfolioId: string, b: BookingInput): Promise<void> {
  const [row] = await tx.$queryRaw<{ later: LaterRelief | null }[]>`
    SELECT ${laterReliefSql(Prisma.sql`${portfolioId}::uuid`, Prisma.sql`${b.security!.id}::uuid`, b.date)} AS later`;
  if (row?.later) throw behindLaterRelief(b.type, b.security!.symbol, b.date, row.later);
}

/** recordTransaction's BUY: the SPLITs of its security its lot is restated by (none: undefined). */
export async function laterSplits(tx: Tx, portfolioId: string, b: BookingInput): Promise<LaterSplit[] | undefined> {
  const [row] = await tx.$queryRaw<{ splits: LaterSplit[] | null }[]>`
    SELECT ${laterSplitsSql(Prisma.sql`${portfolioId}::uuid`, Prisma.sql`${b.security!.id}::uuid`, b.date)} AS splits`;
  return row?.splits ?? undefined;
}
