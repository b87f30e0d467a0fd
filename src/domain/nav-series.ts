import type Decimal from 'decimal.js';
import { ZERO } from './decimal';
import { toEpochDay } from './dates';
import { decimalOf, pow10, roundToPrecision, unitsOf, type Units } from './fixed';
import { lastOnOrBefore, type FxTable } from './fx';
import { splitQuantity } from './lots';

/**
 * The daily NAV series: positions and cash replayed from the ledger day by day, valued at
 * each business day's last close on or before it and converted at that day's FX rates.
 *
 *   NAV(d)     = Σ_sec qty(d) × close(sec, ≤ d) × FX(ccy → base, ≤ d) + Σ_ccy cash(d) × FX(ccy → base, ≤ d)
 *   netFlow(d) = Σ DEPOSIT/WITHDRAWAL amounts (signed) booked after the previous business day
 *                and on or before d, each × FX(ccy → base, ≤ d)
 *
 * Transactions use the ledger's convention: `amount` is the signed cash effect in
 * `currency`; `quantity` is positive for BUY and SELL; SPLIT multiplies the quantity held
 * by `splitRatio`, rounded as the ledger rounds a split lot (splitQuantity: 10 places, half-even),
 * so a position held in one lot replays to the lot's digits. (Several lots are rounded one by
 * one by the ledger, the replay rounds their sum: the two may then differ in the last places.)
 * On one day, trades apply before a split (the
 * ledger splits every lot acquired on or before the split date). A position without any close yet is valued at
 * its last trade price and the day is marked incomplete, as is a day missing an FX rate
 * (that currency then counts 0).
 *
 * Σ quantity × close per currency is the series' only work per position and day (a million
 * products for 5 years of 200 positions, ~2 Decimals each): it is done in BigInt fixed-point
 * (fixed.ts), which gives decimal.js's digits for the same operations in the same order, on
 * closes read once as units (CloseSeries). The few sums per day in each currency are then
 * converted to the base currency with decimal.js as before.
 */

export interface LedgerEntry {
  /** YYYY-MM-DD */
  date: string;
  type: 'BUY' | 'SELL' | 'DIVIDEND' | 'INTEREST' | 'DEPOSIT' | 'WITHDRAWAL' | 'FEE' | 'SPLIT';
  securityId: string | null;
  quantity: Decimal | null;
  price: Decimal | null;
  amount: Decimal;
  currency: string;
  splitRatio: Decimal | null;
}

export interface PriceSeries {
  /** Ascending YYYY-MM-DD. */
  dates: string[];
  closes: Decimal[];
}

/** A security's closes for the NAV series, as exact fixed-point units. */
export interface CloseSeries {
  /** Ascending YYYY-MM-DD. */
  dates: readonly string[];
  closes: readonly Units[];
}

export interface NavPointValue {
  date: string;
  nav: Decimal;
  cash: Decimal;
  positionsValue: Decimal;
  netFlow: Decimal;
  complete: boolean;
}

export const SERIES_DP = 10;

/** 1970-01-01 + n days, as YYYY-MM-DD (Howard Hinnant's civil_from_days). */
export function fromEpochDay(n: number): string {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(date: string): number {
  return (((toEpochDay(date) + 4) % 7) + 7) % 7;
}

/** Monday to Friday from `from` to `to`, both included. */
export function businessDays(from: string, to: string): string[] {
  const days: string[] = [];
  const end = toEpochDay(to, 'to');
  for (let n = toEpochDay(from, 'from'); n <= end; n++) {
    const wd = (((n + 4) % 7) + 7) % 7;
    if (wd !== 0 && wd !== 6) days.push(fromEpochDay(n));
  }
  return days;
}

/** The last business day on or before `date`. */
export function businessDayOnOrBefore(date: string): string {
  let n = toEpochDay(date);
  while ([0, 6].includes((((n + 4) % 7) + 7) % 7)) n--;
  return fromEpochDay(n);
}

/** Transactions in replay order: by date, trades before splits on the same day, otherwise as given. */
export function replayOrder<T extends Pick<LedgerEntry, 'date' | 'type'>>(entries: readonly T[]): T[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.date < b.e.date ? -1 : a.e.date > b.e.date ? 1 : (a.e.type === 'SPLIT' ? 1 : 0) - (b.e.type === 'SPLIT' ? 1 : 0) || a.i - b.i))
    .map((x) => x.e);
}

/** Replay state: quantities by security and cash by currency. */
export class LedgerReplay {
  readonly quantity = new Map<string, Decimal>();
  readonly cash = new Map<string, Decimal>();
  readonly lastTradePrice = new Map<string, Decimal>();

  apply(e: LedgerEntry): void {
    if (!e.amount.isZero()) this.cash.set(e.currency, (this.cash.get(e.currency) ?? ZERO).plus(e.amount));
    if (!e.securityId) return;
    const q = this.quantity.get(e.securityId) ?? ZERO;
    if (e.type === 'BUY' && e.quantity) this.quantity.set(e.securityId, q.plus(e.quantity));
    else if (e.type === 'SELL' && e.quantity) this.quantity.set(e.securityId, q.minus(e.quantity));
    else if (e.type === 'SPLIT' && e.splitRatio) {
      this.quantity.set(e.securityId, splitQuantity(q, e.splitRatio));
      const last = this.lastTradePrice.get(e.securityId);
      if (last) this.lastTradePrice.set(e.securityId, last.div(e.splitRatio));
    }
    if ((e.type === 'BUY' || e.type === 'SELL') && e.price) this.lastTradePrice.set(e.securityId, e.price);
  }
}

/** Quantities and cash after every transaction dated on or before `date`. */
export function replayThrough(entries: readonly LedgerEntry[], date: string): LedgerReplay {
  const r = new LedgerReplay();
  for (const e of replayOrder(entries)) if (e.date <= date) r.apply(e);
  return r;
}

export interface SeriesInput {
  baseCurrency: string;
  entries: readonly LedgerEntry[];
  /** Currency of every security the entries name. */
  securityCurrency: ReadonlyMap<string, string>;
  prices: ReadonlyMap<string, CloseSeries>;
  fx: FxTable;
  /** The business days to value, ascending. Entries before the first are replayed, not valued. */
  days: readonly string[];
}

/** A currency's Σ quantity × price on the day: m / 10^scale, once `any` position counted. */
interface LocalSum {
  currency: string;
  m: bigint;
  scale: number;
  any: boolean;
}

/** A held security's closes, where the day's close is among them, and its quantity as units. */
interface Holding {
  sum: LocalSum | null;
  series: CloseSeries | undefined;
  pointer: number;
  qty: Decimal;
  units: Units;
}

export function buildNavSeries(input: SeriesInput): NavPointValue[] {
  const { baseCurrency, fx, days } = input;
  const entries = replayOrder(input.entries);
  const state = new LedgerReplay();
  const holdings = new Map<string, Holding>();
  const sums = new Map<string, LocalSum>();
  const out: NavPointValue[] = [];
  let t = 0;
  // Everything before the first day is the opening position: replayed, not a flow of that day.
  if (days.length) {
    const prev = businessDayBefore(days[0]!);
    while (t < entries.length && entries[t]!.date <= prev) state.apply(entries[t++]!);
  }
  const sumOf = (securityId: string): LocalSum => {
    const ccy = input.securityCurrency.get(securityId);
    if (!ccy) throw new Error(`no currency for security ${securityId}`);
    let sum = sums.get(ccy);
    if (!sum) sums.set(ccy, (sum = { currency: ccy, m: 0n, scale: 0, any: false }));
    return sum;
  };
  for (const day of days) {
    const flows = new Map<string, Decimal>();
    while (t < entries.length && entries[t]!.date <= day) {
      const e = entries[t++]!;
      state.apply(e);
      if (e.type === 'DEPOSIT' || e.type === 'WITHDRAWAL') flows.set(e.currency, (flows.get(e.currency) ?? ZERO).plus(e.amount));
    }
    let complete = true;
    // Σ quantity × price per currency, converted once per currency: decimal.js's
    // local.plus(qty.times(price)) in fixed-point, the currencies in the order they first count.
    const counted: LocalSum[] = [];
    for (const [securityId, qty] of state.quantity) {
      if (qty.isZero()) continue;
      let h = holdings.get(securityId);
      if (!h) holdings.set(securityId, (h = { sum: null, series: input.prices.get(securityId), pointer: -1, qty, units: unitsOf(qty) }));
      else if (h.qty !== qty) {
        h.qty = qty;
        h.units = unitsOf(qty);
      }
      let price: Units | undefined;
      const series = h.series;
      if (series) {
        let i = h.pointer;
        while (i + 1 < series.dates.length && series.dates[i + 1]! <= day) i++;
        h.pointer = i;
        if (i >= 0) price = series.closes[i];
      }
      if (!price) {
        complete = false;
        const last = state.lastTradePrice.get(securityId);
        if (!last) continue;
        price = unitsOf(last);
      }
      const sum = (h.sum ??= sumOf(securityId));
      const m = roundToPrecision(h.units.m * price.m);
      const scale = h.units.scale + price.scale;
      if (!sum.any) {
        sum.m = m;
        sum.scale = scale;
        sum.any = true;
        counted.push(sum);
      } else if (scale === sum.scale) sum.m = roundToPrecision(sum.m + m);
      else if (scale < sum.scale) sum.m = roundToPrecision(sum.m + m * pow10(sum.scale - scale));
      else {
        sum.m = roundToPrecision(sum.m * pow10(scale - sum.scale) + m);
        sum.scale = scale;
      }
    }
    const local = new Map<string, Decimal>();
    for (const sum of counted) {
      local.set(sum.currency, decimalOf(sum.m, sum.scale));
      sum.any = false;
    }
    const toBase = (amounts: Map<string, Decimal>): Decimal => {
      let total = ZERO;
      for (const [ccy, amount] of amounts) {
        const r = fx.convertRate(ccy, baseCurrency, day);
        if (r) total = total.plus(amount.times(r.rate));
        else if (!amount.isZero()) complete = false;
      }
      return total;
    };
    const positionsValue = toBase(local);
    const cash = toBase(state.cash);
    const netFlow = toBase(flows);
    out.push({
      date: day,
      nav: positionsValue.plus(cash).toDecimalPlaces(SERIES_DP),
      cash: cash.toDecimalPlaces(SERIES_DP),
      positionsValue: positionsValue.toDecimalPlaces(SERIES_DP),
      netFlow: netFlow.toDecimalPlaces(SERIES_DP),
      complete,
    });
  }
  return out;
}

/** The business day before `date` (which need not be one). */
export function businessDayBefore(date: string): string {
  return businessDayOnOrBefore(fromEpochDay(toEpochDay(date) - 1));
}

/** Index of the last price on or before `date` in a series, or -1 (re-exported for callers). */
export function priceIndexOnOrBefore(series: PriceSeries, date: string): number {
  return lastOnOrBefore(series.dates, date);
}
