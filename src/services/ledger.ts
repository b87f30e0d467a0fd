import type { Lot as LotRow, Portfolio, Prisma, RealizedGain, Security, Transaction } from '../generated/prisma/client';
import { D, ZERO } from '../domain/decimal';
import { DomainError } from '../domain/errors';
import { assertIsoDate } from '../domain/dates';
import { applySplit, coverShorts, relieveLots, type Lot, type LotUpdate, type RealizedGainRow } from '../domain/lots';
import { buyCost, cashEffect, sellProceeds, type TransactionType } from '../domain/ledger';
import { scaleProblem } from '../domain/market';
import type { EventBus } from '../events/bus';
import type { Db, Tx } from './db';
import { isUniqueViolation } from './db';
import type { ServiceContext } from './context';
import { getReadablePortfolio, getWritablePortfolio } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
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

/** What a booking changed, for the audit entry and the caller. */
export interface Booked {
  transaction: TransactionRow;
  lotsOpened: string[];
  lotsChanged: number;
  realizedGains: number;
}

const MAX_FUTURE_DAYS = 1;

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

function same(a: { toFixed(): string } | null | undefined, b: D | null | undefined): boolean {
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
    const booking = await this.normalize(this.db, input);
    try {
      return await inTransaction(this.db, ctx, async (tx, afterCommit) => {
        const portfolio = await getWritablePortfolio(tx, ctx, input.portfolioId, true);
        if (booking.externalId) {
          const existing = await tx.transaction.findUnique({
            where: { portfolioId_externalId: { portfolioId: portfolio.id, externalId: booking.externalId } },
            include: withSymbol,
          });
          if (existing) return this.replay(existing, booking);
        }
        const booked = await this.book(tx, portfolio, booking, afterCommit);
        await writeAudit(tx, ctx, {
          action: 'transaction.record',
          entityType: 'Transaction',
          entityId: booked.transaction.id,
          portfolioId: portfolio.id,
          after: { ...booked.transaction, security: undefined, symbol: booking.security?.symbol ?? null, lotsOpened: booked.lotsOpened, lotsChanged: booked.lotsChanged, realizedGains: booked.realizedGains },
        });
        return booked.transaction;
      });
    } catch (err) {
      // Two first bookings of one externalId raced past the lookup: the loser replays the winner.
      if (booking.externalId && isUniqueViolation(err)) {
        const existing = await this.db.transaction.findUnique({
          where: { portfolioId_externalId: { portfolioId: input.portfolioId, externalId: booking.externalId } },
          include: withSymbol,
        });
        if (existing) return this.replay(existing, booking);
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
   */
  async book(tx: Tx, portfolio: Portfolio, b: BookingInput, afterCommit: (fn: () => void) => void): Promise<Booked> {
    const amount = cashEffect(b);
    const transaction = await tx.transaction.create({
      data: {
        portfolioId: portfolio.id,
        securityId: b.security?.id ?? null,
        type: b.type,
        tradeDate: dateOf(b.date),
        quantity: b.quantity?.toFixed() ?? null,
        price: b.price?.toFixed() ?? null,
        amount: amount.toFixed(),
        fee: b.fee.toFixed(),
        currency: b.currency,
        splitRatio: b.splitRatio?.toFixed() ?? null,
        externalId: b.externalId,
        note: b.note,
      },
      include: withSymbol,
    });

    const result: Booked = { transaction, lotsOpened: [], lotsChanged: 0, realizedGains: 0 };
    if (b.security && (b.type === 'BUY' || b.type === 'SELL' || b.type === 'SPLIT')) {
      await this.moveLots(tx, portfolio, b, b.security, transaction.id, result);
    }
    if (!amount.isZero()) {
      await tx.$executeRaw`
        INSERT INTO cash_balances (portfolio_id, currency, balance, updated_at)
        VALUES (${portfolio.id}::uuid, ${b.currency}, ${amount.toFixed()}::numeric, now())
        ON CONFLICT (portfolio_id, currency) DO UPDATE SET balance = cash_balances.balance + EXCLUDED.balance, updated_at = now()`;
    }
    // Every booking can change the stored daily NAV from its trade date on.
    await tx.$executeRaw`
      UPDATE portfolios SET nav_stale_from = LEAST(COALESCE(nav_stale_from, ${b.date}::date), ${b.date}::date)
      WHERE id = ${portfolio.id}::uuid`;

    afterCommit(() => {
      if (b.type === 'BUY' || b.type === 'SELL' || b.type === 'SPLIT') {
        this.bus.publish({ type: 'trade.booked', portfolioId: portfolio.id, transactionId: transaction.id, securityId: b.security?.id ?? null, tradeDate: b.date });
      } else {
        this.bus.publish({ type: 'cash.moved', portfolioId: portfolio.id, transactionId: transaction.id, currency: b.currency, tradeDate: b.date });
      }
    });
    return result;
  }

  private async moveLots(tx: Tx, portfolio: Portfolio, b: BookingInput, security: Security, transactionId: string, result: Booked): Promise<void> {
    const rows = await tx.lot.findMany({
      where: { portfolioId: portfolio.id, securityId: security.id, closedOn: null },
      orderBy: [{ acquiredOn: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }],
    });
    const lots: Lot[] = rows.map((r) => ({ id: r.id, qtyOriginal: toD(r.qtyOriginal), qtyOpen: toD(r.qtyOpen), costBasis: toD(r.costBasis), acquiredOn: isoDate(r.acquiredOn) }));
    const method = portfolio.costBasisMethod;
    const newLots: { quantity: D; cost: D }[] = [];
    let updates: LotUpdate[] = [];
    let gains: RealizedGainRow[] = [];

    if (b.type === 'BUY') {
      const r = coverShorts(lots, { quantity: b.quantity!, cost: buyCost(b.quantity!, b.price!, b.fee), boughtOn: b.date, method });
      updates = r.updates;
      gains = r.gains;
      if (r.longOpened) newLots.push(r.longOpened);
    } else if (b.type === 'SELL') {
      const held = lots.filter((l) => l.qtyOpen.gt(0) && l.acquiredOn <= b.date).reduce((a, l) => a.plus(l.qtyOpen), ZERO);
      if (held.isZero() && !portfolio.allowShort) {
        throw badInput(`cannot sell ${b.quantity!.toFixed()} ${security.symbol}: the portfolio holds none on ${b.date} (short by ${b.quantity!.toFixed()}) and does not allow shorting`);
      }
      const r = relieveLots(lots, { quantity: b.quantity!, proceeds: sellProceeds(b.quantity!, b.price!, b.fee), soldOn: b.date, method, allowShort: portfolio.allowShort });
      updates = r.updates;
      gains = r.gains;
      if (r.shortOpened) newLots.push({ quantity: r.shortOpened.quantity, cost: r.shortOpened.costBasis });
    } else {
      // SPLIT: lots opened after the split date were bought at post-split prices.
      const eligible = lots.filter((l) => l.acquiredOn <= b.date);
      const split = applySplit(eligible, b.splitRatio!);
      for (const lot of split) {
        await tx.lot.update({ where: { id: lot.id }, data: { qtyOpen: lot.qtyOpen.toFixed(), qtyOriginal: lot.qtyOriginal.toFixed() } });
      }
      result.lotsChanged = split.length;
      return;
    }

    for (const u of updates) {
      await tx.lot.update({
        where: { id: u.lotId },
        data: { qtyOpen: u.qtyOpen.toFixed(), costBasis: u.costBasis.toFixed(), closedOn: u.closedOn ? dateOf(u.closedOn) : null },
      });
    }
    if (gains.length) {
      await tx.realizedGain.createMany({
        data: gains.map((g) => ({
          portfolioId: portfolio.id,
          lotId: g.lotId,
          transactionId,
          securityId: security.id,
          quantity: g.quantity.toFixed(),
          proceeds: g.proceeds.toFixed(),
          cost: g.cost.toFixed(),
          gain: g.gain.toFixed(),
          currency: b.currency,
          acquiredOn: dateOf(g.acquiredOn),
          soldOn: dateOf(g.soldOn),
          holdingDays: g.holdingDays,
          longTerm: g.longTerm,
        })),
      });
    }
    for (const n of newLots) {
      const lot = await tx.lot.create({
        data: {
          portfolioId: portfolio.id,
          securityId: security.id,
          openTransactionId: transactionId,
          qtyOriginal: n.quantity.toFixed(),
          qtyOpen: n.quantity.toFixed(),
          costBasis: n.cost.toFixed(),
          acquiredOn: dateOf(b.date),
        },
        select: { id: true },
      });
      result.lotsOpened.push(lot.id);
    }
    result.lotsChanged = updates.length;
    result.realizedGains = gains.length;
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
    return this.db.realizedGain.findMany({
      where: { portfolioId: portfolio.id, soldOn: { ...(from ? { gte: dateOf(from) } : {}), ...(to ? { lte: dateOf(to) } : {}) } },
      orderBy: [{ soldOn: 'asc' }, { createdAt: 'asc' }, { acquiredOn: 'asc' }, { id: 'asc' }],
      include: withSymbol,
    });
  }

  async cashBalances(ctx: ServiceContext, portfolioId: string): Promise<{ currency: string; balance: D }[]> {
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    const rows = await this.db.cashBalance.findMany({ where: { portfolioId: portfolio.id }, orderBy: { currency: 'asc' } });
    return rows.map((r) => ({ currency: r.currency, balance: toD(r.balance) }));
  }
}
