import { DomainError } from '../domain/errors';
import type { D } from '../domain/decimal';
import type { Security } from '../generated/prisma/client';
import type { Tx } from './db';

/**
 * A SPLIT booked in a portfolio is also a fact about its security: the first booking of a split
 * records it in `corporate_actions` (shared by every portfolio, unique per security, type and
 * ex-date), later ones of the same split find it there. A different ratio for the same security
 * and date contradicts the recorded split and is refused. Inside the booking's transaction: a
 * racing first booking's INSERT is waited for (unique index), so the comparison sees it.
 */
export async function recordSplitAction(tx: Tx, security: Security, exDate: string, ratio: D): Promise<void> {
  const inserted = await tx.$executeRaw`
    INSERT INTO corporate_actions (id, security_id, type, ex_date, ratio)
    VALUES (gen_random_uuid(), ${security.id}::uuid, 'SPLIT', ${exDate}::date, ${ratio.toFixed()}::numeric)
    ON CONFLICT (security_id, type, ex_date) DO NOTHING`;
  if (inserted) return;
  const [recorded] = await tx.$queryRaw<{ ratio: string | null }[]>`
    SELECT trim_scale(ratio)::text AS ratio FROM corporate_actions WHERE security_id = ${security.id}::uuid AND type = 'SPLIT' AND ex_date = ${exDate}::date`;
  if (recorded?.ratio == null || !ratio.eq(recorded.ratio)) {
    throw new DomainError(
      'CONFLICT',
      `${security.symbol}'s split on ${exDate} is recorded with splitRatio ${recorded?.ratio ?? 'none'} in its corporate actions; a SPLIT with splitRatio ${ratio.toFixed()} contradicts it`,
    );
  }
}

/**
 * A split happens to a holding once: a second SPLIT of the same security and date in one
 * portfolio (whatever its ratio, without the first one's externalId, which replays it) would
 * multiply the lots again, so it is a CONFLICT naming the first booking. Under the portfolio
 * lock, so two such bookings racing run one after the other and the second finds the first.
 */
export async function refuseSplitBookedTwice(tx: Tx, portfolioId: string, security: Security, exDate: string): Promise<void> {
  const [booked] = await tx.$queryRaw<{ id: string; ratio: string }[]>`
    SELECT id, trim_scale(split_ratio)::text AS ratio FROM transactions
    WHERE portfolio_id = ${portfolioId}::uuid AND trade_date = ${exDate}::date AND security_id = ${security.id}::uuid AND type = 'SPLIT'
    ORDER BY created_at LIMIT 1`;
  if (booked) {
    throw new DomainError(
      'CONFLICT',
      `${security.symbol}'s split on ${exDate} is already booked in this portfolio (transaction ${booked.id}, splitRatio ${booked.ratio}): booking it again would apply it twice`,
    );
  }
}
