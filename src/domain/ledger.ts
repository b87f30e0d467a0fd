import { D, ZERO } from './decimal';
import { MONEY_DP } from './lots';

/**
 * Ledger and order formulas: pure functions on plain decimals.
 *
 * Cash effect of a transaction (API.md, "Semantics"), signed, in the
 * transaction's currency:
 *   BUY        −(quantity × price + fee)
 *   SELL       +(quantity × price − fee)
 *   DIVIDEND, INTEREST, DEPOSIT   +amount
 *   WITHDRAWAL, FEE               −amount
 *   SPLIT      0
 * quantity × price is rounded to MONEY_DP (10) places, half-even: the
 * NUMERIC(30,10) scale the amount is stored with.
 */

export type TransactionType = 'BUY' | 'SELL' | 'DIVIDEND' | 'INTEREST' | 'DEPOSIT' | 'WITHDRAWAL' | 'FEE' | 'SPLIT';
export const TRADE_TYPES: readonly TransactionType[] = ['BUY', 'SELL'];
export const CASH_TYPES: readonly TransactionType[] = ['DIVIDEND', 'INTEREST', 'DEPOSIT', 'WITHDRAWAL', 'FEE'];

/** quantity × price at the stored money scale. */
export function grossValue(quantity: D, price: D): D {
  return quantity.times(price).toDecimalPlaces(MONEY_DP);
}

/** What a BUY costs in total (lot cost basis): gross + fee. */
export function buyCost(quantity: D, price: D, fee: D): D {
  return grossValue(quantity, price).plus(fee);
}

/** What a SELL brings in net (realized proceeds): gross − fee. */
export function sellProceeds(quantity: D, price: D, fee: D): D {
  return grossValue(quantity, price).minus(fee);
}

export interface CashEffectInput {
  type: TransactionType;
  quantity?: D | null;
  price?: D | null;
  fee?: D | null;
  amount?: D | null;
}

/** The signed cash movement of one transaction (see the table above). */
export function cashEffect(t: CashEffectInput): D {
  const fee = t.fee ?? ZERO;
  switch (t.type) {
    case 'BUY':
      return buyCost(t.quantity!, t.price!, fee).neg();
    case 'SELL':
      return sellProceeds(t.quantity!, t.price!, fee);
    case 'DIVIDEND':
    case 'INTEREST':
    case 'DEPOSIT':
      return t.amount!;
    case 'WITHDRAWAL':
    case 'FEE':
      return t.amount!.neg();
    case 'SPLIT':
      return ZERO;
  }
}

/**
 * Volume-weighted average price of fills: Σ(qty × price) / Σ qty, rounded to
 * MONEY_DP places half-even; null without fills.
 *   fills 30 @ 10 and 70 @ 11 → (300 + 770) / 100 = 10.7
 */
export function volumeWeightedPrice(fills: readonly { quantity: D; price: D }[]): D | null {
  let qty: D = ZERO;
  let value: D = ZERO;
  for (const f of fills) {
    qty = qty.plus(f.quantity);
    value = value.plus(f.quantity.times(f.price));
  }
  return qty.isZero() ? null : value.div(qty).toDecimalPlaces(MONEY_DP);
}

/**
 * The same VWAP from running totals, Σ(qty × price) and Σ qty, plus one more fill: what a
 * fill needs without reading every earlier fill. null when no quantity.
 *   totals 300 for 30, then 70 @ 11 → (300 + 770) / 100 = 10.7
 */
export function volumeWeightedPriceAfter(totalValue: D, totalQuantity: D, fill: { quantity: D; price: D }): D | null {
  const qty = totalQuantity.plus(fill.quantity);
  return qty.isZero() ? null : totalValue.plus(fill.quantity.times(fill.price)).div(qty).toDecimalPlaces(MONEY_DP);
}

export type OrderSide = 'BUY' | 'SELL';
export type OrderType = 'MARKET' | 'LIMIT' | 'STOP' | 'STOP_LIMIT';
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELLED' | 'REJECTED';

export const OPEN_ORDER_STATUSES: readonly OrderStatus[] = ['NEW', 'PARTIALLY_FILLED'];

/** Which prices an order type needs; a message naming the problem, or null. */
export function orderPriceProblem(type: OrderType, limitPrice: D | null | undefined, stopPrice: D | null | undefined): string | null {
  const needsLimit = type === 'LIMIT' || type === 'STOP_LIMIT';
  const needsStop = type === 'STOP' || type === 'STOP_LIMIT';
  if (needsLimit && !limitPrice) return `limitPrice is required for a ${type} order`;
  if (!needsLimit && limitPrice) return `limitPrice is not allowed on a ${type} order`;
  if (needsStop && !stopPrice) return `stopPrice is required for a ${type} order`;
  if (!needsStop && stopPrice) return `stopPrice is not allowed on a ${type} order`;
  for (const [name, v] of [['limitPrice', limitPrice], ['stopPrice', stopPrice]] as const) {
    if (v && !v.gt(0)) return `${name} must be greater than 0, got ${v.toFixed()}`;
  }
  return null;
}

/** A fill price the order's limit forbids: a BUY above its limit, a SELL below it. */
export function fillPriceProblem(side: OrderSide, limitPrice: D | null | undefined, price: D): string | null {
  if (!limitPrice) return null;
  if (side === 'BUY' && price.gt(limitPrice)) return `fill price ${price.toFixed()} is above the BUY limit ${limitPrice.toFixed()}`;
  if (side === 'SELL' && price.lt(limitPrice)) return `fill price ${price.toFixed()} is below the SELL limit ${limitPrice.toFixed()}`;
  return null;
}

export interface TriggerOrder {
  side: OrderSide;
  type: OrderType;
  limitPrice?: D | null;
  stopPrice?: D | null;
}

/**
 * The price a simulated (paper) execution happens at when the market trades at
 * `price`, or null when the order does not execute at that price:
 * - MARKET: at the price.
 * - LIMIT: BUY when price ≤ limit, SELL when price ≥ limit; at the price (it is at least as good).
 * - STOP: triggers when BUY price ≥ stop, SELL price ≤ stop; then at the price, like a market order.
 * - STOP_LIMIT: triggers like STOP, then executes only if the limit is also satisfied.
 */
export function paperExecutionPrice(order: TriggerOrder, price: D): D | null {
  const buy = order.side === 'BUY';
  const limitOk = (l: D | null | undefined) => !l || (buy ? price.lte(l) : price.gte(l));
  const stopHit = (s: D | null | undefined) => !!s && (buy ? price.gte(s) : price.lte(s));
  switch (order.type) {
    case 'MARKET':
      return price;
    case 'LIMIT':
      return limitOk(order.limitPrice) ? price : null;
    case 'STOP':
      return stopHit(order.stopPrice) ? price : null;
    case 'STOP_LIMIT':
      return stopHit(order.stopPrice) && limitOk(order.limitPrice) ? price : null;
  }
}
