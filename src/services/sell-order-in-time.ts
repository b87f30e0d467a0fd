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

/*
 * A backdated SELL relieves the lots open now that were acquired on or before its date (the
 * lot engine leaves later ones alone). That is what replaying the ledger in date order would
 * give only while nothing after its date has changed those lots: a later SELL has already
 * relieved them by the cost-basis method (the earlier sale would have taken them first), a
 * later SPLIT has restated their quantities in post-split shares. Then the SELL is refused,
 * naming the booking in the way, rather than booked against the wrong lots. Both SELL paths
 * ask under the portfolio lock, so no such booking can slip in between: recordTransaction
 * here, a fill in the read it makes anyway (TradingService.readFillTarget).
 */

/**
 * SQL for the latest SELL or SPLIT of `securityId` in `portfolioId` dated after `date`, as a JSON
 * LaterRelief, or NULL. An index range scan of the portfolio's transactions dated after `date`
 * (transactions_portfolio_id_trade_date_id_idx): for a sale dated today, next to nothing.
 */
export function laterReliefSql(portfolioId: Prisma.Sql, securityId: Prisma.Sql, date: string): Prisma.Sql {
  return Prisma.sql`(SELECT json_build_object('id', t.id, 'type', t.type::text, 'date', t.trade_date::text) FROM transactions t
    WHERE t.portfolio_id = ${portfolioId} AND t.trade_date > ${date}::date AND t.security_id = ${securityId} AND t.type IN ('SELL', 'SPLIT')
    ORDER BY t.trade_date DESC, t.created_at DESC LIMIT 1)`;
}

/** The refusal of a SELL of `symbol` dated `date` behind `later`. */
export function sellBehindLaterRelief(symbol: string, date: string, later: LaterRelief): DomainError {
  return badInput(
    `a SELL of ${symbol} dated ${date} cannot be booked behind the ${later.type} dated ${later.date} (transaction ${later.id}): ` +
      `lots are relieved in date order and booked history is not replayed`,
  );
}

/** recordTransaction's SELL: refused behind a later SELL or SPLIT of its security. */
export async function refuseSellBehindLaterRelief(tx: Tx, portfolioId: string, b: BookingInput): Promise<void> {
  const [row] = await tx.$queryRaw<{ later: LaterRelief | null }[]>`
    SELECT ${laterReliefSql(Prisma.sql`${portfolioId}::uuid`, Prisma.sql`${b.security!.id}::uuid`, b.date)} AS later`;
  if (row?.later) throw sellBehindLaterRelief(b.security!.symbol, b.date, row.later);
}
