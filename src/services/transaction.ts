import type { Db, Tx } from './db';
import type { ServiceContext } from './context';
import { RefusedAccess } from './access';
import { recordSecurityEvent } from './audit';

/**
 * One service call = one database transaction. Work that must happen only once the
 * transaction has committed (publishing domain events) is queued with `afterCommit`.
 */
export async function inTransaction<T>(
  db: Db,
  ctx: ServiceContext,
  work: (tx: Tx, afterCommit: (fn: () => void) => void) => Promise<T>,
): Promise<T> {
  const committed: (() => void)[] = [];
  try {
    const result = await db.$transaction((tx) => work(tx, (fn) => committed.push(fn)), { maxWait: 10_000, timeout: 30_000 });
    for (const fn of committed) fn();
    return result;
  } catch (err) {
    if (err instanceof RefusedAccess) await recordSecurityEvent(db, ctx, err.event.kind, err.event.detail);
    throw err;
  }
}
