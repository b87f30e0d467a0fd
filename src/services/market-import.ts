import { statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from './db';
import type { EventBus } from '../events/bus';
import { cellsProblem, csvBatches, dateCell, decimalCell, record, type CsvBatch } from './csv-file';
import { PriceRowChecker, validPriceRow, type StagedBar } from './price-file';
import { writeAudit } from './audit';
import { asSystem } from '../db/principal';
import {
  fxIngested,
  latestPerSecurity,
  markNavStaleForBars,
  markNavStaleForFx,
  refreshQuotes,
  upsertBars,
  upsertFxRates,
  validateFxRows,
  type FxRowInput,
  type IngestResult,
  type ValidFxRow,
} from './market-data';

/*
 * Bulk import of price bars and FX rates from CSV files of any size: the file is streamed
 * (csv-file.ts), validated in batches with the same rules as the mutations (price rows
 * through price-file.ts's cheaper path for the usual shape of a row), and written in
 * one transaction per batch and connection (idempotent upserts, so a re-run after an
 * interruption is safe). On PostgreSQL each batch is sent with COPY FROM STDIN into a
 * temporary staging table, then upserted with one INSERT … SELECT … ON CONFLICT; on
 * PGlite, with unnest batches through Prisma.
 *
 * CSV: a header line naming the columns, in any order.
 *   prices: symbol, date (YYYY-MM-DD) or at (ISO-8601 instant), open, high, low, close, volume
 *   fx:     base, quote, date, rate
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
  /** Connections writing price bars side by side on PostgreSQL (each security always on the same one). */
  connections?: number;
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (p: ImportProgress) => void;
  /** Errors kept in the result (all are counted); the rest are dropped to bound memory. */
  maxErrors?: number;
  /**
   * Told prices.ingested / fx.ingested after each committed batch, as the mutations tell it:
   * the servers' valuation caches and NAV engine hear of a file imported by another process
   * when this is the Redis bus they share.
   */
  bus?: EventBus;
}

/** `errors[].index` is the line number in the file (the header is line 1). */
export interface ImportResult extends IngestResult {
  rows: number;
  elapsedMs: number;
}

function parseFx(c: Record<string, string | undefined>): FxRowInput {
  const date = dateCell(c.date, 'date');
  if (!date) throw new Error('date is required');
  return { base: c.base ?? '', quote: c.quote ?? '', date, rate: decimalCell(c.rate, 'rate', true)! };
}

type Write = (pg: Client | null) => Promise<void>;
/** A batch's verdicts, and its writes: writes[i] runs on connection i. */
type Prepared = { errors: IngestResult['errors']; accepted: number; writes: (Write | null)[] };

/** The advisory lock key (arbitrary, fixed) under which an import marks stored NAVs stale. */
const NAV_STALE_LOCK = 4_205_117_301;

/** COPY text format: tab-separated, \N for null; our cells hold no tabs, newlines or backslashes. */
const cell = (v: string | null) => v ?? '\\N';

/**
 * The bars with each (security, timeframe, instant) kept once, the last given, as lastWins
 * keeps them; keyed by the security's (shared) id string and the instant's number rather
 * than by a string built per bar, which was a third of the importer's own CPU.
 */
function lastBarsWin(bars: StagedBar[]): StagedBar[] {
  const last = new Map<string, Map<string, Map<number, number>>>();
  const slot = (b: StagedBar): Map<number, number> => {
    let bySecurity = last.get(b.securityId);
    if (!bySecurity) last.set(b.securityId, (bySecurity = new Map()));
    let byInstant = bySecurity.get(b.timeframe);
    if (!byInstant) bySecurity.set(b.timeframe, (byInstant = new Map()));
    return byInstant;
  };
  let distinct = 0;
  for (let i = 0; i < bars.length; i++) {
    const byInstant = slot(bars[i]!);
    if (!byInstant.has(bars[i]!.ms)) distinct++;
    byInstant.set(bars[i]!.ms, i);
  }
  return distinct === bars.length ? bars : bars.filter((b, i) => slot(b).get(b.ms) === i);
}

const STAGED_BARS = `INSERT INTO price_bars (security_id, timeframe, ts, open, high, low, close, volume)
  SELECT security_id, timeframe, ts, open, high, low, close, volume FROM import_stage`;

/**
 * The staged bars into price_bars. A file mostly brings bars that are not stored yet, and a
 * plain INSERT of them costs about two thirds of the INSERT … ON CONFLICT (whose speculative
 * insertion is paid on every row, conflict or not): so a plain INSERT first, under a savepoint,
 * and only when some bar is already stored (a re-run, an overlap, a concurrent writer) is the
 * batch upserted instead, in the same transaction.
 */
async function insertOrUpsertStaged(pg: Client): Promise<void> {
  await pg.query('SAVEPOINT fresh_bars');
  try {
    await pg.query(STAGED_BARS);
    await pg.query('RELEASE SAVEPOINT fresh_bars');
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    await pg.query('ROLLBACK TO SAVEPOINT fresh_bars');
    await pg.query(`${STAGED_BARS}
      ON CONFLICT (security_id, timeframe, ts) DO UPDATE
        SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume`);
  }
}

const UNIQUE_VIOLATION = '23505';

export class MarketImporter {
  constructor(
    private readonly db: Db,
    private readonly options: ImportOptions = {},
  ) {}

  // Market data is everyone's, and a late bar makes every holder's stored NAV stale: an import runs for the system.
  importPrices(path: string): Promise<ImportResult> {
    return asSystem(() => this.pricesFrom(path));
  }

  importFx(path: string): Promise<ImportResult> {
    return asSystem(() => this.fxFrom(path));
  }

  private async pricesFrom(path: string): Promise<ImportResult> {
    const securities = await this.db.security.findMany({ select: { id: true, symbol: true } });
    const idBySymbol = new Map(securities.map((s) => [s.symbol, s.id]));
    let checker: PriceRowChecker | null = null;
    // Each security's bars always go through the same connection: two connections never
    // upsert the same bars or quotes rows, so they never wait for (or deadlock on) each other.
    const laneOf = new Map<string, number>();
    const connections = this.options.pgUrl ? (this.options.connections ?? 2) : 1;
    return this.run(path, 'prices', ['symbol', 'close'], connections, (batch, now) => {
      checker ??= new PriceRowChecker(batch.header, idBySymbol);
      const errors: IngestResult['errors'] = [];
      const bars: StagedBar[] = [];
      for (let i = 0; i < batch.rows.length; i++) {
        const r = checker.check(batch.rows[i]!, now);
        if (typeof r === 'string') errors.push({ index: batch.lines[i]!, message: r });
        else bars.push(r);
      }
      const lanes: StagedBar[][] = Array.from({ length: connections }, () => []);
      for (const b of lastBarsWin(bars)) {
        let lane = laneOf.get(b.securityId);
        if (lane === undefined) laneOf.set(b.securityId, (lane = laneOf.size % connections));
        lanes[lane]!.push(b);
      }
      return { errors, accepted: bars.length, writes: lanes.map((part) => (part.length ? (pg: Client | null) => this.writeBars(pg, part) : null)) };
    });
  }

  private async fxFrom(path: string): Promise<ImportResult> {
    return this.run(path, 'fx', ['base', 'quote', 'date', 'rate'], 1, (batch, now) => {
      const errors: IngestResult['errors'] = [];
      const rows: FxRowInput[] = [];
      const lines: number[] = [];
      batch.rows.forEach((cells, i) => {
        try {
          const problem = cellsProblem(batch.header, cells);
          if (problem) throw new Error(problem);
          rows.push(parseFx(record(batch.header, cells)));
          lines.push(batch.lines[i]!);
        } catch (err) {
          errors.push({ index: batch.lines[i]!, message: (err as Error).message });
        }
      });
      const { valid, errors: bad } = validateFxRows(rows, now);
      for (const e of bad) errors.push({ index: lines[e.index]!, message: e.message });
      return { errors, accepted: rows.length - bad.length, writes: [valid.length ? (pg) => this.writeFx(pg, valid) : null] };
    });
  }

  private async run(path: string, kind: 'prices' | 'fx', required: string[], connections: number, prepare: (batch: CsvBatch, now: number) => Prepared): Promise<ImportResult> {
    const started = Date.now();
    const totalBytes = statSync(path).size;
    const bytes = { read: 0 };
    const maxErrors = this.options.maxErrors ?? 1000;
    const errors: IngestResult['errors'] = [];
    let rows = 0;
    let accepted = 0;
    let rejected = 0;
    const url = this.options.pgUrl;
    const pgs = url ? Array.from({ length: connections }, () => new Client({ connectionString: url })) : [null];
    // A batch is written while the next one is parsed and checked, on one connection or
    // several: PostgreSQL works in processes of its own, so the work spreads over the cores.
    let writing: Promise<void>[] = [];
    try {
      for (const pg of pgs) {
        if (!pg) continue;
        await pg.connect();
        // These connections are the importer's alone, outside the pool that sets the principal per query.
        await pg.query(`SELECT set_config('app.principal', 'system', false)`);
        await pg.query(
          kind === 'prices'
            ? `CREATE TEMP TABLE import_stage (security_id uuid, timeframe text, ts timestamptz, open numeric, high numeric, low numeric, close numeric, volume numeric)`
            : `CREATE TEMP TABLE import_stage (base text, quote text, date date, rate numeric)`,
        );
      }
      for await (const batch of csvBatches(path, required, this.options.batchSize ?? 50_000, bytes)) {
        const { errors: bad, accepted: good, writes } = prepare(batch, Date.now());
        for (const e of bad) if (errors.length < maxErrors) errors.push(e);
        rejected += bad.length;
        // Rows repeated inside a batch collapse to the last one: count what the file gave.
        accepted += good;
        await Promise.all(writing);
        writing = pgs.map((pg, i) => writes[i]?.(pg) ?? Promise.resolve());
        // Awaited before the next batch; until then, a failure must not count as unhandled.
        for (const w of writing) w.catch(() => undefined);
        rows += batch.rows.length;
        this.options.onProgress?.({ rows, accepted, rejected, bytes: Math.min(bytes.read, totalBytes), totalBytes, elapsedMs: Date.now() - started });
      }
      await Promise.all(writing);
      await this.db.$transaction(async (tx) =>
        writeAudit(tx, { actor: null, meta: { requestId: `import-${randomUUID()}` } }, {
          action: `${kind}.import`,
          entityType: kind === 'prices' ? 'PriceFile' : 'FxFile',
          entityId: path.slice(-200),
          after: { rows, accepted, rejected, engine: url ? 'copy' : 'unnest' },
        }),
      );
    } finally {
      // A failed batch must not leave its writes running against closed connections.
      await Promise.allSettled(writing);
      await Promise.all(pgs.map((pg) => pg?.end()));
    }
    errors.sort((a, b) => a.index - b.index);
    return { rows, accepted, rejected, errors, elapsedMs: Date.now() - started };
  }

  /** The newest bar per security of a committed batch, as ingestPrices publishes it. */
  private announceBars(bars: readonly StagedBar[]): void {
    if (!this.options.bus) return;
    const latest = new Map<string, StagedBar>();
    for (const b of bars) {
      const cur = latest.get(b.securityId);
      if (!cur || b.ms > cur.ms) latest.set(b.securityId, b);
    }
    this.options.bus.publish({ type: 'prices.ingested', prices: [...latest.values()].map((b) => ({ securityId: b.securityId, symbol: b.symbol, price: b.close, ts: b.ts })) });
  }

  /** The newest rate per pair of a committed batch, as ingestFxRates publishes it. */
  private announceFx(rows: readonly ValidFxRow[]): void {
    if (!this.options.bus) return;
    this.options.bus.publish(fxIngested(rows));
  }

  private async writeBars(pg: Client | null, bars: StagedBar[]): Promise<void> {
    if (!pg) {
      const valid = bars.map(validPriceRow);
      await this.db.$transaction(
        async (tx) => {
          for (let i = 0; i < valid.length; i += 5000) await upsertBars(tx, valid.slice(i, i + 5000));
          await refreshQuotes(tx, latestPerSecurity(valid));
          await markNavStaleForBars(tx, valid);
        },
        { timeout: 120_000 },
      );
      this.announceBars(bars);
      return;
    }
    await pg.query('BEGIN');
    try {
      const lines = function* () {
        let buf = '';
        for (let i = 0; i < bars.length; i++) {
          const b = bars[i]!;
          buf += `${b.securityId}\t${b.timeframe}\t${b.ts}\t${cell(b.open)}\t${cell(b.high)}\t${cell(b.low)}\t${b.close}\t${cell(b.volume)}\n`;
          if (buf.length > 1 << 16) {
            yield buf;
            buf = '';
          }
        }
        if (buf) yield buf;
      };
      await pipeline(Readable.from(lines()), pg.query(copyFrom('COPY import_stage FROM STDIN')));
      await insertOrUpsertStaged(pg);
      await pg.query(`
        INSERT INTO quotes (security_id, price, ts, updated_at)
        SELECT DISTINCT ON (security_id) security_id, close, ts, now() FROM import_stage ORDER BY security_id, ts DESC
        ON CONFLICT (security_id) DO UPDATE SET price = EXCLUDED.price, ts = EXCLUDED.ts, updated_at = now()
        WHERE quotes.ts <= EXCLUDED.ts`);
      // Late daily bars make stored NAVs stale (as markNavStaleForBars does for the mutation).
      // The connections writing side by side take their turn here, so that two of them never
      // lock the same portfolios in opposite orders.
      await pg.query(`SELECT pg_advisory_xact_lock(${NAV_STALE_LOCK})`);
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
      this.announceBars(bars);
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
      this.announceFx(valid);
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
      this.announceFx(valid);
    } catch (err) {
      await pg.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
