import { D } from '../domain/decimal';
import { OPEN_ORDER_STATUSES, paperExecutionPrice, type OrderSide, type OrderType } from '../domain/ledger';
import type { EventBus } from '../events/bus';
import type { Db } from './db';
import type { ServiceContext } from './context';
import type { TradingService } from './trading';
import { asSystem } from '../db/principal';
import { lastDayCloseAtOrBefore, type DayClose } from '../domain/trading-day';
import { dayEndedSql, END_OF_UTC_DAY } from './order-expiry';

export interface PaperBrokerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

interface OpenOrder {
  id: string;
  side: OrderSide;
  type: OrderType;
  remaining: string;
  limitPrice: string | null;
  stopPrice: string | null;
  ownerId: string;
  role: 'ADMIN' | 'MANAGER' | 'USER' | 'VIEWER';
  createdAt: Date;
}

/**
 * A simulated broker for demos and paper trading. It books every execution through
 * TradingService.recordFill, the path a real broker's fills take, so the ledger cannot
 * tell the difference:
 * - a new order is checked against the security's latest quote at once (a MARKET order
 *   fills there; a marketable LIMIT, or a STOP already through its level, too);
 * - every `prices.ingested` event re-checks the open orders of the securities it names,
 *   and fills those whose level the new price crosses (see paperExecutionPrice).
 * Each fill is for the order's whole remaining quantity, acting as the order's owner.
 * The externalId names the order and the price instant, so a repeated event books nothing.
 */
// The broker serves every owner's orders: it runs in the system context (src/db/principal.ts).
export class PaperBroker {
  private readonly busy = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly trading: TradingService,
    private readonly log?: PaperBrokerLog,
    private readonly dayClose: DayClose = END_OF_UTC_DAY,
  ) {}

  /** A DAY order whose day has ended never executes, also before the sweep has cancelled it. */
  private dayEnded() {
    return dayEndedSql(lastDayCloseAtOrBefore(new Date(), this.dayClose));
  }

  start(): () => void {
    const offOrder = this.bus.subscribe('order.updated', (e) => {
      if (e.status === 'NEW') this.track(asSystem(() => this.onNewOrder(e.orderId)));
    });
    const offPrices = this.bus.subscribe('prices.ingested', (e) => {
      for (const p of e.prices) this.track(asSystem(() => this.onPrice(p.securityId, new D(p.price), new Date(p.ts))));
    });
    this.log?.info({}, 'paper broker started');
    return () => {
      offOrder();
      offPrices();
    };
  }

  /** Resolves when the work queued so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private track(p: Promise<void>): void {
    const wrapped = p.catch((err: unknown) => this.log?.warn({ err }, 'paper broker: handling an event failed')).finally(() => this.pending.delete(wrapped));
    this.pending.add(wrapped);
  }

  private async onNewOrder(orderId: string): Promise<void> {
    const rows = await this.db.$queryRaw<(OpenOrder & { price: string | null; ts: Date | null })[]>`
      SELECT o.id, o.side::text AS side, o.type::text AS type, (o.quantity - o.filled_qty)::text AS remaining,
             o.limit_price::text AS "limitPrice", o.stop_price::text AS "stopPrice", p.owner_id AS "ownerId", u.role::text AS role, o.created_at AS "createdAt",
             q.price::text AS price, q.ts
      FROM orders o JOIN portfolios p ON p.id = o.portfolio_id JOIN users u ON u.id = p.owner_id
      LEFT JOIN quotes q ON q.security_id = o.security_id
      WHERE o.id = ${orderId}::uuid AND o.status IN ('NEW', 'PARTIALLY_FILLED') AND NOT ${this.dayEnded()}`;
    const order = rows[0];
    if (!order?.price) return; // no quote yet: the next ingested price decides
    await this.tryFill(order, new D(order.price), 'placed');
  }

  private async onPrice(securityId: string, price: D, at: Date): Promise<void> {
    const orders = await this.db.$queryRaw<OpenOrder[]>`
      SELECT o.id, o.side::text AS side, o.type::text AS type, (o.quantity - o.filled_qty)::text AS remaining,
             o.limit_price::text AS "limitPrice", o.stop_price::text AS "stopPrice", p.owner_id AS "ownerId", u.role::text AS role, o.created_at AS "createdAt"
      FROM orders o JOIN portfolios p ON p.id = o.portfolio_id JOIN users u ON u.id = p.owner_id
      WHERE o.security_id = ${securityId}::uuid AND o.status IN (${OPEN_ORDER_STATUSES[0]!}::"OrderStatus", ${OPEN_ORDER_STATUSES[1]!}::"OrderStatus") AND NOT ${this.dayEnded()}
      ORDER BY o.created_at, o.id`;
    // A price from a day before the order was placed (a late backfill) does not execute it.
    const day = at.toISOString().slice(0, 10);
    for (const order of orders) {
      if (new Date(order.createdAt).toISOString().slice(0, 10) <= day) await this.tryFill(order, price, at.toISOString());
    }
  }

  /** Executes now, at `price` when the order's type and levels allow it. */
  private async tryFill(order: OpenOrder, price: D, tag: string): Promise<void> {
    const execution = paperExecutionPrice(
      { side: order.side, type: order.type, limitPrice: order.limitPrice ? new D(order.limitPrice) : null, stopPrice: order.stopPrice ? new D(order.stopPrice) : null },
      price,
    );
    if (!execution || this.busy.has(order.id)) return;
    this.busy.add(order.id);
    const ctx: ServiceContext = { actor: { userId: order.ownerId, role: order.role, apiKeyId: null }, meta: { requestId: `paper-broker-${order.id}` } };
    try {
      await this.trading.recordFill(ctx, { orderId: order.id, externalId: `paper:${order.id}:${tag}`, quantity: new D(order.remaining), price: execution, executedAt: new Date(), venue: 'PAPER' });
    } catch (err) {
      // Refusals (the order was cancelled meanwhile, a SELL no longer covered…) leave the order as it is.
      this.log?.warn({ err: (err as Error).message, orderId: order.id }, 'paper broker: fill refused');
    } finally {
      this.busy.delete(order.id);
    }
  }
}
