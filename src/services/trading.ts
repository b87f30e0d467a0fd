import { randomUUID } from 'node:crypto';
import { Prisma, type Fill, type Order, type OrderStatus, type OrderType, type Portfolio, type Security, type TimeInForce } from '../generated/prisma/client';
import { D, ZERO } from '../domain/decimal';
import { DomainError } from '../domain/errors';
import { fillPriceProblem, OPEN_ORDER_STATUSES, orderPriceProblem, volumeWeightedPriceAfter, type OrderSide } from '../domain/ledger';
import { scaleProblem } from '../domain/market';
import type { EventBus } from '../events/bus';
import type { Db, Tx } from './db';
import { isUniqueViolation } from './db';
import type { ServiceContext } from './context';
import { getReadablePortfolio, getWritablePortfolio, lockWritablePortfolio, RefusedAccess, requireActor, writableSql } from './access';
import { auditCte, writeAudit } from './audit';
import { inTransaction } from './transaction';
import { lotsFromJson, openLotsSql, type OpenLotJson } from './open-lots';
import { preparedStatement } from '../db/prepared';
import { queryRows } from '../db/direct';
import { paginate, type Page, type PageArgs } from './pagination';
import { badInput, isUuid, optionalText, symbol as validSymbol, text } from './validate';
import { isoDate, same, toD, type BookingInput, type BookOptions, type LedgerService } from './ledger';
import { dayEndedSql, END_OF_UTC_DAY } from './order-expiry';
import { behindLaterRelief, laterBuySql, laterReliefSql, laterSplitsSql, type LaterRelief, type LaterSplit } from './date-order';
import { dayCloseClock, type DayClose } from '../domain/trading-day';

export interface PlaceOrderInput {
  portfolioId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: D;
  limitPrice?: D | null;
  stopPrice?: D | null;
  timeInForce?: TimeInForce | null;
  clientOrderId?: string | null;
}

export interface FillInput {
  orderId: string;
  externalId: string;
  quantity: D;
  price: D;
  fee?: D | null;
  executedAt: Date;
  venue?: string | null;
}

/** A fill's input, checked and normalised. */
interface CheckedFill extends FillInput {
  fee: D;
  venue: string | null;
}

interface PreparedFill {
  booking: BookingInput;
  options: BookOptions;
  fill: Fill;
  status: OrderStatus;
}

interface FillTarget {
  id: string;
  portfolioId: string;
  costBasisMethod: Portfolio['costBasisMethod'];
  allowShort: boolean;
  /** xmin of the portfolio and order rows read: what the unlocked path checks before writing. */
  portfolioVersion: string;
  orderVersion: string;
  status: OrderStatus;
  side: OrderSide;
  quantity: string;
  filled: string;
  limit: string | null;
  securityId: string;
  symbol: string;
  currency: string;
  existingFill: string | null;
  /** A DAY order whose trading day has ended (the sweep's rule), swept yet or not. */
  dayEnded: boolean;
  /** The latest relief of the security booked in the way of the fill's trade date (laterReliefSql: a SELL's, a BUY's). */
  laterRelief: LaterRelief | null;
  /** A BUY's: the SPLITs of the security booked on or after the fill's trade date, which restate its lot. */
  laterSplits: LaterSplit[] | null;
  /** A SELL's where shorting is allowed: the latest BUY of the security after the fill's trade date, which a short it opens is refused behind (laterBuySql). */
  laterBuy: LaterRelief | null;
  /** When the order was placed (ISO 8601, UTC, milliseconds as stored): no fill executes before. */
  placedAt: string;
  /** Σ quantity × price of the order's fills so far, exact (NUMERIC). */
  filledValue: string;
  lots: OpenLotJson[];
}

export type OrderRow = Order & { security: { symbol: string } };

const withSymbol = { security: { select: { symbol: true } } } as const;

/** How far a venue's clock may be from ours: an executedAt this far ahead of now, or before the order's placement, is not refused. */
const CLOCK_SKEW_MS = 5 * 60_000;

function checkScale(name: string, value: D | null | undefined): void {
  if (value == null) return;
  if (!value.isFinite()) throw badInput(`${name} must be a finite decimal`);
  const problem = scaleProblem(name, value, 10);
  if (problem) throw badInput(problem);
}

function positive(name: string, value: D): D {
  checkScale(name, value);
  if (!value.gt(0)) throw badInput(`${name} must be greater than 0, got ${value.toFixed()}`);
  return value;
}

/**
 * Orders and fills. A fill is booked atomically with its ledger transaction, lot changes,
 * cash, the order's new status and one audit entry; the portfolio row and then the order
 * row are locked so racing fills run one after the other and cannot overfill or double-book.
 */
export class TradingService {
  private readonly lastDayClose: (now: Date) => Date;
  /** The last fill of each order in progress in this process: the next one starts after it (see recordFill). */
  private readonly fillsInProgress = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly ledger: LedgerService,
    dayClose: DayClose = END_OF_UTC_DAY,
  ) {
    this.lastDayClose = dayCloseClock(dayClose);
  }

  async placeOrder(ctx: ServiceContext, input: PlaceOrderInput): Promise<OrderRow> {
    const quantity = positive('quantity', input.quantity);
    checkScale('limitPrice', input.limitPrice);
    checkScale('stopPrice', input.stopPrice);
    const priceProblem = orderPriceProblem(input.type, input.limitPrice, input.stopPrice);
    if (priceProblem) throw badInput(priceProblem);
    const clientOrderId = optionalText(input.clientOrderId, 'clientOrderId', 200);
    const sym = validSymbol(input.symbol);
    const security = await this.db.security.findUnique({ where: { symbol: sym } });
    if (!security) throw badInput(`unknown symbol "${sym}"`);
    const data = {
      securityId: security.id,
      side: input.side,
      type: input.type,
      quantity: quantity.toFixed(),
      limitPrice: input.limitPrice?.toFixed() ?? null,
      stopPrice: input.stopPrice?.toFixed() ?? null,
      timeInForce: input.timeInForce ?? 'DAY',
      clientOrderId,
    };

    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const portfolio = await getWritablePortfolio(tx, ctx, input.portfolioId, true);
      if (clientOrderId) {
        const existing = await tx.order.findUnique({ where: { portfolioId_clientOrderId: { portfolioId: portfolio.id, clientOrderId } }, include: withSymbol });
        if (existing) {
          const differs =
            existing.securityId !== data.securityId ||
            existing.side !== data.side ||
            existing.type !== data.type ||
            existing.timeInForce !== data.timeInForce ||
            !same(existing.quantity, quantity) ||
            !same(existing.limitPrice, input.limitPrice ?? null) ||
            !same(existing.stopPrice, input.stopPrice ?? null);
          if (differs) throw new DomainError('CONFLICT', `clientOrderId "${clientOrderId}" was already used for a different order (${existing.id})`);
          return existing;
        }
      }
      if (input.side === 'SELL' && !portfolio.allowShort) {
        const available = await this.sellableQuantity(tx, portfolio.id, security.id);
        if (quantity.gt(available)) {
          throw badInput(
            `cannot place a SELL of ${quantity.toFixed()} ${security.symbol}: ${available.toFixed()} available after open SELL orders, short by ${quantity.minus(available).toFixed()}`,
          );
        }
      }
      const order = await tx.order.create({ data: { portfolioId: portfolio.id, ...data }, include: withSymbol });
      await writeAudit(tx, ctx, { action: 'order.place', entityType: 'Order', entityId: order.id, portfolioId: portfolio.id, after: { ...order, security: undefined, symbol: security.symbol } });
      afterCommit(() => this.bus.publish({ type: 'order.updated', portfolioId: portfolio.id, orderId: order.id, status: order.status }));
      return order;
    });
  }

  /** Held long quantity minus what open SELL orders have not filled yet. */
  private async sellableQuantity(tx: Tx, portfolioId: string, securityId: string): Promise<D> {
    const rows = await tx.$queryRaw<{ held: { toFixed(): string } | null; reserved: { toFixed(): string } | null }[]>`
      SELECT
        (SELECT sum(qty_open) FROM lots WHERE portfolio_id = ${portfolioId}::uuid AND security_id = ${securityId}::uuid AND closed_on IS NULL AND qty_open > 0) AS held,
        (SELECT sum(quantity - filled_qty) FROM orders WHERE portfolio_id = ${portfolioId}::uuid AND security_id = ${securityId}::uuid AND side = 'SELL' AND status IN ('NEW', 'PARTIALLY_FILLED')) AS reserved`;
    const held = rows[0]?.held ? new D(String(rows[0].held)) : ZERO;
    const reserved = rows[0]?.reserved ? new D(String(rows[0].reserved)) : ZERO;
    return D.max(ZERO, held.minus(reserved));
  }

  async cancelOrder(ctx: ServiceContext, id: string): Promise<OrderRow> {
    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const { order, portfolio } = await this.lockOrder(tx, ctx, id);
      if (!OPEN_ORDER_STATUSES.includes(order.status)) {
        throw new DomainError('CONFLICT', `order ${id} is ${order.status}: only NEW or PARTIALLY_FILLED orders can be cancelled`);
      }
      const updated = await tx.order.update({ where: { id }, data: { status: 'CANCELLED' }, include: withSymbol });
      await writeAudit(tx, ctx, { action: 'order.cancel', entityType: 'Order', entityId: id, portfolioId: portfolio.id, before: { status: order.status }, after: { status: updated.status, filledQty: updated.filledQty } });
      afterCommit(() => this.bus.publish({ type: 'order.updated', portfolioId: portfolio.id, orderId: id, status: 'CANCELLED' }));
      return updated;
    });
  }

  /**
   * Locks the order's portfolio, then the order (always in that order, as every writer
   * does). Another owner's order reads exactly like one that does not exist.
   */
  private async lockOrder(tx: Tx, ctx: ServiceContext, id: string): Promise<{ order: Order; portfolio: Portfolio }> {
    const portfolio = await this.lockOrderPortfolio(tx, ctx, id);
    await tx.$queryRaw`SELECT id FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
    const order = await tx.order.findUniqueOrThrow({ where: { id } });
    return { order, portfolio };
  }

  /** recordFill: idempotent on externalId; the same externalId with other content is a CONFLICT. */
  async recordFill(ctx: ServiceContext, input: FillInput): Promise<Fill> {
    const externalId = text(input.externalId, 'externalId', 200);
    const quantity = positive('quantity', input.quantity);
    const price = positive('price', input.price);
    checkScale('fee', input.fee);
    if (input.fee && input.fee.lt(0)) throw badInput(`fee must not be negative, got ${input.fee.toFixed()}`);
    const fee = input.fee ?? ZERO;
    if (Number.isNaN(input.executedAt.getTime())) throw badInput('executedAt is not a valid instant');
    if (input.executedAt.getTime() > Date.now() + CLOCK_SKEW_MS) throw badInput(`executedAt ${input.executedAt.toISOString()} is in the future`);
    const fill: CheckedFill = { ...input, externalId, quantity, price, fee, venue: optionalText(input.venue, 'venue', 100) };

    return this.afterFillsInProgress(fill.orderId, async () => {
      try {
        return (await this.fillUnlocked(ctx, fill)) ?? (await this.fillLocked(ctx, fill));
      } catch (err) {
        // Fills are unique on externalId across orders: a race past the lookup replays the winner.
        if (isUniqueViolation(err)) {
          const existing = await this.db.fill.findUnique({ where: { externalId } });
          if (existing) return this.replay(existing, fill);
        }
        throw err;
      }
    });
  }

  /**
   * Fills of one order booked by this process run one after another. Two at once would read
   * the same order row, and one of them would find its gate closed by the other's commit and
   * read again or take the locked path (in a burst of fills, one in eight paid that); queued,
   * each reads what the previous one committed. Only a shortcut: the gate and the locks
   * still keep other processes' fills apart.
   */
  private afterFillsInProgress<T>(orderId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.fillsInProgress.get(orderId);
    const result = previous ? previous.then(work, work) : work();
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    this.fillsInProgress.set(orderId, done);
    void done.then(() => {
      if (this.fillsInProgress.get(orderId) === done) this.fillsInProgress.delete(orderId);
    });
    return result;
  }

  /**
   * The fast path of a fill, two round trips and no transaction around them (see
   * BENCHMARKS.md): the order, portfolio, fills and lots read without a lock, then one
   * statement that locks the portfolio and then the order, checks both are still the row
   * versions read (every booking rewrites the portfolio row, every order change the order
   * row, each under the portfolio lock) and only then writes the fill, everything it books
   * and its audit entry; that statement commits on its own, all or nothing. Null when the
   * fill is refused, a replay, or the data changed in between twice: the locked path decides then.
   */
  private async fillUnlocked(ctx: ServiceContext, input: CheckedFill, attempt = 1): Promise<Fill | null> {
    const target = await this.readFillTarget(this.db, ctx, input, false);
    if (!target || target.existingFill) return null;
    let prepared: PreparedFill;
    try {
      prepared = this.prepareFill(ctx, target, input);
    } catch (err) {
      if (err instanceof DomainError) return null;
      throw err;
    }
    const committed: (() => void)[] = [];
    const portfolio = { id: target.portfolioId, costBasisMethod: target.costBasisMethod, allowShort: target.allowShort };
    const booked = await this.ledger.book(this.db, portfolio, prepared.booking, (fn) => committed.push(fn), {
      ...prepared.options,
      gate: Prisma.sql`gate_portfolio AS (
          SELECT id AS gate_portfolio FROM portfolios WHERE id = ${target.portfolioId}::uuid AND xmin::text = ${target.portfolioVersion} FOR UPDATE),
        gate AS (
          SELECT o.id AS gate_order FROM orders o JOIN gate_portfolio ON true WHERE o.id = ${target.id}::uuid AND o.xmin::text = ${target.orderVersion} FOR UPDATE OF o)`,
    });
    // Lost a race to another booking of the portfolio: the gate waited for its commit, so one
    // fresh attempt usually goes through.
    if (!booked.written) return attempt < 2 ? this.fillUnlocked(ctx, input, attempt + 1) : null;
    for (const fn of committed) fn();
    this.bus.publish({ type: 'order.updated', portfolioId: target.portfolioId, orderId: target.id, status: prepared.status });
    return prepared.fill;
  }

  /** The fill under the portfolio lock, in one database transaction: the authoritative path. */
  private fillLocked(ctx: ServiceContext, input: CheckedFill): Promise<Fill> {
    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const portfolio = await this.lockOrderPortfolio(tx, ctx, input.orderId);
      // Read after the portfolio lock, so this sees every fill committed before it.
      const target = (await this.readFillTarget(tx, ctx, input, true))!;
      if (target.existingFill) return this.replay(await tx.fill.findUniqueOrThrow({ where: { id: target.existingFill } }), input);
      const prepared = this.prepareFill(ctx, target, input);
      await this.ledger.book(tx, portfolio, prepared.booking, afterCommit, prepared.options);
      afterCommit(() => this.bus.publish({ type: 'order.updated', portfolioId: portfolio.id, orderId: target.id, status: prepared.status }));
      return prepared.fill;
    });
  }

  /**
   * The order, its portfolio (null unless the actor may change it), the replay check, the fills so
   * far, the lots the fill can touch, and what the fill's time means for it: its DAY ended, its
   * placement, a later relief of the security that refuses it (for a SELL a later SPLIT too),
   * (a BUY) the SPLITs its lot is restated by, (a SELL where shorting is allowed) the later BUY a
   * short it opens is refused behind (date-order.ts; next to nothing to find for
   * a fill dated today). Under the portfolio lock on the locked path, so what it finds is decided there.
   */
  private async readFillTarget(q: Db | Tx, ctx: ServiceContext, input: CheckedFill, lock: boolean): Promise<FillTarget | null> {
    const rows = await queryRows<FillTarget>(q, Prisma.sql`${preparedStatement}
      SELECT o.id, o.status::text AS status, o.side::text AS side, o.quantity::text AS quantity, o.filled_qty::text AS filled, o.limit_price::text AS limit,
             s.id AS "securityId", s.symbol, s.currency,
             p.id AS "portfolioId", p.cost_basis_method::text AS "costBasisMethod", p.allow_short AS "allowShort",
             p.xmin::text AS "portfolioVersion", o.xmin::text AS "orderVersion",
             (SELECT f.id FROM fills f WHERE f.external_id = ${input.externalId}) AS "existingFill",
             ${dayEndedSql(this.lastDayClose(new Date()))} AS "dayEnded",
             to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "placedAt",
             CASE WHEN o.side = 'SELL' THEN ${laterReliefSql(Prisma.sql`o.portfolio_id`, Prisma.sql`o.security_id`, isoDate(input.executedAt), 'SELL')}
                  ELSE ${laterReliefSql(Prisma.sql`o.portfolio_id`, Prisma.sql`o.security_id`, isoDate(input.executedAt), 'BUY')} END AS "laterRelief",
             CASE WHEN o.side = 'BUY' THEN ${laterSplitsSql(Prisma.sql`o.portfolio_id`, Prisma.sql`o.security_id`, isoDate(input.executedAt))} END AS "laterSplits",
             CASE WHEN o.side = 'SELL' AND p.allow_short THEN ${laterBuySql(Prisma.sql`o.portfolio_id`, Prisma.sql`o.security_id`, isoDate(input.executedAt))} END AS "laterBuy",
             o.filled_value::text AS "filledValue",
             -- a BUY covers short lots only (found by their own index), a SELL relieves long lots only
             CASE WHEN o.side = 'BUY' THEN ${openLotsSql(Prisma.sql`o.portfolio_id`, Prisma.sql`o.security_id`, 'BUY')} ELSE ${openLotsSql(Prisma.sql`o.portfolio_id`, Prisma.sql`o.security_id`, 'SELL')} END AS lots
      FROM orders o JOIN securities s ON s.id = o.security_id JOIN portfolios p ON p.id = o.portfolio_id
      WHERE o.id = ${input.orderId}::uuid AND ${writableSql(requireActor(ctx))} ${lock ? Prisma.sql`FOR UPDATE OF o` : Prisma.empty}`);
    return rows[0] ?? null;
  }

  /** Checks the fill against its order and builds what booking it writes. */
  private prepareFill(ctx: ServiceContext, order: FillTarget, input: CheckedFill): PreparedFill {
    const { externalId, quantity, price, fee, venue } = input;
    if (!OPEN_ORDER_STATUSES.includes(order.status)) {
      throw new DomainError('CONFLICT', `order ${order.id} is ${order.status}: fills are accepted only for NEW or PARTIALLY_FILLED orders`);
    }
    // What the expiry sweep will cancel takes no fill in the meantime either.
    if (order.dayEnded) {
      throw new DomainError('CONFLICT', `order ${order.id} is a DAY order placed before the close of ${this.lastDayClose(new Date()).toISOString()}: its trading day has ended, it takes no more fills (the expiry sweep cancels it)`);
    }
    const total = new D(order.quantity);
    const filled = new D(order.filled);
    const remaining = total.minus(filled);
    if (quantity.gt(remaining)) {
      throw badInput(`overfill: order ${order.id} has ${remaining.toFixed()} left to fill (${filled.toFixed()} of ${total.toFixed()} filled), fill is ${quantity.toFixed()}`);
    }
    const limitProblem = fillPriceProblem(order.side, order.limit ? new D(order.limit) : null, price);
    if (limitProblem) throw badInput(limitProblem);
    if (input.executedAt.getTime() < Date.parse(order.placedAt) - CLOCK_SKEW_MS) {
      throw badInput(`executedAt ${input.executedAt.toISOString()} is before order ${order.id} was placed (${order.placedAt})`);
    }
    if (order.laterRelief) throw behindLaterRelief(order.side, order.symbol, isoDate(input.executedAt), order.laterRelief);

    const transactionId = randomUUID();
    const fill: Fill = {
      id: randomUUID(),
      orderId: order.id,
      transactionId,
      externalId,
      quantity: new Prisma.Decimal(quantity.toFixed()),
      price: new Prisma.Decimal(price.toFixed()),
      fee: new Prisma.Decimal(fee.toFixed()),
      executedAt: input.executedAt,
      venue,
      createdAt: new Date(),
    };
    // Exact VWAP over every fill of the order (the stored average is rounded).
    const avg = volumeWeightedPriceAfter(new D(order.filledValue), filled, { quantity, price })!;
    const newFilled = filled.plus(quantity);
    const status: OrderStatus = newFilled.eq(total) ? 'FILLED' : 'PARTIALLY_FILLED';
    const security = { id: order.securityId, symbol: order.symbol, currency: order.currency } as Security;
    const booking: BookingInput = {
      type: order.side,
      date: isoDate(input.executedAt),
      security,
      quantity,
      price,
      fee,
      amount: null,
      currency: security.currency,
      splitRatio: null,
      externalId: null,
      note: `fill ${externalId} of order ${order.id}`,
    };
    const options: BookOptions = {
      transactionId,
      lots: lotsFromJson(order.lots),
      laterSplits: order.laterSplits ?? undefined,
      laterBuy: order.laterBuy ?? undefined,
      alsoWrite: (booked, gated) => [
        Prisma.sql`new_fill AS (
          INSERT INTO fills (id, order_id, transaction_id, external_id, quantity, price, fee, executed_at, venue, created_at)
          SELECT ${fill.id}::uuid, ${fill.orderId}::uuid, ${transactionId}::uuid, ${externalId}, ${quantity.toFixed()}::numeric, ${price.toFixed()}::numeric,
                 ${fee.toFixed()}::numeric, ${input.executedAt.toISOString()}::timestamptz, ${venue}, ${fill.createdAt.toISOString()}::timestamptz ${gated.from})`,
        Prisma.sql`filled_order AS (
          UPDATE orders SET filled_qty = ${newFilled.toFixed()}::numeric, avg_fill_price = ${avg.toFixed()}::numeric, status = ${status}::"OrderStatus",
                 filled_value = orders.filled_value + ${quantity.toFixed()}::numeric * ${price.toFixed()}::numeric, updated_at = now()
          ${gated.from} WHERE orders.id = ${order.id}::uuid)`,
        auditCte(ctx, gated, {
          action: 'fill.record',
          entityType: 'Fill',
          entityId: fill.id,
          portfolioId: order.portfolioId,
          after: {
            fill,
            transactionId: booked.transactionId,
            amount: booked.amount.toFixed(),
            order: { id: order.id, status, filledQty: newFilled.toFixed(), avgFillPrice: avg.toFixed() },
            lotsOpened: booked.lotsOpened,
            lotsChanged: booked.lotsChanged,
            realizedGains: booked.realizedGains,
          },
        }),
      ],
    };
    return { booking, options, fill, status };
  }

  /**
   * The order's portfolio, checked writable and locked FOR UPDATE. Every writer of an order
   * (placeOrder, cancelOrder, recordFill) takes this lock first, so fills of one order, and
   * fills racing a cancel, run one after the other. Another owner's order reads exactly
   * like one that does not exist.
   */
  private async lockOrderPortfolio(tx: Tx, ctx: ServiceContext, id: string): Promise<Portfolio> {
    const notFound = () => new DomainError('NOT_FOUND', `order ${id} not found`);
    if (!isUuid(id)) throw notFound();
    const locked = await lockWritablePortfolio(tx, ctx, Prisma.sql`SELECT portfolio_id FROM orders WHERE id = ${id}::uuid`);
    if (locked) return locked;
    // Refused or missing: the slow path says which, as every other writer does.
    const found = await tx.$queryRaw<{ portfolioId: string }[]>`SELECT portfolio_id AS "portfolioId" FROM orders WHERE id = ${id}::uuid`;
    if (!found[0]) throw notFound();
    try {
      return await getWritablePortfolio(tx, ctx, found[0].portfolioId, true);
    } catch (err) {
      if (err instanceof RefusedAccess) throw new RefusedAccess(`order ${id} not found`, { kind: 'order.foreign_access', detail: { orderId: id } });
      if (err instanceof DomainError && err.code === 'NOT_FOUND') throw notFound();
      throw err;
    }
  }

  private replay(existing: Fill, input: CheckedFill): Fill {
    const differences: string[] = [];
    if (existing.orderId !== input.orderId) differences.push('orderId');
    if (!same(existing.quantity, input.quantity)) differences.push('quantity');
    if (!same(existing.price, input.price)) differences.push('price');
    if (!same(existing.fee, input.fee)) differences.push('fee');
    if (existing.executedAt.getTime() !== input.executedAt.getTime()) differences.push('executedAt');
    if (differences.length) {
      throw new DomainError('CONFLICT', `fill externalId "${existing.externalId}" was already recorded with a different ${differences.join(', ')}`);
    }
    return existing;
  }

  // ------------------------------------------------------------------ reads

  async order(ctx: ServiceContext, id: string): Promise<OrderRow | null> {
    if (!isUuid(id)) return null;
    const order = await this.db.order.findUnique({ where: { id }, include: withSymbol });
    if (!order) return null;
    try {
      await getReadablePortfolio(this.db, ctx, order.portfolioId);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
    return order;
  }

  /** Newest first. */
  async orders(ctx: ServiceContext, portfolioId: string, args: PageArgs & { status?: OrderStatus | null }): Promise<Page<OrderRow>> {
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    const where: Prisma.OrderWhereInput = { portfolioId: portfolio.id, ...(args.status ? { status: args.status } : {}) };
    return paginate(
      args,
      (o) => o.id,
      (after, take) =>
        this.db.order.findMany({
          where,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take,
          include: withSymbol,
          ...(after ? { cursor: { id: after }, skip: 1 } : {}),
        }),
      () => this.db.order.count({ where }),
    );
  }
}

/** Fills of orders the caller has already been allowed to read, oldest first, grouped per order (Order.fills, batched per request). */
export async function fillsOf(db: Db, orderIds: readonly string[]): Promise<Fill[][]> {
  const rows = await db.fill.findMany({ where: { orderId: { in: [...orderIds] } }, orderBy: [{ executedAt: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }] });
  const by = new Map<string, Fill[]>(orderIds.map((id) => [id, []]));
  for (const f of rows) by.get(f.orderId)!.push(f);
  return orderIds.map((id) => by.get(id)!);
}
