import Decimal from 'decimal.js';
import { ZERO, sum } from './decimal';
import type { FxTable } from './fx';
import { toEpochDay } from './dates';

/**
 * Valuation of a portfolio at one date, in its base currency (API.md, Semantics):
 *   NAV = Σ quantity × last price on or before the date × FX(security ccy → base)
 *       + Σ cash balance × FX(cash ccy → base).
 * A holding without any price is valued at cost and flagged MISSING (the valuation is then
 * incomplete); a price older than `staleDays` calendar days is flagged STALE. A currency
 * without any rate to the base is valued at 0 and listed in `missingFxRates`.
 * Outputs are rounded half-even to OUTPUT_DP places (the database's scale); sums are
 * taken before rounding.
 */

export const OUTPUT_DP = 10;

export type PricingStatus = 'OK' | 'STALE' | 'MISSING';

export interface PositionInput {
  securityId: string;
  symbol: string;
  name: string;
  currency: string;
  sector: string | null;
  assetClass: string | null;
  country: string | null;
  /** Negative for a short position. */
  quantity: Decimal;
  /** Total cost of the open quantity, in the security's currency (negative proceeds for a short). */
  costBasis: Decimal;
  price: { value: Decimal; date: string } | null;
}

export interface CashInput {
  currency: string;
  balance: Decimal;
}

export interface ValuationInput {
  baseCurrency: string;
  /** YYYY-MM-DD: prices and FX rates on or before it are used. */
  date: string;
  /** The instant reported as `asOf`. */
  asOf: Date;
  positions: readonly PositionInput[];
  cash: readonly CashInput[];
  fx: FxTable;
  staleDays: number;
}

export interface HoldingValue {
  securityId: string;
  symbol: string;
  name: string;
  currency: string;
  sector: string | null;
  assetClass: string | null;
  country: string | null;
  quantity: Decimal;
  price: Decimal | null;
  priceDate: string | null;
  marketValue: Decimal;
  fxRate: Decimal | null;
  marketValueBase: Decimal;
  costBasis: Decimal;
  unrealizedPnl: Decimal;
  unrealizedPnlBase: Decimal;
  weight: Decimal;
  pricingStatus: PricingStatus;
}

export interface CashValue {
  currency: string;
  balance: Decimal;
  fxRate: Decimal | null;
  balanceBase: Decimal;
}

export interface ValuationResult {
  asOf: Date;
  date: string;
  baseCurrency: string;
  nav: Decimal;
  cashValue: Decimal;
  positionsValue: Decimal;
  complete: boolean;
  stale: boolean;
  missingFxRates: string[];
  holdings: HoldingValue[];
  cash: CashValue[];
}

const round = (d: Decimal) => d.toDecimalPlaces(OUTPUT_DP);

export function pricingStatus(priceDate: string | null, date: string, staleDays: number): PricingStatus {
  if (!priceDate) return 'MISSING';
  return toEpochDay(date) - toEpochDay(priceDate) > staleDays ? 'STALE' : 'OK';
}

/** pricingStatus with the date arithmetic done once per distinct price date. */
function statusOf(date: string, staleDays: number): (priceDate: string | null) => PricingStatus {
  const cache = new Map<string, PricingStatus>();
  return (priceDate) => {
    if (!priceDate) return 'MISSING';
    let s = cache.get(priceDate);
    if (!s) cache.set(priceDate, (s = pricingStatus(priceDate, date, staleDays)));
    return s;
  };
}

export function valuePortfolio(input: ValuationInput): ValuationResult {
  const { baseCurrency, date, fx } = input;
  const missingFx = new Set<string>();
  const rateOf = (currency: string): Decimal | null => {
    const r = fx.convertRate(currency, baseCurrency, date)?.rate ?? null;
    if (!r) missingFx.add(currency);
    return r;
  };

  const status_ = statusOf(date, input.staleDays);
  const raw = input.positions
    .filter((p) => !p.quantity.isZero())
    .map((p) => {
      const status = status_(p.price?.date ?? null);
      const marketValue = p.price ? p.quantity.times(p.price.value) : p.costBasis;
      const fxRate = rateOf(p.currency);
      const unrealizedPnl = marketValue.minus(p.costBasis);
      return {
        p,
        status,
        marketValue,
        fxRate,
        marketValueBase: fxRate ? marketValue.times(fxRate) : ZERO,
        unrealizedPnl,
        unrealizedPnlBase: fxRate ? unrealizedPnl.times(fxRate) : ZERO,
      };
    });
  const cashRaw = input.cash
    .filter((c) => !c.balance.isZero())
    .map((c) => {
      const fxRate = rateOf(c.currency);
      return { c, fxRate, balanceBase: fxRate ? c.balance.times(fxRate) : ZERO };
    });

  const positionsValue = sum(raw.map((h) => h.marketValueBase));
  const cashValue = sum(cashRaw.map((c) => c.balanceBase));
  const nav = positionsValue.plus(cashValue);
  // One division, then products: 40 significant digits keep the 10-place weights exact.
  const invNav = nav.isZero() ? ZERO : new (nav.constructor as typeof Decimal)(1).div(nav);

  const holdings: HoldingValue[] = raw
    .map(({ p, status, marketValue, fxRate, marketValueBase, unrealizedPnl, unrealizedPnlBase }) => ({
      securityId: p.securityId,
      symbol: p.symbol,
      name: p.name,
      currency: p.currency,
      sector: p.sector,
      assetClass: p.assetClass,
      country: p.country,
      quantity: p.quantity,
      price: p.price?.value ?? null,
      priceDate: p.price?.date ?? null,
      marketValue: round(marketValue),
      fxRate,
      marketValueBase: round(marketValueBase),
      costBasis: round(p.costBasis),
      unrealizedPnl: round(unrealizedPnl),
      unrealizedPnlBase: round(unrealizedPnlBase),
      weight: round(marketValueBase.times(invNav)),
      pricingStatus: status,
    }))
    .sort((a, b) => b.marketValueBase.abs().cmp(a.marketValueBase.abs()) || (a.symbol < b.symbol ? -1 : 1));

  return {
    asOf: input.asOf,
    date,
    baseCurrency,
    nav: round(nav),
    cashValue: round(cashValue),
    positionsValue: round(positionsValue),
    complete: missingFx.size === 0 && holdings.every((h) => h.pricingStatus !== 'MISSING'),
    stale: holdings.some((h) => h.pricingStatus === 'STALE'),
    missingFxRates: [...missingFx].sort(),
    holdings,
    cash: cashRaw
      .map(({ c, fxRate, balanceBase }) => ({ currency: c.currency, balance: c.balance, fxRate, balanceBase: round(balanceBase) }))
      .sort((a, b) => (a.currency < b.currency ? -1 : 1)),
  };
}
