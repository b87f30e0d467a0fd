import { D } from '../domain/decimal';
import { canonicalDecimal, compareCanonical } from '../domain/decimal-text';
import { cellsProblem, dateCell, decimalCell, record } from './csv-file';
import { latestDailyMs, latestTickMs, PRICE_DIGITS, VOLUME_DIGITS, validatePriceRows, type PriceRowInput, type ValidPriceRow } from './market-data';

/*
 * The price file's rows, checked as the mutation checks them (validatePriceRows) at a
 * fraction of the cost. A row whose cells are all in the usual shape (a known symbol, a
 * calendar date or an instant, plain unsigned decimals within the columns' digits) is
 * checked on its text: positive prices, low ≤ open, close ≤ high, not in the future.
 * Every other row, and every row that fails a check, goes through validatePriceRows
 * itself, so a rejected row gets the mutation's own message and an accepted odd one
 * (a sign, trailing zeros, ".5") its exact value.
 */

/** A bar ready for COPY: prices in canonical text (decimal.js's toFixed() of the value). */
export interface StagedBar {
  securityId: string;
  /** The symbol as stored (upper case). */
  symbol: string;
  timeframe: string;
  /** ISO-8601 instant, and the same in epoch milliseconds. */
  ts: string;
  ms: number;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string;
  volume: string | null;
}

export function parsePrice(c: Record<string, string | undefined>): PriceRowInput {
  if (!c.symbol) throw new Error('symbol is required');
  const at = c.at ? new Date(c.at) : null;
  if (at && Number.isNaN(at.getTime())) throw new Error(`at "${c.at!.slice(0, 40)}" is not an instant`);
  return {
    symbol: c.symbol,
    date: dateCell(c.date, 'date'),
    at,
    open: decimalCell(c.open, 'open', false),
    high: decimalCell(c.high, 'high', false),
    low: decimalCell(c.low, 'low', false),
    close: decimalCell(c.close, 'close', true)!,
    volume: decimalCell(c.volume, 'volume', false),
  };
}

const text = (v: { toFixed(): string } | null | undefined) => (v ? v.toFixed() : null);

function staged(v: ValidPriceRow): StagedBar {
  const r = v.row;
  return { securityId: v.securityId, symbol: v.symbol, timeframe: v.timeframe, ts: v.ts.toISOString(), ms: v.ts.getTime(), open: text(r.open), high: text(r.high), low: text(r.low), close: r.close.toFixed(), volume: text(r.volume) };
}

/** What the Prisma path (PGlite) upserts: the bar with Decimal fields again. */
export function validPriceRow(b: StagedBar): ValidPriceRow {
  const dec = (s: string | null) => (s === null ? null : new D(s));
  return { securityId: b.securityId, symbol: b.symbol, timeframe: b.timeframe, ts: new Date(b.ms), row: { symbol: b.symbol, open: dec(b.open), high: dec(b.high), low: dec(b.low), close: new D(b.close), volume: dec(b.volume) } };
}

// A cell that is not in the usual shape: the row goes to validatePriceRows.
const ODD = Symbol('odd');

// Read once: an imported binding is a property read through the module's exports on every use.
const { integer: PRICE_INTEGER, scale: PRICE_SCALE } = PRICE_DIGITS;
const { integer: VOLUME_INTEGER, scale: VOLUME_SCALE } = VOLUME_DIGITS;

function price(cell: string | undefined): string | null | typeof ODD {
  if (cell === undefined || cell === '') return null;
  const c = canonicalDecimal(cell, PRICE_INTEGER, PRICE_SCALE);
  return c === null || c === '0' ? ODD : c;
}

const column = (header: readonly string[], name: string) => header.lastIndexOf(name);

export class PriceRowChecker {
  private readonly col: Record<'symbol' | 'date' | 'at' | 'open' | 'high' | 'low' | 'close' | 'volume', number>;
  /** Per distinct cell text, so that each symbol and date is looked up and parsed once. */
  private readonly symbols = new Map<string, { id: string; symbol: string } | null>();
  private readonly dates = new Map<string, { ts: string; ms: number } | null>();

  constructor(
    private readonly header: readonly string[],
    private readonly idBySymbol: ReadonlyMap<string, string>,
  ) {
    const h = header;
    this.col = { symbol: column(h, 'symbol'), date: column(h, 'date'), at: column(h, 'at'), open: column(h, 'open'), high: column(h, 'high'), low: column(h, 'low'), close: column(h, 'close'), volume: column(h, 'volume') };
  }

  /** The row as a bar to store, or why it cannot be stored. */
  check(cells: readonly string[], now: number): StagedBar | string {
    return this.usual(cells, now) ?? this.checked(cells, now);
  }

  /** validatePriceRows's verdict on the row. */
  private checked(cells: readonly string[], now: number): StagedBar | string {
    try {
      const problem = cellsProblem(this.header, cells);
      if (problem) return problem;
      const { valid, errors } = validatePriceRows([parsePrice(record(this.header, cells))], this.idBySymbol, now);
      return errors.length ? errors[0]!.message : staged(valid[0]!);
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** The bar when the row is in the usual shape and passes every check; null otherwise. */
  private usual(cells: readonly string[], now: number): StagedBar | null {
    const col = this.col;
    if (cells.length !== this.header.length) return null;
    const sec = this.security(cells[col.symbol]);
    if (!sec) return null;
    const date = col.date < 0 ? '' : cells[col.date]!;
    const at = col.at < 0 ? '' : cells[col.at]!;
    let when: { ts: string; ms: number } | null;
    if (date && !at) when = this.date(date);
    else if (at && !date) when = instant(at);
    else return null;
    if (!when || when.ms > (date ? latestDailyMs(now) : latestTickMs(now))) return null;
    const close = price(cells[col.close]);
    const open = col.open < 0 ? null : price(cells[col.open]);
    const high = col.high < 0 ? null : price(cells[col.high]);
    const low = col.low < 0 ? null : price(cells[col.low]);
    if (close === null || close === ODD || open === ODD || high === ODD || low === ODD) return null;
    const vol = col.volume < 0 ? undefined : cells[col.volume];
    const volume = vol === undefined || vol === '' ? null : canonicalDecimal(vol, VOLUME_INTEGER, VOLUME_SCALE);
    if (volume === null && vol) return null;
    if (high !== null && (compareCanonical(close, high) > 0 || (open !== null && compareCanonical(open, high) > 0) || (low !== null && compareCanonical(low, high) > 0))) return null;
    if (low !== null && (compareCanonical(close, low) < 0 || (open !== null && compareCanonical(open, low) < 0))) return null;
    return { securityId: sec.id, symbol: sec.symbol, timeframe: date ? '1d' : 'tick', ts: when.ts, ms: when.ms, open, high, low, close, volume };
  }

  private security(cell: string | undefined): { id: string; symbol: string } | null {
    if (!cell) return null;
    let s = this.symbols.get(cell);
    if (s === undefined) {
      const symbol = cell.trim().toUpperCase();
      const id = this.idBySymbol.get(symbol);
      this.symbols.set(cell, (s = id ? { id, symbol } : null));
    }
    return s;
  }

  private date(cell: string): { ts: string; ms: number } | null {
    let d = this.dates.get(cell);
    if (d === undefined) {
      try {
        dateCell(cell, 'date');
        const ts = new Date(`${cell}T00:00:00.000Z`);
        d = { ts: ts.toISOString(), ms: ts.getTime() };
      } catch {
        d = null;
      }
      this.dates.set(cell, d);
    }
    return d;
  }
}

function instant(cell: string): { ts: string; ms: number } | null {
  const d = new Date(cell);
  const ms = d.getTime();
  return Number.isNaN(ms) ? null : { ts: d.toISOString(), ms };
}
