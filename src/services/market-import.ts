import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { D } from '../domain/decimal';
import { assertIsoDate } from '../domain/dates';
import type { Db } from './db';
import { writeAudit } from './audit';
import {
  latestPerSecurity,
  markNavStaleForBars,
  markNavStaleForFx,
  refreshQuotes,
  upsertBars,
  upsertFxRates,
  validateFxRows,
  validatePriceRows,
  type FxRowInput,
  type IngestResult,
  type PriceRowInput,
  type ValidFxRow,
  type ValidPriceRow,
} from './market-data';

/*
 * Bulk import of price bars and FX rates from CSV files of any size: the file is streamed
 * line by line, validated in batches with the same rules as the mutations, and written in
 * one transaction per batch (idempotent upserts, so a re-run after an interruption is
 * safe). On PostgreSQL each batch is sent with COPY FROM STDIN into a temporary staging
 * table, then upserted with one INSERT … SELECT … ON CONFLICT; on PGlite, with unnest
 * batches through Prisma.
 *
 * CSV: a header line naming the columns, in any order.
 *   prices: symbol, date (YYYY-MM-DD) or at (ISO-8601 instant), open, high, low, close, volume
 *   fx:     base, quote, date, rate
 * Cells are plain (no embedded commas); surrounding double quotes are removed.
 */

export interface ImportProgress {
  rows: number;
  accepted: number;
  rejected: number;
  bytes: number;
  totalBytes: number;
  elapsedMs: number;
}

export interface ImportOptions {
  /** PostgreSQL connection string: enables COPY. Without it, batches go through Prisma. */
  pgUrl?: string;
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (p: ImportProgress) => void;
  /** Errors kept in the result (all are counted); the rest are dropped to bound memory. */
  maxErrors?: number;
}

/** `errors[].index` is the line number in the file (the header is line 1). */
export interface ImportResult extends IngestResult {
  rows: number;
  elapsedMs: number;
}

function splitLine(line: string): string[] {
  return line.split(',').map((c) => {
    const t = c.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
  });
}

function decimalCell(value: string | undefined, name: string, required: boolean): D | null {
  if (value === undefined || value === '') {
    if (required) throw new Error(`${name} is required`);
    return null;
  }
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value)) {
    // NaN, Infinity, exponents, words: the row is reported as the mutation reports NaN.
    const d = /^[+-]?(nan|infinity|inf)$/i.test(value) ? new D(NaN) : null;
    if (d) return d;
    throw new Error(`${name} "${value.slice(0, 40)}" is not a decimal number`);
  }
  return new D(value);
}

function dateCell(value: string | undefined, name: string): string | null {
  if (!value) return null;
  try {
    assertIsoDate(value, name);
  } catch {
    throw new Error(`${name} "${value.slice(0, 40)}" is not a date YYYY-MM-DD`);
  }
  return value;
}

type Parsed<T> = { row: T; line: number } | { error: string; line: number };

async function* csvBatches<T>(
  path: string,
  parse: (cells: Record<string, string | undefined>) => T,
  required: string[],
  batchSize: number,
  bytes: { read: number },
): AsyncGenerator<Parsed<T>[]> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => (bytes.read += Buffer.byteLength(chunk as string)));
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let header: string[] | null = null;
  let lineNo = 0;
  let batch: Parsed<T>[] = [];
  for await (const raw of lines) {
    lineNo++;
    if (!raw.trim()) continue;
    const cells = splitLine(raw);
    if (!header) {
      header = cells.map((c) => c.toLowerCase());
      const missing = required.filter((r) => !header!.includes(r));
      if (missing.length) throw new Error(`${path}: the header lacks ${missing.join(', ')} (found ${header.join(', ')})`);
      continue;
    }
    const record: Record<string, string | undefined> = {};
    header.forEach((h, i) => (record[h] = cells[i]));
    try {
      if (cells.length !== header.length) throw new Error(`${cells.length} cells, the header has ${header.length}`);
      batch.push({ row: parse(record), line: lineNo });
    } catch (err) {
      batch.push({ error: (err as Error).message, line: lineNo });
    }
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

function parsePrice(c: Record<string, string | undefined>): PriceRowInput {
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

function parseFx(c: Record<string, string | undefined>): FxRowInput {
  const date = dateCell(c.date, 'date');
  if (!date) throw new Error('date is required');
  return { base: c.base ?? '', quote: c.quote ?? '', date, rate: decimalCell(c.rate, 'rate', true)! };
}

/** COPY text format: tab-separated, \N for null; our cells hold no tabs, newlines or backslashes. */
const cell = (v: { toFixed(): string } | string | null | undefined) => (v == null ? '\\N' : typeof v === 'string' ? v : v.toFixed());

export class MarketImporter {
  constructor(
    private readonly db: Db,
    private readonly options: ImportOptions = {},
  ) {}

  async importPrices(path: string): Promise<ImportResult> {
    const securities = await this.db.security.findMany({ select: { id: true, symbol: true } });
    const idBySymbol = new Map(securities.map((s) => [s.symbol, s.id]));
    return this.run(path, 'prices', parsePrice, ['symbol', 'close'], async (rows, index, now) => {
      const { valid, errors } = validatePriceRows(rows, idBySymbol, now);
      return { errors: errors.map((e) => ({ index: index[e.index]!, message: e.message })), write: valid.length ? (pg) => this.writeBars(pg, valid) : null, count: valid.length };
    });
  }

  async importFx(path: string): Promise<ImportResult> {
    return this.run(path, 'fx', parseFx, ['base', 'quote', 'date', 'rate'], async (rows, index, now) => {
      const { valid, errors } = validateFxRows(rows, now);
      return { errors: errors.map((e) => ({ index: index[e.index]!, message: e.message })), write: valid.length ? (pg) => this.writeFx(pg, valid) : null, count: valid.length };
    });
  }

  private async run<T>(
    path: string,
    kind: 'prices' | 'fx',
    parse: (c: Record<string, string | undefined>) => T,
    required: string[],
    prepare: (rows: T[], lines: number[], now: number) => Promise<{ errors: IngestResult['errors']; write: ((pg: Client | null) => Promise<void>) | null; count: number }>,
  ): Promise<ImportResult> {
    const started = Date.now();
    const totalBytes = statSync(path).size;
    const bytes = { read: 0 };
    const maxErrors = this.options.maxErrors ?? 1000;
    const errors: IngestResult['errors'] = [];
    let rows = 0;
    let accepted = 0;
    let rejected = 0;
    const pg = this.options.pgUrl ? new Client({ connectionString: this.options.pgUrl }) : null;
    if (pg) {
      await pg.connect();
      await pg.query(
        kind === 'prices'
          ? `CREATE TEMP TABLE import_stage (security_id uuid, timeframe text, ts timestamptz, open numeric, high numeric, low numeric, close numeric, volume numeric)`
          : `CREATE TEMP TABLE import_stage (base text, quote text, date date, rate numeric)`,
      );
    }
    // A batch is written while the next one is parsed and checked: PostgreSQL works in its
    // own process, so the two overlap on two cores. Writes stay in file order.
    let writing: Promise<void> = Promise.resolve();
    try {
      for await (const batch of csvBatches(path, parse, required, this.options.batchSize ?? 50_000, bytes)) {
        const good: T[] = [];
        const lines: number[] = [];
        for (const p of batch) {
          if ('error' in p) {
            rejected++;
            if (errors.length < maxErrors) errors.push({ index: p.line, message: p.error });
          } else {
            good.push(p.row);
            lines.push(p.line);
          }
        }
        const { errors: bad, write, count } = await prepare(good, lines, Date.now());
        for (const e of bad) if (errors.length < maxErrors) errors.push(e);
        rejected += bad.length;
        // Rows repeated inside a batch collapse to the last one: count what the file gave.
        accepted += good.length - bad.length;
        await writing;
        if (write && count) writing = write(pg);
        rows += batch.length;
        this.options.onProgress?.({ rows, accepted, rejected, bytes: Math.min(bytes.read, totalBytes), totalBytes, elapsedMs: Date.now() - started });
      }
      await writing;
      await this.db.$transaction(async (tx) =>
        writeAudit(tx, { actor: null, meta: { requestId: `import-${randomUUID()}` } }, {
          action: `${kind}.import`,
          entityType: kind === 'prices' ? 'PriceFile' : 'FxFile',
          entityId: path.slice(-200),
          after: { rows, accepted, rejected, engine: pg ? 'copy' : 'unnest' },
        }),
      );
    } finally {
      // A failed batch must not leave its write running against a closed connection.
      await writing.catch(() => undefined);
      await pg?.end();
    }
    errors.sort((a, b) => a.index - b.index);
    return { rows, accepted, rejected, errors, elapsedMs: Date.now() - started };
  }

  private async writeBars(pg: Client | null, valid: ValidPriceRow[]): Promise<void> {
    if (!pg) {
      await this.db.$transaction(
        async (tx) => {
          for (let i = 0; i < valid.length; i += 5000) await upsertBars(tx, valid.slice(i, i + 5000));
          await refreshQuotes(tx, latestPerSecurity(valid));
          await markNavStaleForBars(tx, valid);
        },
        { timeout: 120_000 },
      );
      return;
    }
    await pg.query('BEGIN');
    try {
      const lines = function* () {
        let buf = '';
        for (let i = 0; i < valid.length; i++) {
          const v = valid[i]!;
          const r = v.row;
          buf += `${v.securityId}\t${v.timeframe}\t${v.ts.toISOString()}\t${cell(r.open)}\t${cell(r.high)}\t${cell(r.low)}\t${r.close.toFixed()}\t${cell(r.volume)}\n`;
          if (buf.length > 1 << 16) {
            yield buf;
            buf = '';
          }
        }
        if (buf) yield buf;
      };
      await pipeline(Readable.from(lines()), pg.query(copyFrom('COPY import_stage FROM STDIN')));
      await pg.query(`
        INSERT INTO price_bars (security_id, timeframe, ts, open, high, low, close, volume)
        SELECT security_id, timeframe, ts, open, high, low, close, volume FROM import_stage
        ON CONFLICT (security_id, timeframe, ts) DO UPDATE
          SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume`);
      await pg.query(`
        INSERT INTO quotes (security_id, price, ts, updated_at)
        SELECT DISTINCT ON (security_id) security_id, close, ts, now() FROM import_stage ORDER BY security_id, ts DESC
        ON CONFLICT (security_id) DO UPDATE SET price = EXCLUDED.price, ts = EXCLUDED.ts, updated_at = now()
        WHERE quotes.ts <= EXCLUDED.ts`);
      // Late daily bars make stored NAVs stale (as markNavStaleForBars does for the mutation).
      await pg.query(`
        UPDATE portfolios p SET nav_stale_from = LEAST(COALESCE(p.nav_stale_from, s.d), s.d)
        FROM (
          SELECT t.portfolio_id, min(u.d) AS d
          FROM (SELECT security_id, min((ts AT TIME ZONE 'UTC')::date) AS d FROM import_stage WHERE timeframe = '1d' GROUP BY security_id) u
          JOIN (SELECT DISTINCT portfolio_id, security_id FROM transactions WHERE security_id IN (SELECT DISTINCT security_id FROM import_stage)) t ON t.security_id = u.security_id
          GROUP BY t.portfolio_id
        ) s
        WHERE p.id = s.portfolio_id AND EXISTS (SELECT 1 FROM portfolio_daily_values v WHERE v.portfolio_id = p.id AND v.asof_date >= s.d)`);
      // And the stored daily sums of the benchmarks holding them (as markBenchmarkSumsStaleForBars).
      await pg.query(`
        UPDATE benchmarks b SET sums_stale_from = LEAST(COALESCE(b.sums_stale_from, s.d), s.d)
        FROM (
          SELECT k.benchmark_id, min(u.d) AS d
          FROM (SELECT security_id, min((ts AT TIME ZONE 'UTC')::date) AS d FROM import_stage WHERE timeframe = '1d' GROUP BY security_id) u
          JOIN benchmark_constituents k ON k.security_id = u.security_id
          GROUP BY k.benchmark_id
        ) s
        WHERE b.id = s.benchmark_id AND EXISTS (SELECT 1 FROM benchmark_daily_sums v WHERE v.benchmark_id = b.id AND v.asof_date >= s.d)`);
      await pg.query('TRUNCATE import_stage');
      await pg.query('COMMIT');
    } catch (err) {
      await pg.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async writeFx(pg: Client | null, valid: ValidFxRow[]): Promise<void> {
    if (!pg) {
      await this.db.$transaction(
        async (tx) => {
          for (let i = 0; i < valid.length; i += 5000) await upsertFxRates(tx, valid.slice(i, i + 5000));
          await markNavStaleForFx(tx, valid);
        },
        { timeout: 120_000 },
      );
      return;
    }
    await pg.query('BEGIN');
    try {
      const body = valid.map((r) => `${r.base}\t${r.quote}\t${r.date}\t${r.rate.toFixed()}\n`);
      await pipeline(Readable.from(body), pg.query(copyFrom('COPY import_stage FROM STDIN')));
      await pg.query(`INSERT INTO fx_rates (base, quote, date, rate) SELECT base, quote, date, rate FROM import_stage ON CONFLICT (base, quote, date) DO UPDATE SET rate = EXCLUDED.rate`);
      await pg.query(`
        UPDATE portfolios p SET nav_stale_from = LEAST(COALESCE(p.nav_stale_from, s.d), s.d)
        FROM (SELECT min(date) AS d FROM import_stage) s
        WHERE EXISTS (SELECT 1 FROM portfolio_daily_values v WHERE v.portfolio_id = p.id AND v.asof_date >= s.d)`);
      await pg.query('TRUNCATE import_stage');
      await pg.query('COMMIT');
    } catch (err) {
      await pg.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
