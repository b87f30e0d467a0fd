import type Decimal from 'decimal.js';
import { D, ONE } from './decimal';

/**
 * FX conversion under the convention of ARCHITECTURE.md: a stored rate (base, quote, rate)
 * means 1 unit of `base` buys `rate` units of `quote`. Converting C to B uses the C→B rate,
 * else the inverse of B→C, else a cross through a pivot currency (C→P × P→B, each leg
 * direct or inverse). The rate used is always the last one on or before the date.
 */

export interface FxQuote {
  base: string;
  quote: string;
  /** YYYY-MM-DD */
  date: string;
  rate: Decimal;
}

export type FxMethod = 'IDENTITY' | 'DIRECT' | 'INVERSE' | 'CROSS';

export interface FxConversion {
  base: string;
  quote: string;
  rate: Decimal;
  /** The date of the rate used; for a cross rate the older of its two legs. */
  date: string;
  method: FxMethod;
  via: string | null;
}

export const DEFAULT_PIVOTS: readonly string[] = ['USD', 'EUR'];

interface Series {
  dates: string[];
  rates: Decimal[];
}

/** The index of the last element ≤ `date` in an ascending list, or -1. */
export function lastOnOrBefore(dates: readonly string[], date: string): number {
  let lo = 0;
  let hi = dates.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (dates[mid]! <= date) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class FxTable {
  private readonly series = new Map<string, Series>();
  private readonly cache = new Map<string, FxConversion | null>();

  constructor(
    quotes: Iterable<FxQuote>,
    private readonly pivots: readonly string[] = DEFAULT_PIVOTS,
  ) {
    const rows = [...quotes].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    for (const q of rows) {
      if (!q.rate.isFinite() || q.rate.lte(0)) throw new Error(`FX rate ${q.base}/${q.quote} on ${q.date} is not positive`);
      const key = `${q.base}/${q.quote}`;
      let s = this.series.get(key);
      if (!s) this.series.set(key, (s = { dates: [], rates: [] }));
      if (s.dates.at(-1) === q.date) s.rates[s.rates.length - 1] = q.rate;
      else {
        s.dates.push(q.date);
        s.rates.push(q.rate);
      }
    }
  }

  /** The stored base→quote rate on or before `date`, without inversion. */
  private stored(base: string, quote: string, date: string): { rate: Decimal; date: string } | null {
    const s = this.series.get(`${base}/${quote}`);
    if (!s) return null;
    const i = lastOnOrBefore(s.dates, date);
    return i < 0 ? null : { rate: s.rates[i]!, date: s.dates[i]! };
  }

  /** Direct or inverse, no pivot. When both exist, the more recent wins (direct on a tie). */
  private leg(from: string, to: string, date: string): FxConversion | null {
    const direct = this.stored(from, to, date);
    const inverse = this.stored(to, from, date);
    if (direct && (!inverse || direct.date >= inverse.date)) return { base: from, quote: to, rate: direct.rate, date: direct.date, method: 'DIRECT', via: null };
    if (inverse) return { base: from, quote: to, rate: ONE.div(inverse.rate), date: inverse.date, method: 'INVERSE', via: null };
    return null;
  }

  /** How many units of `to` one unit of `from` buys on `date`, or null when no rate connects them. */
  convertRate(from: string, to: string, date: string): FxConversion | null {
    if (from === to) return { base: from, quote: to, rate: ONE, date, method: 'IDENTITY', via: null };
    const key = `${from}/${to}/${date}`;
    if (this.cache.has(key)) return this.cache.get(key)!;
    let result = this.leg(from, to, date);
    if (!result) {
      for (const pivot of this.pivots) {
        if (pivot === from || pivot === to) continue;
        const a = this.leg(from, pivot, date);
        const b = a && this.leg(pivot, to, date);
        if (a && b) {
          result = { base: from, quote: to, rate: a.rate.times(b.rate), date: a.date < b.date ? a.date : b.date, method: 'CROSS', via: pivot };
          break;
        }
      }
    }
    this.cache.set(key, result);
    return result;
  }

  /** `amount` in `from` expressed in `to`, or null without a rate. */
  convert(amount: Decimal, from: string, to: string, date: string): Decimal | null {
    const r = this.convertRate(from, to, date);
    return r ? amount.times(r.rate) : null;
  }
}

/**
 * The stored pairs a conversion among `currencies` may need: every ordered pair of them
 * and of the pivots. Lets a caller load only the rows it can use.
 */
export function candidatePairs(currencies: Iterable<string>, pivots: readonly string[] = DEFAULT_PIVOTS): [string, string][] {
  const all = [...new Set([...currencies, ...pivots])].sort();
  const pairs: [string, string][] = [];
  for (const a of all) for (const b of all) if (a !== b) pairs.push([a, b]);
  return pairs;
}

export function fxQuote(base: string, quote: string, date: string, rate: Decimal.Value): FxQuote {
  return { base, quote, date, rate: new D(rate) };
}
