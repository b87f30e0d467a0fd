import { randomUUID } from 'node:crypto';
import { Prisma } from '../generated/prisma/client';
import { lastDayCloseAtOrBefore, type DayClose } from '../domain/trading-day';
import { OPEN_ORDER_STATUSES } from '../domain/ledger';
import type { EventBus } from '../events/bus';
import type { Logger } from '../logger';
import type { Db } from './db';
import { asSystem } from '../db/principal';

/** The end of the UTC calendar day: the day a fill's trade date is taken in (its executedAt in UTC). */
export const END_OF_UTC_DAY: DayClose = { timeZone: 'UTC', minutes: 1440 };

/**
 * SQL that is true for an order whose DAY has ended by `cutoff` (lastDayCloseAtOrBefore), whether
 * or not the sweep has cancelled it yet: what must not execute any more. `o` is the orders alias.
 */
export function dayEndedSql(cutoff: Date): Prisma.Sql {
  return Prisma.sql`(o.time_in_force = 'DAY' AND o.created_at < ${cutoff.toISOString()}::timestamptz)`;
}

/**
 * DAY orders still open when their trading day ends are cancelled (OrderStatus has no EXPIRED:
 * the status is CANCELLED and `expired_at` says why), each with its audit entry and an
 * `order.updated` event. Every server process sweeps; the UPDATE takes only orders still open
 * and not locked by anyone else (SKIP LOCKED: another sweeper's or a fill's; the next sweep
 * takes what is still open then), so an order is expired once whatever the number of
 * sweepers, the sweep never waits on a fill nor deadlocks with another sweep, and a fill racing
 * it either lands first or finds the order CANCELLED. The order row is rewritten, so the fill
 * fast path's xmin gate notices.
 */
export class OrderExpiryService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    readonly dayClose: DayClose = END_OF_UTC_DAY,
  ) {}

  /** Expires every DAY order whose trading day ended at or before `now`; returns the ids expired by this call. */
  async expireDue(now: Date = new Date()): Promise<string[]> {
    const cutoff = lastDayCloseAtOrBefore(now, this.dayClose);
    const requestId = `order-expiry-${randomUUID()}`;
    const open = Prisma.join(OPEN_ORDER_STATUSES.map((s) => Prisma.sql`${s}::"OrderStatus"`));
    // Every owner's orders: the sweep runs for the system. One statement, so the orders and
    // their audit entries commit together.
    const expired = await asSystem(() =>
      this.db.$queryRaw<{ id: string; portfolioId: string }[]>`
        WITH expired AS (
          UPDATE orders SET status = 'CANCELLED', expired_at = ${now.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz
          WHERE orders.id IN (
            SELECT o.id FROM orders o WHERE o.status IN (${open}) AND ${dayEndedSql(cutoff)}
            ORDER BY o.id FOR UPDATE SKIP LOCKED)
          RETURNING orders.id, orders.portfolio_id, orders.filled_qty),
        audit AS (
          INSERT INTO audit_log (action, entity_type, entity_id, portfolio_id, before, after, request_id)
          SELECT 'order.expire', 'Order', e.id::text, e.portfolio_id,
                 jsonb_build_object('status', CASE WHEN e.filled_qty > 0 THEN 'PARTIALLY_FILLED' ELSE 'NEW' END),
                 jsonb_build_object('status', 'CANCELLED', 'filledQty', trim_scale(e.filled_qty)::text, 'expiredAt', ${now.toISOString()}::text, 'dayEnded', ${cutoff.toISOString()}::text),
                 ${requestId}
          FROM expired e)
        SELECT id, portfolio_id AS "portfolioId" FROM expired`,
    );
    for (const o of expired) this.bus.publish({ type: 'order.updated', portfolioId: o.portfolioId, orderId: o.id, status: 'CANCELLED' });
    return expired.map((o) => o.id);
  }
}

/** Runs the sweep at start and then every `pollMs` in each server process. */
export class OrderExpiryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly service: OrderExpiryService,
    private readonly pollMs: number,
    private readonly log: Logger,
  ) {}

  start(): this {
    this.timer = setInterval(() => this.sweep(), this.pollMs);
    this.timer.unref();
    this.sweep();
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private sweep(): void {
    if (this.running) return;
    this.running = this.service
      .expireDue()
      .then((ids) => {
        if (ids.length) this.log.info({ expired: ids.length }, 'orders: DAY orders expired');
      })
      .catch((err: unknown) => this.log.error({ err }, 'orders: expiring DAY orders failed'))
      .finally(() => {
        this.running = null;
      });
  }
}
