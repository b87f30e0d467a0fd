import { D, ZERO, ONE, sum } from '../decimal';
import { DomainError } from '../errors';

/**
 * Stress tests: instantaneous shocks applied to a valuation, everything else unchanged.
 *
 * A shock targets MARKET (every security), a SECURITY (symbol), a SECTOR, an ASSET_CLASS or
 * a CURRENCY, and is RELATIVE (value 0.1 = +10%) or ABSOLUTE (added, in the security's
 * currency for a price; in base-currency units per unit of the currency for FX).
 * - Price shocks compose in the order given: relative ones multiply the price by (1 + v),
 *   absolute ones add v to it. A price never goes below 0 (clamped).
 * - A CURRENCY shock on C moves C's value against every other currency: C ≠ base multiplies
 *   the C→base rate by (1 + v) (relative) or adds v (absolute); C = base multiplies every
 *   other currency's rate to the base by 1/(1 + v), i.e. the base strengthens by v
 *   (absolute is refused for the base currency). Cash in C is revalued too.
 * Impact = value after − value before, per position and in total, in the base currency.
 */

export type ShockTarget = 'MARKET' | 'SECURITY' | 'SECTOR' | 'ASSET_CLASS' | 'CURRENCY';
export type ShockKind = 'RELATIVE' | 'ABSOLUTE';

export interface Shock {
  target: ShockTarget;
  /** Symbol, sector, asset class or currency; ignored for MARKET. */
  key: string | null;
  kind: ShockKind;
  value: D;
}

export interface StressPosition {
  securityId: string;
  symbol: string;
  currency: string;
  sector: string | null;
  assetClass: string | null;
  quantity: D;
  /** Local price used for the valuation (null: valued at cost, not shocked). */
  price: D | null;
  /** Market value in local currency (quantity × price, or cost). */
  marketValue: D;
  /** Rate local → base (null: no rate, valued at 0). */
  fxRate: D | null;
}

export interface StressCash {
  currency: string;
  balance: D;
  fxRate: D | null;
}

export interface PositionImpact {
  securityId: string;
  symbol: string;
  valueBefore: D;
  valueAfter: D;
  impact: D;
  /** The price after the shocks, local currency. */
  shockedPrice: D | null;
  shockedFxRate: D | null;
}

export interface StressResult {
  valueBefore: D;
  valueAfter: D;
  impact: D;
  /** impact / valueBefore (null when valueBefore is 0). */
  impactPct: D | null;
  positions: PositionImpact[];
  cashBefore: D;
  cashAfter: D;
  /** Shocks that matched nothing held (reported, not an error, for stored scenarios). */
  unmatched: Shock[];
}

function matches(s: Shock, p: StressPosition): boolean {
  switch (s.target) {
    case 'MARKET':
      return true;
    case 'SECURITY':
      return p.symbol === s.key;
    case 'SECTOR':
      return p.sector === s.key;
    case 'ASSET_CLASS':
      return p.assetClass === s.key;
    case 'CURRENCY':
      return false;
  }
}

function shockFx(rate: D | null, currency: string, base: string, shocks: readonly Shock[], used: Set<Shock>): D | null {
  if (rate === null) return null;
  let r = rate;
  for (const s of shocks) {
    if (s.target !== 'CURRENCY') continue;
    if (s.key === currency && currency !== base) {
      r = s.kind === 'RELATIVE' ? r.times(ONE.plus(s.value)) : r.plus(s.value);
      used.add(s);
    } else if (s.key === base && currency !== base) {
      r = r.div(ONE.plus(s.value));
      used.add(s);
    }
  }
  return D.max(r, ZERO);
}

export function validateShocks(shocks: readonly Shock[], base: string): void {
  if (!shocks.length) throw new DomainError('BAD_USER_INPUT', 'give at least one shock');
  for (const s of shocks) {
    if (s.target !== 'MARKET' && !s.key) throw new DomainError('BAD_USER_INPUT', `a ${s.target} shock needs a key`);
    if (s.kind === 'RELATIVE' && !s.value.gt(-1)) throw new DomainError('BAD_USER_INPUT', `a relative shock must be above −1 (−100%), got ${s.value.toString()}`);
    if (s.target === 'CURRENCY' && s.key === base && s.kind === 'ABSOLUTE') {
      throw new DomainError('BAD_USER_INPUT', `an ABSOLUTE shock on the base currency ${base} has no meaning; use RELATIVE`);
    }
  }
}

export function stressTest(baseCurrency: string, positions: readonly StressPosition[], cash: readonly StressCash[], shocks: readonly Shock[]): StressResult {
  validateShocks(shocks, baseCurrency);
  const used = new Set<Shock>();
  const out: PositionImpact[] = positions.map((p) => {
    const before = p.fxRate ? p.marketValue.times(p.fxRate) : ZERO;
    let price = p.price;
    if (price !== null) {
      for (const s of shocks) {
        if (!matches(s, p)) continue;
        used.add(s);
        price = s.kind === 'RELATIVE' ? price.times(ONE.plus(s.value)) : price.plus(s.value);
      }
      price = D.max(price, ZERO);
    }
    const rate = shockFx(p.fxRate, p.currency, baseCurrency, shocks, used);
    const local = price !== null ? p.quantity.times(price) : p.marketValue;
    const after = rate ? local.times(rate) : ZERO;
    return { securityId: p.securityId, symbol: p.symbol, valueBefore: before, valueAfter: after, impact: after.minus(before), shockedPrice: price, shockedFxRate: rate };
  });
  const cashBefore = sum(cash.map((c) => (c.fxRate ? c.balance.times(c.fxRate) : ZERO)));
  const cashAfter = sum(cash.map((c) => {
    const r = shockFx(c.fxRate, c.currency, baseCurrency, shocks, used);
    return r ? c.balance.times(r) : ZERO;
  }));
  const valueBefore = sum(out.map((p) => p.valueBefore)).plus(cashBefore);
  const valueAfter = sum(out.map((p) => p.valueAfter)).plus(cashAfter);
  out.sort((a, b) => a.impact.cmp(b.impact) || (a.symbol < b.symbol ? -1 : 1));
  const impact = valueAfter.minus(valueBefore);
  return {
    valueBefore,
    valueAfter,
    impact,
    impactPct: valueBefore.isZero() ? null : impact.div(valueBefore),
    positions: out,
    cashBefore,
    cashAfter,
    unmatched: shocks.filter((s) => !used.has(s)),
  };
}

/** The default scenarios, seeded into stress_scenarios by the analytics migration (kept here for reference and tests). */
export const DEFAULT_SCENARIOS: { code: string; name: string; shocks: { target: ShockTarget; key: string | null; kind: ShockKind; value: string }[] }[] = [
  { code: 'MARKET_UP_10', name: 'Market +10%', shocks: [{ target: 'MARKET', key: null, kind: 'RELATIVE', value: '0.10' }] },
  { code: 'MARKET_DOWN_10', name: 'Market −10%', shocks: [{ target: 'MARKET', key: null, kind: 'RELATIVE', value: '-0.10' }] },
  {
    code: 'GFC_2008',
    name: '2008-style equity drawdown by sector (approx. S&P 500 sector peak-to-trough, Oct 2007 – Mar 2009)',
    shocks: [
      ['Financials', '-0.80'], ['Real Estate', '-0.70'], ['Consumer Discretionary', '-0.55'], ['Industrials', '-0.60'],
      ['Materials', '-0.55'], ['Information Technology', '-0.50'], ['Energy', '-0.50'], ['Communication Services', '-0.45'],
      ['Health Care', '-0.40'], ['Utilities', '-0.40'], ['Consumer Staples', '-0.30'],
    ].map(([key, value]) => ({ target: 'SECTOR' as const, key: key!, kind: 'RELATIVE' as const, value: value! })),
  },
  {
    code: 'COVID_2020',
    name: 'COVID-style equity drawdown by sector (approx. S&P 500 sectors, 19 Feb – 23 Mar 2020)',
    shocks: [
      ['Energy', '-0.55'], ['Financials', '-0.42'], ['Industrials', '-0.40'], ['Real Estate', '-0.38'],
      ['Materials', '-0.36'], ['Utilities', '-0.36'], ['Consumer Discretionary', '-0.33'], ['Communication Services', '-0.30'],
      ['Information Technology', '-0.30'], ['Health Care', '-0.28'], ['Consumer Staples', '-0.24'],
    ].map(([key, value]) => ({ target: 'SECTOR' as const, key: key!, kind: 'RELATIVE' as const, value: value! })),
  },
  { code: 'USD_UP_5', name: 'USD +5% against every currency', shocks: [{ target: 'CURRENCY', key: 'USD', kind: 'RELATIVE', value: '0.05' }] },
  { code: 'USD_DOWN_5', name: 'USD −5% against every currency', shocks: [{ target: 'CURRENCY', key: 'USD', kind: 'RELATIVE', value: '-0.05' }] },
];
