import { Prisma, type Lot as LotRow, type Portfolio, type RealizedGain, type Security, type Transaction } from '../generated/prisma/client';
import { D, ZERO } from '../domain/decimal';
import { DomainError } from '../domain/errors';
import { assertIsoDate } from '../domain/dates';
import { applySplit, coverShorts, isAboveZero, isBelowZero, relieveLots, restateBySplits, type Lot, type LotUpdate, type RealizedGainRow } from '../domain/lots';
import { buyCost, cashEffect, sellProceeds, type TransactionType } from '../domain/ledger';
import { scaleProblem } from '../domain/market';
import { randomUUID } from 'node:crypto';
import type { EventBus } from '../events/bus';
import type { Db, Tx } from './db';
import { isUniqueViolation } from './db';
import type { ServiceContext } from './context';
import { getReadablePortfolio, getWritablePortfolio } from './access';
import { auditCte } from './audit';
import { recordSplitAction, refuseSplitBookedTwice } from './corporate-actions';
import { inDateOrder, shortBehindLaterBuy, type LaterRelief, type LaterSplit } from './date-order';
import { inTransaction } from './transaction';
import { lotsFromJson, openLotsSql, type OpenLotJson } from './open-lots';
import { preparedStatement } from '../db/prepared';
import { executeRows } from '../db/direct';
import { paginate, type Page, type PageArgs } from './pagination';
import { badInput, currencyCode, optionalText, symbol as validSymbol } from './validate';

export interface TransactionInput {
  portfolioId: string;
  type: TransactionType;
  /** YYYY-MM-DD */
  date: string;
  symbol?: string | null;
  quantity?: D | null;
  price?: D | null;
  amount?: D | null;
  fee?: D | null;
  currency?: string | null;
  splitRatio?: D | null;
  externalId?: string | null;
  note?: string | null;
}

/** A transaction as the API shows it: with its security's symbol. */
export type TransactionRow = Transaction & { security: { symbol: string } | null };
export type LotWithSymbol = LotRow & { security: { symbol: string } };
export type RealizedGainWithSymbol = RealizedGain & { security: { symbol: string } };

const withSymbol = { security: { select: { symbol: true } } } as const;

/** A transaction checked and normalised, ready to book: what idempotency compares. */
export interface BookingInput {
  type: TransactionType;
  date: string;
  security: Security | null;
  quantity: D | null;
  price: D | null;
  fee: D;
  /** DIVIDEND/INTEREST/DEPOSIT/WITHDRAWAL/FEE: the positive amount given. */
  amount: D | null;
  currency: string;
  splitRatio: D | null;
  externalId: string | null;
  note: string | null;
}

export interface BookOptions {
  /** The id to give the transaction row (the caller may need it in `alsoWrite`). */
  transactionId?: string;
  /** The open lots of the security, when the caller has already read them under the lock. */
  lots?: Lot[];
  /**
   * A BUY's: the SPLITs of the security already booked and dated on or after its date, in the
   * order they were applied (date-order.ts), read under the lock. The lot it opens is
   * restated by them.
   */
  laterSplits?: LaterSplit[];
  /**
   * A SELL's where shorting is allowed: the latest BUY of the security dated after it
   * (date-order.ts laterBuySql), read under the lock. A short lot the SELL would open is
   * refused behind it.
   */
  laterBuy?: LaterRelief;
  /**
   * More data-modifying CTEs (`name AS (INSERT …)`) to run in the booking's statement,
   * given what the booking changes (for an audit entry written in the same statement) and
   * the gate's FROM clause, which each of them must select from.
   */
  alsoWrite?: (booked: Booked, gated: Gated) => Prisma.Sql[];
  /**
   * For a booking computed from an unlocked read and written as one statement outside a
   * transaction: a CTE `gate AS (SELECT … FOR UPDATE)` that locks what the booking was
   * computed from and yields one row only if it is unchanged. Every write of the statement
   * selects from it, so the statement writes everything or nothing (`Booked.written`).
   */
  gate?: Prisma.Sql;
}

/** How a booking's CTEs select from the gate: `from` after a select list, `join` after a FROM list. */
export interface Gated {
  from: Prisma.Sql;
  join: Prisma.Sql;
}

/** What of the portfolio a booking needs. */
export type BookingPortfolio = Pick<Portfolio, 'id' | 'costBasisMethod' | 'allowShort'>;

/** What a booking changed, for the audit entry and the caller. */
export interface Booked {
  /** False when the gate found the data changed: nothing was written. */
  written: boolean;
  transactionId: string;
  /** The transaction row as written. */
  transaction: Transaction;
  /** The signed cash effect. */
  amount: D;
  lotsOpened: string[];
  lotsChanged: number;
  realizedGains: number;
}

const MAX_FUTURE_DAYS = 1;

/**
 * Values of one column (uuids, decimals, dates, integers, booleans: never a comma, never empty)
 * as one text parameter that the database splits into a typed array: Prisma serializes each
 * array element of a parameter on its own, which for the ten 1,000-element columns of a large
 * SELL cost twice the CPU of ten joined strings.
 */
function list(values: readonly (string | number | boolean)[], type: 'uuid' | 'numeric' | 'date' | 'int' | 'boolean'): Prisma.Sql {
  return Prisma.sql`string_to_array(${values.join(',')}, ',')::${Prisma.raw(type)}[]`;
}

/** NUMERIC(30,10): a value with more places would be silently rounded by the database. */
function checkScale(name: string, value: D | null | undefined): void {
  if (value == null) return;
  if (!value.isFinite()) throw badInput(`${name} must be a finite decimal`);
  const problem = scaleProblem(name, value, 10);
  if (problem) throw badInput(problem);
}

function positive(name: string, value: D | null | undefined, type: string): D {
  if (value == null) throw badInput(`${name} is required for a ${type} transaction`);
  checkScale(name, value);
  if (!value.gt(0)) throw badInput(`${name} must be greater than 0, got ${value.toFixed()}`);
  return value;
}

function forbid(type: string, fields: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(fields)) {
    if (v != null) throw badInput(`${name} is not allowed on a ${type} transaction`);
  }
}

/** Prisma's Decimal → the domain's decimal.js. */
export function toD(value: { toFixed(): string }): D {
  return new D(value.toFixed());
}

export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function dateOf(s: string): Date {
  return new Date(`${s}T00:00:00.000Z`);
}

/** Equal decimals, or both absent: what idempotent replays compare. */
export function same(a: { toFixed(): string } | null | undefined, b: D | null | undefined): boolean {
  if (a == null || b == null) return a == null && b == null;
  return toD(a).eq(b);
}

/**
 * The ledger: every transaction type, tax lots by the portfolio's cost-basis method,
 * cash per currency and realized gains, booked in one database transaction each.
 */
export class LedgerService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  /**
   * Validates the shape of a transaction (no I/O but the security lookup) so that a bad
   * request is refused before any transaction opens.
   */
  async normalize(tx: Db | Tx, input: TransactionInput): Promise<BookingInput> {
    const type = input.type;
    assertIsoDate(input.date, 'date');
    const latest = new Date(Date.now() + MAX_FUTURE_DAYS * 86_400_000).toISOString().slice(0, 10);
    if (input.date > latest) throw badInput(`date ${input.date} is in the future`);
    if (input.date < '1900-01-01') throw badInput(`date ${input.date} is too far in the past`);
    const externalId = optionalText(input.externalId, 'externalId', 200);
    const note = optionalText(input.note, 'note', 1000);
    checkScale('fee', input.fee);
    if (input.fee && input.fee.lt(0)) throw badInput(`fee must not be negative, got ${input.fee.toFixed()}`);
    const fee = input.fee ?? ZERO;

    const loadSecurity = async (required: boolean): Promise<Security | null> => {
      if (input.symbol == null || input.symbol.trim() === '') {
        if (required) throw badInput(`symbol is required for a ${type} transaction`);
        return null;
      }
      const sym = validSymbol(input.symbol);
      const security = await tx.security.findUnique({ where: { symbol: sym } });
      if (!security) throw badInput(`unknown symbol "${sym}"`);
      return security;
    };
    const securityCurrency = (security: Security): string => {
      const currency = input.currency ? currencyCode(input.currency) : security.currency;
      if (currency !== security.currency) {
        throw badInput(`currency ${currency} differs from ${security.symbol}'s trading currency ${security.currency}`);
      }
      return currency;
    };

    switch (type) {
      case 'BUY':
      case 'SELL': {
        forbid(type, { amount: input.amount, splitRatio: input.splitRatio });
        const quantity = positive('quantity', input.quantity, type);
        const price = positive('price', input.price, type);
        const security = (await loadSecurity(true))!;
        if (type === 'SELL' && sellProceeds(quantity, price, fee).lt(0)) {
          throw badInput(`fee ${fee.toFixed()} exceeds the sale's value ${quantity.times(price).toFixed()}`);
        }
        const checkAmount = buyCost(quantity, price, fee);
        checkScale('quantity × price + fee', checkAmount);
        return { type, date: input.date, security, quantity, price, fee, amount: null, currency: securityCurrency(security), splitRatio: null, externalId, note };
      }
      case 'DIVIDEND':
      case 'INTEREST':
      case 'DEPOSIT':
      case 'WITHDRAWAL':
      case 'FEE': {
        forbid(type, { quantity: input.quantity, price: input.price, splitRatio: input.splitRatio, fee: input.fee });
        const amount = positive('amount', input.amount, type);
        const security = type === 'DEPOSIT' || type === 'WITHDRAWAL' ? (forbid(type, { symbol: input.symbol }), null) : await loadSecurity(false);
        let currency: string;
        if (input.currency) currency = currencyCode(input.currency);
        else if (security) currency = security.currency;
        else throw badInput(`currency is required for a ${type} transaction`);
        return { type, date: input.date, security, quantity: null, price: null, fee: ZERO, amount, currency, splitRatio: null, externalId, note };
      }
      case 'SPLIT': {
        forbid(type, { quantity: input.quantity, price: input.price, amount: input.amount, fee: input.fee });
        if (input.splitRatio == null) throw badInput('splitRatio is required for a SPLIT transaction');
        checkScale('splitRatio', input.splitRatio);
        if (!input.splitRatio.gt(0)) throw badInput(`splitRatio must be greater than 0, got ${input.splitRatio.toFixed()}`);
        const security = (await loadSecurity(true))!;
        return { type, date: input.date, security, quantity: null, price: null, fee: ZERO, amount: null, currency: securityCurrency(security), splitRatio: input.splitRatio, externalId, note };
      }
      default:
        throw badInput(`unknown transaction type ${String(type)}`);
    }
  }

  /** recordTransaction: idempotent on (portfolio, externalId). */
  async record(ctx: ServiceContext, input: TransactionInput): Promise<TransactionRow> {
    return (await this.recordDetailed(ctx, input)).transaction;
  }

  /** record, saying whether the externalId had already been booked (nothing written then). */
  async recordDetailed(ctx: ServiceContext, input: TransactionInput): Promise<{ transaction: TransactionRow; replayed: boolean }> {
    const booking = await this.normalize(this.db, input);
    try {
      return await inTransaction(this.db, ctx, async (tx, afterCommit) => {
        const portfolio = await getWritablePortfolio(tx, ctx, input.portfolioId, true);
        if (booking.externalId) {
          const existing = await tx.transaction.findUnique({
            where: { portfolioId_externalId: { portfolioId: portfolio.id, externalId: booking.externalId } },
            include: withSymbol,
          });
          if (existing) return { transaction: this.replay(existing, booking), replayed: true };
        }
        if (booking.type === 'SPLIT') {
          await refuseSplitBookedTwice(tx, portfolio.id, booking.security!, booking.date);
          await inDateOrder(tx, portfolio, { ...booking, type: 'SPLIT' });
          await recordSplitAction(tx, booking.security!, booking.date, booking.splitRatio!);
        }
        const trade = booking.type === 'BUY' || booking.type === 'SELL' ? booking.type : null;
        const booked = await this.book(tx, portfolio, booking, afterCommit, {
          ...(trade ? await inDateOrder(tx, portfolio, { ...booking, type: trade }) : {}),
          alsoWrite: (booked, gated) => [
            auditCte(ctx, gated, {
              action: 'transaction.record',
              entityType: 'Transaction',
              entityId: booked.transactionId,
              portfolioId: portfolio.id,
              after: { ...booked.transaction, symbol: booking.security?.symbol ?? null, lotsOpened: booked.lotsOpened, lotsChanged: booked.lotsChanged, realizedGains: booked.realizedGains },
            }),
          ],
        });
        return { transaction: { ...booked.transaction, security: booking.security ? { symbol: booking.security.symbol } : null }, replayed: false };
      });
    } catch (err) {
      // Two first bookings of one externalId raced past the lookup: the loser replays the winner.
      if (booking.externalId && isUniqueViolation(err)) {
        const existing = await this.db.transaction.findUnique({
          where: { portfolioId_externalId: { portfolioId: input.portfolioId, externalId: booking.externalId } },
          include: withSymbol,
        });
        if (existing) return { transaction: this.replay(existing, booking), replayed: true };
      }
      throw err;
    }
  }

  /** The same externalId again: the first booking when the content matches, else CONFLICT. */
  private replay(existing: TransactionRow, b: BookingInput): TransactionRow {
    const differences: string[] = [];
    if (existing.type !== b.type) differences.push('type');
    if (isoDate(existing.tradeDate) !== b.date) differences.push('date');
    if ((existing.securityId ?? null) !== (b.security?.id ?? null)) differences.push('symbol');
    if (!same(existing.quantity, b.quantity)) differences.push('quantity');
    if (!same(existing.price, b.price)) differences.push('price');
    if (!same(existing.fee, b.fee)) differences.push('fee');
    if (existing.currency !== b.currency) differences.push('currency');
    if (!same(existing.splitRatio, b.splitRatio)) differences.push('splitRatio');
    if (b.amount && !toD(existing.amount).abs().eq(b.amount)) differences.push('amount');
    if (differences.length) {
      throw new DomainError('CONFLICT', `externalId "${b.externalId}" was already booked with a different ${differences.join(', ')} (transaction ${existing.id})`);
    }
    return existing;
  }

  /**
   * Books one normalised transaction inside the caller's database transaction, the
   * portfolio row already locked: transaction row, lots, realized gains, cash, stale NAV
   * mark. The caller writes the audit entry. Publishes trade.booked / cash.moved after commit.
   *
   * This is the hot path of every fill, so it talks SQL directly in as few round trips
   * as it can (see BENCHMARKS.md): one INSERT per table touched, lot changes in one
   * UPDATE … FROM unnest, cash and the stale-NAV mark in one statement.
   */
  async book(tx: Db | Tx, portfolio: BookingPortfolio, b: BookingInput, afterCommit: (fn: () => void) => void, options: BookOptions = {}): Promise<Booked> {
    const amount = cashEffect(b);
    const id = options.transactionId ?? randomUUID();
    const decimal = (v: D | null) => (v == null ? null : new Prisma.Decimal(v.toFixed()));
    const transaction: Transaction = {
      id,
      portfolioId: portfolio.id,
      securityId: b.security?.id ?? null,
      type: b.type,
      tradeDate: dateOf(b.date),
      quantity: decimal(b.quantity),
      price: decimal(b.price),
      amount: decimal(amount)!,
      fee: decimal(b.fee)!,
      currency: b.currency,
      splitRatio: decimal(b.splitRatio),
      externalId: b.externalId,
      note: b.note,
      createdAt: new Date(),
    };
    const result: Booked = { written: true, transactionId: id, transaction, amount, lotsOpened: [], lotsChanged: 0, realizedGains: 0 };
    const gated: Gated = options.gate ? { from: Prisma.sql`FROM gate`, join: Prisma.sql`, gate` } : { from: Prisma.empty, join: Prisma.empty };
    // Every write of the booking is one statement of data-modifying CTEs: one round trip.
    // Foreign keys between them (a lot opened by the new transaction) are checked at its end.
    const ctes: Prisma.Sql[] = [
      ...(options.gate ? [options.gate] : []),
      Prisma.sql`new_transaction AS (
        INSERT INTO transactions (id, portfolio_id, security_id, type, trade_date, quantity, price, amount, fee, currency, split_ratio, external_id, note, created_at)
        SELECT ${id}::uuid, ${portfolio.id}::uuid, ${b.security?.id ?? null}::uuid, ${b.type}::"TransactionType", ${b.date}::date,
                ${b.quantity?.toFixed() ?? null}::numeric, ${b.price?.toFixed() ?? null}::numeric, ${amount.toFixed()}::numeric, ${b.fee.toFixed()}::numeric,
                ${b.currency}, ${b.splitRatio?.toFixed() ?? null}::numeric, ${b.externalId}, ${b.note},
               ${transaction.createdAt.toISOString()}::timestamptz ${gated.from})`,
    ];
    if (b.security && (b.type === 'BUY' || b.type === 'SELL' || b.type === 'SPLIT')) {
      const lots = options.lots ?? (await this.openLots(tx, portfolio.id, b.security.id, b.type));
      ctes.push(...this.lotChanges(portfolio, b, b.security, id, lots, options, result, gated));
    }
    if (!amount.isZero()) {
      ctes.push(Prisma.sql`cash AS (
        INSERT INTO cash_balances (portfolio_id, currency, balance, updated_at)
        SELECT ${portfolio.id}::uuid, ${b.currency}, ${amount.toFixed()}::numeric, now() ${gated.from} WHERE true
        ON CONFLICT (portfolio_id, currency) DO UPDATE SET balance = cash_balances.balance + EXCLUDED.balance, updated_at = now())`);
    }
    ctes.push(...(options.alsoWrite?.(result, gated) ?? []));
    // Every booking can change the stored daily NAV from its trade date on.
    result.written =
      (await executeRows(tx, Prisma.sql`${preparedStatement}
      WITH ${Prisma.join(ctes, ', ')}
      UPDATE portfolios SET nav_stale_from = LEAST(COALESCE(nav_stale_from, ${b.date}::date), ${b.date}::date)
      ${gated.from} WHERE portfolios.id = ${portfolio.id}::uuid`)) > 0;
    if (!result.written) return result;

    afterCommit(() => {
      if (b.type === 'BUY' || b.type === 'SELL' || b.type === 'SPLIT') {
        this.bus.publish({ type: 'trade.booked', portfolioId: portfolio.id, transactionId: id, securityId: b.security?.id ?? null, tradeDate: b.date });
      } else {
        this.bus.publish({ type: 'cash.moved', portfolioId: portfolio.id, transactionId: id, currency: b.currency, tradeDate: b.date });
      }
    });
    return result;
  }

  /** The open lots of one security that a booking of `type` touches (openLotsSql). */
  async openLots(tx: Tx, portfolioId: string, securityId: string, type: 'BUY' | 'SELL' | 'SPLIT'): Promise<Lot[]> {
    const rows = await tx.$queryRaw<{ lots: OpenLotJson[] }[]>`SELECT ${openLotsSql(Prisma.sql`${portfolioId}::uuid`, Prisma.sql`${securityId}::uuid`, type)} AS lots`;
    return lotsFromJson(rows[0]!.lots);
  }

  /** Runs the lot engine and returns the writes it asks for as CTEs. Throws BAD_USER_INPUT on an oversell. */
  private lotChanges(
    portfolio: BookingPortfolio,
    b: BookingInput,
    security: Security,
    transactionId: string,
    lots: Lot[],
    { laterSplits, laterBuy }: Pick<BookOptions, 'laterSplits' | 'laterBuy'>,
    result: Booked,
    gated: Gated,
  ): Prisma.Sql[] {
    const method = portfolio.costBasisMethod;
    const out: Prisma.Sql[] = [];
    // Lot updates join their rows of ids on the whole key (portfolio, security, id), the portfolio and
    // security carried on every row of a subquery kept as it is (OFFSET 0): so they are join keys
    // of the unique index, never a condition of their own on lots. As one, the planner estimates
    // the security's lots from an unanalysed table's defaults (one lot), and the ids of a parameter
    // list (the generic plan of the prepared statement, from its sixth run on a connection) at ten:
    // it then scanned the security's lots once per id, a million rows and 0.12 s for a SELL
    // relieving 1,000 lots. Joined, lots is reached through the ids, one index probe each (or one
    // hash of the lots when the planner knows the list is long).
    const keyed = (rows: Prisma.Sql) =>
      Prisma.sql`(SELECT ${portfolio.id}::uuid AS portfolio_id, ${security.id}::uuid AS security_id, r.* FROM ${rows} OFFSET 0) AS u`;
    const ofSecurity = Prisma.sql`(lots.portfolio_id, lots.security_id, lots.id) = (u.portfolio_id, u.security_id, u.id)`;
    let opened: { quantity: D; cost: D } | undefined;
    let updates: LotUpdate[] = [];
    let gains: RealizedGainRow[] = [];

    if (b.type === 'BUY') {
      const split = laterSplits?.[0];
      // The short lots it would cover were restated by the split: the BUY, in pre-split shares, cannot cover them.
      if (split && lots.some((l) => isBelowZero(l.qtyOpen) && l.acquiredOn <= b.date)) {
        throw badInput(
          `a BUY of ${security.symbol} dated ${b.date} cannot cover short lots behind the SPLIT dated ${split.date} (transaction ${split.id}): ` +
            `the split restated them in post-split shares and booked history is not replayed`,
        );
      }
      const r = coverShorts(lots, { quantity: b.quantity!, cost: buyCost(b.quantity!, b.price!, b.fee), boughtOn: b.date, method });
      updates = r.updates;
      gains = r.gains;
      opened = r.longOpened;
      // Bought before splits already booked: the lot is in the shares those splits made of it.
      if (opened && laterSplits) {
        const lot = restateBySplits({ id: '', qtyOriginal: opened.quantity, qtyOpen: opened.quantity, costBasis: opened.cost, acquiredOn: b.date }, laterSplits.map((s) => new D(s.ratio)));
        opened = { quantity: lot.qtyOpen, cost: lot.costBasis };
      }
    } else if (b.type === 'SELL') {
      const holdsAny = lots.some((l) => isAboveZero(l.qtyOpen) && l.acquiredOn <= b.date);
      if (!holdsAny && !portfolio.allowShort) {
        throw badInput(`cannot sell ${b.quantity!.toFixed()} ${security.symbol}: the portfolio holds none on ${b.date} (short by ${b.quantity!.toFixed()}) and does not allow shorting`);
      }
      const r = relieveLots(lots, { quantity: b.quantity!, proceeds: sellProceeds(b.quantity!, b.price!, b.fee), soldOn: b.date, method, allowShort: portfolio.allowShort });
      // In date order the later BUY would have covered the short lot this SELL opens.
      if (r.shortOpened && laterBuy) throw shortBehindLaterBuy(security.symbol, b.date, laterBuy);
      updates = r.updates;
      gains = r.gains;
      if (r.shortOpened) opened = { quantity: r.shortOpened.quantity, cost: r.shortOpened.costBasis };
    } else {
      // SPLIT: lots opened after the split date were bought at post-split prices.
      const split = applySplit(lots.filter((l) => l.acquiredOn <= b.date), b.splitRatio!);
      if (split.length) {
        out.push(Prisma.sql`split_lots AS (
          UPDATE lots SET qty_open = u.q, qty_original = u.q0
          FROM ${keyed(Prisma.sql`unnest(${list(split.map((l) => l.id), 'uuid')}, ${list(split.map((l) => l.qtyOpen.toFixed()), 'numeric')},
                      ${list(split.map((l) => l.qtyOriginal.toFixed()), 'numeric')}) AS r(id, q, q0)`)} ${gated.join}
          WHERE ${ofSecurity})`);
      }
      result.lotsChanged = split.length;
      return out;
    }

    // A closed lot is 0 open at 0 cost as of the trade date (the lot engine's convention), so all
    // closed lots are one `= ANY` update; only partly relieved or re-based lots carry values.
    const closed = updates.filter((u) => u.closedOn !== null);
    const changed = updates.filter((u) => u.closedOn === null);
    for (const u of closed) {
      if (u.closedOn !== b.date || !u.qtyOpen.isZero() || !u.costBasis.isZero()) throw new Error(`lot ${u.lotId} closed as ${u.qtyOpen.toFixed()} at ${u.costBasis.toFixed()} on ${u.closedOn}`);
    }
    if (closed.length) {
      // The ids in a FROM item, not `= ANY(list)`: on a generic plan the list would be split anew for every lot.
      out.push(Prisma.sql`closed_lots AS (
        UPDATE lots SET qty_open = 0, cost_basis = 0, closed_on = ${b.date}::date
        FROM ${keyed(Prisma.sql`unnest(${list(closed.map((u) => u.lotId), 'uuid')}) AS r(id)`)} ${gated.join}
        WHERE ${ofSecurity})`);
    }
    if (changed.length) {
      out.push(Prisma.sql`relieved_lots AS (
        UPDATE lots SET qty_open = u.q, cost_basis = u.c
        FROM ${keyed(Prisma.sql`unnest(${list(changed.map((u) => u.lotId), 'uuid')}, ${list(changed.map((u) => u.qtyOpen.toFixed()), 'numeric')},
                    ${list(changed.map((u) => u.costBasis.toFixed()), 'numeric')}) AS r(id, q, c)`)} ${gated.join}
        WHERE ${ofSecurity})`);
    }
    if (gains.length) {
      out.push(Prisma.sql`gains AS (
        INSERT INTO realized_gains (id, portfolio_id, lot_id, transaction_id, security_id, quantity, proceeds, cost, gain, currency, acquired_on, sold_on, holding_days, long_term)
        SELECT gen_random_uuid(), ${portfolio.id}::uuid, g.lot, ${transactionId}::uuid, ${security.id}::uuid, g.q, g.p, g.c, g.g,
               ${b.currency}, g.a, ${b.date}::date, g.days, g.lt
        FROM unnest(${list(gains.map((g) => g.lotId), 'uuid')}, ${list(gains.map((g) => g.quantity.toFixed()), 'numeric')}, ${list(gains.map((g) => g.proceeds.toFixed()), 'numeric')},
                    ${list(gains.map((g) => g.cost.toFixed()), 'numeric')}, ${list(gains.map((g) => g.gain.toFixed()), 'numeric')}, ${list(gains.map((g) => g.acquiredOn), 'date')},
                    ${list(gains.map((g) => g.holdingDays), 'int')}, ${list(gains.map((g) => g.longTerm), 'boolean')})
             WITH ORDINALITY AS g(lot, q, p, c, g, a, days, lt, n) ${gated.join}
        ORDER BY g.n)`);
    }
    if (opened) {
      const lotId = randomUUID();
      out.push(Prisma.sql`opened_lot AS (
        INSERT INTO lots (id, portfolio_id, security_id, open_transaction_id, qty_original, qty_open, cost_basis, acquired_on)
        SELECT ${lotId}::uuid, ${portfolio.id}::uuid, ${security.id}::uuid, ${transactionId}::uuid, ${opened.quantity.toFixed()}::numeric,
               ${opened.quantity.toFixed()}::numeric, ${opened.cost.toFixed()}::numeric, ${b.date}::date ${gated.from})`);
      result.lotsOpened.push(lotId);
    }
    result.lotsChanged = updates.length;
    result.realizedGains = gains.length;
    return out;
  }

  // ------------------------------------------------------------------ reads

  async lots(ctx: ServiceContext, portfolioId: string, openOnly = true): Promise<LotWithSymbol[]> {
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    return this.db.lot.findMany({
      where: { portfolioId: portfolio.id, ...(openOnly ? { closedOn: null } : {}) },
      orderBy: [{ acquiredOn: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }],
      include: withSymbol,
    });
  }

  /** Newest first by trade date, then by booking order. */
  async transactions(ctx: ServiceContext, portfolioId: string, args: PageArgs): Promise<Page<TransactionRow>> {
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    const where: Prisma.TransactionWhereInput = { portfolioId: portfolio.id };
    return paginate(
      args,
      (t) => t.id,
      (after, take) =>
        this.db.transaction.findMany({
          where,
          orderBy: [{ tradeDate: 'desc' }, { createdAt: 'desc' }, { id: 'desc' }],
          take,
          include: withSymbol,
          ...(after ? { cursor: { id: after }, skip: 1 } : {}),
        }),
      () => this.db.transaction.count({ where }),
    );
  }

  /** One row per relieved lot, sold on or after `from` and on or before `to`, oldest sale first. */
  async realizedGains(ctx: ServiceContext, portfolioId: string, from?: string | null, to?: string | null): Promise<RealizedGainWithSymbol[]> {
    if (from) assertIsoDate(from, 'from');
    if (to) assertIsoDate(to, 'to');
    if (from && to && from > to) throw badInput(`from ${from} is after to ${to}`);
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    const rows = await this.db.realizedGain.findMany({
      where: { portfolioId: portfolio.id, soldOn: { ...(from ? { gte: dateOf(from) } : {}), ...(to ? { lte: dateOf(to) } : {}) } },
      orderBy: [{ soldOn: 'asc' }, { createdAt: 'asc' }, { acquiredOn: 'asc' }, { id: 'asc' }],
      // The gain's security is its lot's (one foreign key holds both).
      include: { lot: { select: withSymbol } },
    });
    return rows.map(({ lot, ...gain }) => ({ ...gain, security: lot.security }));
  }

  async cashBalances(ctx: ServiceContext, portfolioId: string): Promise<{ currency: string; balance: D }[]> {
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    const rows = await this.db.cashBalance.findMany({ where: { portfolioId: portfolio.id }, orderBy: { currency: 'asc' } });
    return rows.map((r) => ({ currency: r.currency, balance: toD(r.balance) }));
  }
}
