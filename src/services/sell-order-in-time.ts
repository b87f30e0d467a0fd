import type { Tx } from './db';
import type { BookingInput } from './ledger';
import { badInput } from './validate';

/**
 * A backdated SELL relieves the lots open now that were acquired on or before its date (the
 * lot engine leaves later ones alone). That is what replaying the ledger in date order would
 * give only while nothing after its date has changed those lots: a later SELL has already
 * relieved them by the cost-basis method (the earlier sale would have taken them first), a
 * later SPLIT has restated their quantities in post-split shares. Then the SELL is refused,
 * naming the booking in the way, rather than booked against the wrong lots. Called under the
 * portfolio lock, so no such booking can slip in between.
 */
export async function refuseSellBehindLaterRelief(tx: Tx, portfolioId: string, b: BookingInput): Promise<void> {
  const [later] = await tx.$queryRaw<{ id: string; type: string; date: string }[]>`
    SELECT id, type::text AS type, trade_date::text AS date FROM transactions
    WHERE portfolio_id = ${portfolioId}::uuid AND trade_date > ${b.date}::date AND security_id = ${b.security!.id}::uuid AND type IN ('SELL', 'SPLIT')
    ORDER BY trade_date DESC, created_at DESC LIMIT 1`;
  if (later) {
    throw badInput(
      `a SELL of ${b.security!.symbol} dated ${b.date} cannot be booked behind the ${later.type} dated ${later.date} (transaction ${later.id}): ` +
        `lots are relieved in date order and booked history is not replayed`,
    );
  }
}
