import type Decimal from 'decimal.js';
import { ZERO } from './decimal';
import type { ValuationResult } from './valuation';

/**
 * Exposure from a valuation, in the base currency. Long sums the positive market values,
 * short the negative ones (so it is ≤ 0); gross = long − short, net = long + short.
 * Sector, asset class and country group positions; currency groups positions and cash.
 */

export const UNCLASSIFIED = 'UNCLASSIFIED';

export interface ExposureBucket {
  key: string;
  long: Decimal;
  short: Decimal;
  gross: Decimal;
  net: Decimal;
  weight: Decimal;
}

export interface ExposureResult {
  asOf: Date;
  nav: Decimal;
  long: Decimal;
  short: Decimal;
  gross: Decimal;
  net: Decimal;
  grossLeverage: Decimal;
  netLeverage: Decimal;
  bySector: ExposureBucket[];
  byAssetClass: ExposureBucket[];
  byCountry: ExposureBucket[];
  byCurrency: ExposureBucket[];
}

const ratio = (a: Decimal, nav: Decimal) => (nav.isZero() ? ZERO : a.div(nav).toDecimalPlaces(10));

function bucketize(items: { key: string | null; value: Decimal }[], nav: Decimal): ExposureBucket[] {
  const acc = new Map<string, { long: Decimal; short: Decimal }>();
  for (const { key, value } of items) {
    const k = key ?? UNCLASSIFIED;
    const b = acc.get(k) ?? { long: ZERO, short: ZERO };
    if (value.gt(0)) b.long = b.long.plus(value);
    else b.short = b.short.plus(value);
    acc.set(k, b);
  }
  return [...acc.entries()]
    .map(([key, { long, short }]) => {
      const net = long.plus(short);
      return { key, long, short, gross: long.minus(short), net, weight: ratio(net, nav) };
    })
    .sort((a, b) => b.gross.cmp(a.gross) || (a.key < b.key ? -1 : 1));
}

export function exposureOf(v: ValuationResult): ExposureResult {
  let long = ZERO;
  let short = ZERO;
  for (const h of v.holdings) {
    if (h.marketValueBase.gt(0)) long = long.plus(h.marketValueBase);
    else short = short.plus(h.marketValueBase);
  }
  const gross = long.minus(short);
  const net = long.plus(short);
  const positions = (key: (h: ValuationResult['holdings'][number]) => string | null) => v.holdings.map((h) => ({ key: key(h), value: h.marketValueBase }));
  return {
    asOf: v.asOf,
    nav: v.nav,
    long,
    short,
    gross,
    net,
    grossLeverage: ratio(gross, v.nav),
    netLeverage: ratio(net, v.nav),
    bySector: bucketize(positions((h) => h.sector), v.nav),
    byAssetClass: bucketize(positions((h) => h.assetClass), v.nav),
    byCountry: bucketize(positions((h) => h.country), v.nav),
    byCurrency: bucketize([...positions((h) => h.currency), ...v.cash.map((c) => ({ key: c.currency, value: c.balanceBase }))], v.nav),
  };
}
