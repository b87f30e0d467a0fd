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

/** What a holding says about its security; the breakdowns of exposure group by these. */
export interface SecurityFields {
  securityId: string;
  symbol: string;
  name: string;
  currency: string;
  sector: string | null;
  assetClass: string | null;
  country: string | null;
}

export interface PositionInput extends SecurityFields {
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

export interface HoldingValue extends SecurityFields {
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

/** Half-even to OUTPUT_DP places; a value already that short is returned as is (no new Decimal). */
const round = (d: Decimal) => (d.decimalPlaces() <= OUTPUT_DP ? d : d.toDecimalPlaces(OUTPUT_DP));

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
  // One lookup per currency (a 1,000-holding book has a handful of them).
  const rates = new Map<string, Decimal | null>();
  const rateOf = (currency: string): Decimal | null => {
    let r = rates.get(currency);
    if (r === undefined) {
      r = fx.convertRate(currency, baseCurrency, date)?.rate ?? null;
      rates.set(currency, r);
    }
    if (!r) missingFx.add(currency);
    return r;
  };
  // Identity (the base currency itself) needs no multiplication.
  const toBase = (amount: Decimal, rate: Decimal | null) => (!rate ? ZERO : rate.eq(1) ? amount : amount.times(rate));

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
        marketValueBase: toBase(marketValue, fxRate),
        unrealizedPnl,
        unrealizedPnlBase: toBase(unrealizedPnl, fxRate),
      };
    });
  const cashRaw = input.cash
    .filter((c) => !c.balance.isZero())
    .map((c) => {
      const fxRate = rateOf(c.currency);
      return { c, fxRate, balanceBase: toBase(c.balance, fxRate) };
    });

  const positionsValue = sum(raw.map((h) => h.marketValueBase));
  const cashValue = sum(cashRaw.map((c) => c.balanceBase));
  const nav = positionsValue.plus(cashValue);
  // One division, then products: 40 significant digits keep the 10-place weights exact.
  const invNav = nav.isZero() ? ZERO : new (nav.constructor as typeof Decimal)(1).div(nav);

  const holdings = raw
    .map(({ p, status, marketValue, fxRate, marketValueBase, unrealizedPnl, unrealizedPnlBase }) => {
      const rounded = round(marketValueBase);
      const holding: HoldingValue = {
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
        marketValueBase: rounded,
        costBasis: round(p.costBasis),
        unrealizedPnl: round(unrealizedPnl),
        unrealizedPnlBase: round(unrealizedPnlBase),
        weight: invNav.isZero() ? ZERO : round(marketValueBase.times(invNav)),
        pricingStatus: status,
      };
      // The sort key once per holding, not two abs() per comparison.
      return { holding, size: rounded.abs() };
    })
    .sort((a, b) => b.size.cmp(a.size) || (a.holding.symbol < b.holding.symbol ? -1 : 1))
    .map((x) => x.holding);

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
