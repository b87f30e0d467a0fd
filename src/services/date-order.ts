import { Prisma } from '../generated/prisma/client';
import type { DomainError } from '../domain/errors';
import type { Tx } from './db';
import type { BookingInput, BookingPortfolio, BookOptions } from './ledger';
import { badInput } from './validate';
import { lotsFromJson, openLotsSql, type OpenLotJson } from './open-lots';

/** The latest booking of a security in a portfolio in the way of a booking dated before it (laterReliefSql). */
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
 * A lot relief is a SELL (it relieves long lots by the cost-basis method, or opens a short one)
 * or a BUY that covered short lots (by the method too: it wrote realized gains). A booking dated
 * before a relief already booked of the same security changes what that relief would have
 * found in date order, and the relief is not redone, so the booking is refused, naming the
 * relief in the way, rather than booked against the wrong lots:
 * - a backdated SELL: the later relief has already chosen among the lots it would have taken
 *   first (or covered the short it would have opened); a SPLIT dated after it, or on its day,
 *   has restated its lots in post-split shares; and one that opens a short lot (shorting
 *   allowed) is refused behind any later BUY (laterBuySql): that BUY opened a long lot, and in
 *   date order it would have covered the short instead;
 * - a backdated SPLIT: the later relief took lots the split would have restated first, a later
 *   SPLIT restated them already;
 * - a backdated BUY: the later relief's method might have taken the new lot (FIFO, HIFO and
 *   AVERAGE may, LIFO too when the relief went past the lots after it). Whether it would have
 *   depends on the method, the lots and the prices; the ledger does not try to prove it would
 *   not and refuses. SPLITs after a BUY are no obstacle: the lot it opens is restated by them
 *   exactly as they would have restated it (restateBySplits); only short lots it would cover,
 *   which those splits have restated, cannot be covered in pre-split shares, refused in the lot
 *   booking (LedgerService).
 * On one day bookings keep their booking order: a relief booked earlier on the same day is not
 * in the way. Every path asks under the portfolio lock, so no relief can slip in between:
 * recordTransaction here (inDateOrder), a fill in the read it makes anyway
 * (TradingService.readFillTarget).
 */

/** A booking that the in-date-order check applies to. */
export type InTimeBooking = 'BUY' | 'SELL' | 'SPLIT';

/** The JSON LaterRelief of a transaction `t`. */
const relief = Prisma.sql`json_build_object('id', t.id, 'type', t.type::text, 'date', t.trade_date::text)`;

/**
 * The latest transaction `t` of the security in the portfolio dated after `date` that `which`
 * picks, as a JSON LaterRelief, or NULL: the index range scan of laterReliefSql and laterBuySql.
 */
function latestAfter(portfolioId: Prisma.Sql, securityId: Prisma.Sql, date: string, which: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(SELECT ${relief} FROM transactions t
      WHERE t.portfolio_id = ${portfolioId} AND t.trade_date > ${date}::date AND t.security_id = ${securityId} AND ${which}
      ORDER BY t.trade_date DESC, t.created_at DESC LIMIT 1)`;
}

/**
 * SQL for the latest booking of `securityId` in `portfolioId` in the way of a `booking` dated
 * `date`, as a JSON LaterRelief, or NULL: a SELL or a short-covering BUY dated after it (for a
 * SELL or SPLIT a SPLIT dated after it too, else a SPLIT on its day). An index range scan of the
 * portfolio's transactions dated after `date` (transactions_portfolio_id_trade_date_id_idx: for a
 * booking dated today, next to nothing), a later BUY probed for the realized gains its cover
 * wrote (realized_gains_portfolio_id_sold_on_idx), and for a SELL or SPLIT only when it finds
 * none a probe of the security's splits on `date` (transactions_split_idx).
 */
export function laterReliefSql(portfolioId: Prisma.Sql, securityId: Prisma.Sql, date: string, booking: InTimeBooking): Prisma.Sql {
  // A scalar subquery, not EXISTS: the planner may turn an EXISTS under OR into a hashed subplan,
  // which reads every realized gain of the database once a BUY is met; this is one index probe per BUY.
  const covered = Prisma.sql`(t.type = 'BUY' AND (SELECT true FROM realized_gains g WHERE g.portfolio_id = t.portfolio_id AND g.sold_on = t.trade_date AND g.transaction_id = t.id LIMIT 1))`;
  const later = latestAfter(portfolioId, securityId, date, Prisma.sql`(${booking === 'BUY' ? Prisma.sql`t.type = 'SELL'` : Prisma.sql`t.type IN ('SELL', 'SPLIT')`} OR ${covered})`);
  if (booking === 'BUY') return later;
  return Prisma.sql`COALESCE(${later},
    (SELECT ${relief} FROM transactions t
      WHERE t.portfolio_id = ${portfolioId} AND t.security_id = ${securityId} AND t.trade_date = ${date}::date AND t.type = 'SPLIT'
      ORDER BY t.created_at DESC LIMIT 1))`;
}

/**
 * SQL for the latest BUY of `securityId` in `portfolioId` dated after a SELL's `date`, as a JSON
 * LaterRelief, or NULL. Asked only where shorting is allowed: a SELL that opens a short lot is
 * refused behind it (LedgerService), as in date order that BUY would have covered the short. A BUY
 * that did cover shorts is a relief and refuses any earlier SELL already (laterReliefSql); this
 * one found nothing to cover when it was booked and opened a long lot. The same index range scan
 * as laterReliefSql's: for a SELL dated today, next to nothing.
 */
export function laterBuySql(portfolioId: Prisma.Sql, securityId: Prisma.Sql, date: string): Prisma.Sql {
  return latestAfter(portfolioId, securityId, date, Prisma.sql`t.type = 'BUY'`);
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

/**
 * The refusal of a `type` (BUY, SELL or SPLIT) of `symbol` dated `date` behind `later`; `why`
 * when that booking is in the way for another reason than having relieved lots.
 */
export function behindLaterRelief(type: string, symbol: string, date: string, later: LaterRelief, why = 'lots are relieved in date order'): DomainError {
  return badInput(
    `a ${type} of ${symbol} dated ${date} cannot be booked behind the ${later.type} dated ${later.date} (transaction ${later.id}): ` +
      `${why} and booked history is not replayed`,
  );
}

/** A SELL's short lot refused behind `laterBuy` (laterBuySql). */
export function shortBehindLaterBuy(symbol: string, date: string, laterBuy: LaterRelief): DomainError {
  return behindLaterRelief('SELL', symbol, date, laterBuy, 'it would open a short lot, which in date order that BUY would have covered,');
}

/**
 * recordTransaction's BUY, SELL or SPLIT: refused behind a later relief of its security; in the
 * same statement, for a BUY the SPLITs its lot is restated by, for a SELL where shorting is
 * allowed the later BUY a short it opens is refused behind, and for a BUY or SELL the open lots
 * it books against (LedgerService.book's options): read under the portfolio lock, like the rest,
 * so one statement sees what two would (no booking of the portfolio can come between). A SPLIT's
 * lots are read after its corporate action is recorded, by the booking.
 */
export async function inDateOrder(
  tx: Tx,
  portfolio: Pick<BookingPortfolio, 'id' | 'allowShort'>,
  b: BookingInput & { type: InTimeBooking },
): Promise<Pick<BookOptions, 'laterSplits' | 'laterBuy' | 'lots'>> {
  const portfolioId = Prisma.sql`${portfolio.id}::uuid`;
  const security = Prisma.sql`${b.security!.id}::uuid`;
  const [row] = await tx.$queryRaw<{ later: LaterRelief | null; splits: LaterSplit[] | null; buy: LaterRelief | null; lots: OpenLotJson[] | null }[]>`
    SELECT ${laterReliefSql(portfolioId, security, b.date, b.type)} AS later,
           ${b.type === 'BUY' ? laterSplitsSql(portfolioId, security, b.date) : Prisma.sql`NULL::json`} AS splits,
           ${b.type === 'SELL' && portfolio.allowShort ? laterBuySql(portfolioId, security, b.date) : Prisma.sql`NULL::json`} AS buy,
           ${b.type === 'SPLIT' ? Prisma.sql`NULL::json` : openLotsSql(portfolioId, security, b.type)} AS lots`;
  if (row?.later) throw behindLaterRelief(b.type, b.security!.symbol, b.date, row.later);
  return { laterSplits: row?.splits ?? undefined, laterBuy: row?.buy ?? undefined, lots: row?.lots ? lotsFromJson(row.lots) : undefined };
}
