import type Decimal from 'decimal.js';
import { barProblem, scaleProblem } from '../domain/market';
import { D } from '../domain/decimal';
import { FxTable, candidatePairs, type FxConversion } from '../domain/fx';
import type { EventBus } from '../events/bus';
import type { EventOf } from '../events/types';
import type { Db, Tx } from './db';
import type { ServiceContext } from './context';
import { requireActor, requireRole } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { badInput, currencyCode } from './validate';
import { asSystem } from '../db/principal';
import { markBenchmarkSumsStaleForBars } from './benchmark-sums';

export interface PriceRowInput {
  symbol: string;
  /** A daily bar's date (YYYY-MM-DD), or */
  date?: string | null;
  /** an intraday tick's instant. */
  at?: Date | null;
  open?: Decimal | null;
  high?: Decimal | null;
  low?: Decimal | null;
  close: Decimal;
  volume?: Decimal | null;
}

export interface FxRowInput {
  base: string;
  quote: string;
  date: string;
  rate: Decimal;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  errors: { index: number; message: string }[];
}

const DAY_MS = 86_400_000;
/**
 * "No future dates beyond a day": a daily bar or FX rate may be dated tomorrow (UTC), where a
 * market east of UTC already is, and never later (no time zone is two days ahead of UTC); a
 * tick at most a day after now. Further ahead is a typo. Instants in ms since the epoch.
 */
export function latestDailyMs(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
}
export function latestTickMs(now: number): number {
  return now + DAY_MS;
}
/** What the NUMERIC(30, 10) price and NUMERIC(30, 4) volume columns hold without rounding. */
export const PRICE_DIGITS = { integer: 20, scale: 10 };
export const VOLUME_DIGITS = { integer: 26, scale: 4 };
const CHUNK = 5000;
/** One request's bound: larger loads go through `npm run import:prices` / `import:fx`. */
export const MAX_INGEST_ROWS = 100_000;

const text = (v: Decimal | null | undefined) => (v ? v.toFixed() : null);

/**
 * Market data is shared by every portfolio, so only ADMIN and MANAGER write it. A batch
 * is validated row by row: the valid rows are upserted in one transaction (idempotent on
 * security, timeframe and instant), the invalid ones are reported by index.
 */
export class MarketDataService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  async ingestPrices(ctx: ServiceContext, rows: readonly PriceRowInput[]): Promise<IngestResult> {
    requireRole(ctx, 'ADMIN', 'MANAGER');
    if (rows.length > MAX_INGEST_ROWS) throw badInput(`at most ${MAX_INGEST_ROWS} rows per request, got ${rows.length}; use npm run import:prices for files`);
    const symbols = [...new Set(rows.map((r) => r.symbol.trim().toUpperCase()))];
    const securities = await this.db.security.findMany({ where: { symbol: { in: symbols } }, select: { id: true, symbol: true } });
    const { valid, errors } = validatePriceRows(rows, new Map(securities.map((s) => [s.symbol, s.id])));
    if (valid.length) {
      const latest = latestPerSecurity(valid);
      await inTransaction(this.db, ctx, async (tx, afterCommit) => {
        for (let i = 0; i < valid.length; i += CHUNK) await upsertBars(tx, valid.slice(i, i + CHUNK));
        await refreshQuotes(tx, latest);
        await markNavStaleForBars(tx, valid);
        await writeAudit(tx, ctx, {
          action: 'prices.ingest',
          entityType: 'PriceBatch',
          entityId: ctx.meta.requestId,
          after: { accepted: valid.length, rejected: errors.length, symbols: [...new Set(valid.map((v) => v.symbol))].slice(0, 50) },
        });
        afterCommit(() =>
          this.bus.publish({
            type: 'prices.ingested',
            prices: [...latest.entries()].map(([securityId, l]) => ({ securityId, symbol: l.symbol, price: l.close.toFixed(), ts: l.ts.toISOString() })),
          }),
        );
      });
    }
    // Rows repeated in the batch were accepted; only the last of them was written.
    return { accepted: rows.length - errors.length, rejected: errors.length, errors };
  }

  async ingestFxRates(ctx: ServiceContext, rows: readonly FxRowInput[]): Promise<IngestResult> {
    requireRole(ctx, 'ADMIN', 'MANAGER');
    if (rows.length > MAX_INGEST_ROWS) throw badInput(`at most ${MAX_INGEST_ROWS} rows per request, got ${rows.length}; use npm run import:fx for files`);
    const { valid, errors } = validateFxRows(rows);
    if (valid.length) {
      await inTransaction(this.db, ctx, async (tx, afterCommit) => {
        for (let i = 0; i < valid.length; i += CHUNK) await upsertFxRates(tx, valid.slice(i, i + CHUNK));
        await markNavStaleForFx(tx, valid);
        await writeAudit(tx, ctx, { action: 'fx.ingest', entityType: 'FxBatch', entityId: ctx.meta.requestId, after: { accepted: valid.length, rejected: errors.length } });
        afterCommit(() => this.bus.publish(fxIngested(valid)));
      });
    }
    // Rows repeated in the batch were accepted; only the last of them was written.
    return { accepted: rows.length - errors.length, rejected: errors.length, errors };
  }

  /** The base→quote rate on `date` (default today): direct, inverse or crossed through a pivot. */
  async fxRate(ctx: ServiceContext, baseIn: string, quoteIn: string, date?: string | null): Promise<FxConversion | null> {
    requireActor(ctx);
    const base = currencyCode(baseIn, 'base');
    const quote = currencyCode(quoteIn, 'quote');
    const on = date ?? new Date().toISOString().slice(0, 10);
    const table = await loadFxTable(this.db, [base, quote], on);
    return table.convertRate(base, quote, on);
  }
}

export interface ValidPriceRow {
  securityId: string;
  symbol: string;
  timeframe: string;
  ts: Date;
  row: PriceRowInput;
}

export type ValidFxRow = { base: string; quote: string; date: string; rate: Decimal };

/** Row-by-row checks shared by the mutation and the file importer; `index` is the row's position. */
export function validatePriceRows(
  rows: readonly PriceRowInput[],
  idBySymbol: ReadonlyMap<string, string>,
  now = Date.now(),
  indexOffset = 0,
): { valid: ValidPriceRow[]; errors: IngestResult['errors'] } {
  const errors: IngestResult['errors'] = [];
  const valid: ValidPriceRow[] = [];
  rows.forEach((row, i) => {
    const symbol = row.symbol.trim().toUpperCase();
    const securityId = idBySymbol.get(symbol);
    const when = priceInstant(row);
    const problem = !securityId
      ? `unknown symbol "${row.symbol}"`
      : typeof when === 'string'
        ? when
        : when.ts.getTime() > (when.timeframe === '1d' ? latestDailyMs(now) : latestTickMs(now))
          ? `${row.date ?? row.at?.toISOString()} is in the future`
          : (barProblem(row) ??
            [row.open, row.high, row.low, row.close].map((v, k) => (v ? scaleProblem(['open', 'high', 'low', 'close'][k]!, v, PRICE_DIGITS.scale, PRICE_DIGITS.integer) : null)).find(Boolean) ??
            (row.volume ? scaleProblem('volume', row.volume, VOLUME_DIGITS.scale, VOLUME_DIGITS.integer) : null));
    if (problem || !securityId || typeof when === 'string') errors.push({ index: i + indexOffset, message: problem ?? 'invalid row' });
    else valid.push({ securityId, symbol, ...when, row });
  });
  return { valid: lastWins(valid, (v) => `${v.securityId}/${v.timeframe}/${v.ts.getTime()}`), errors };
}

export function validateFxRows(rows: readonly FxRowInput[], now = Date.now(), indexOffset = 0): { valid: ValidFxRow[]; errors: IngestResult['errors'] } {
  const errors: IngestResult['errors'] = [];
  const valid: ValidFxRow[] = [];
  const latestAllowed = new Date(latestDailyMs(now)).toISOString().slice(0, 10);
  rows.forEach((row, i) => {
    const index = i + indexOffset;
    try {
      const base = currencyCode(row.base, 'base');
      const quote = currencyCode(row.quote, 'quote');
      const problem =
        base === quote
          ? 'base and quote are the same currency'
          : !row.rate.isFinite() || row.rate.lte(0)
            ? `rate must be greater than 0, got ${row.rate.toFixed()}`
            : row.date > latestAllowed
              ? `${row.date} is in the future`
              : scaleProblem('rate', row.rate, 12, 18);
      if (problem) errors.push({ index, message: problem });
      else valid.push({ base, quote, date: row.date, rate: row.rate });
    } catch (err) {
      errors.push({ index, message: (err as Error).message });
    }
  });
  return { valid: lastWins(valid, (v) => `${v.base}/${v.quote}/${v.date}`), errors };
}

/** One rate per pair (its newest): the event says what changed, not every row. */
export function fxIngested(rows: readonly ValidFxRow[]): EventOf<'fx.ingested'> {
  const latest = new Map<string, ValidFxRow>();
  for (const r of rows) {
    const k = `${r.base}/${r.quote}`;
    if (!latest.has(k) || latest.get(k)!.date <= r.date) latest.set(k, r);
  }
  return { type: 'fx.ingested', rates: [...latest.values()].map((r) => ({ base: r.base, quote: r.quote, date: r.date, rate: r.rate.toFixed() })) };
}

/** A row given twice in one batch: the later one wins (one upsert may not touch a row twice). */
export function lastWins<T>(rows: T[], key: (r: T) => string): T[] {
  const seen = new Map<string, number>();
  rows.forEach((r, i) => seen.set(key(r), i));
  return seen.size === rows.length ? rows : rows.filter((r, i) => seen.get(key(r)) === i);
}

export async function upsertFxRates(tx: Tx | Db, chunk: readonly ValidFxRow[]): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO fx_rates (base, quote, date, rate)
    SELECT * FROM unnest(${chunk.map((r) => r.base)}::text[], ${chunk.map((r) => r.quote)}::text[], ${chunk.map((r) => r.date)}::date[], ${chunk.map((r) => r.rate.toFixed())}::numeric[])
    ON CONFLICT (base, quote, date) DO UPDATE SET rate = EXCLUDED.rate`;
}

/**
 * A daily bar dated before a day whose NAV is already stored changes that NAV: the
 * portfolios that ever traded the security get nav_stale_from = least(existing, bar date);
 * likewise the stored daily sums of the benchmarks holding it (sums_stale_from).
 */
export async function markNavStaleForBars(tx: Tx | Db, rows: readonly ValidPriceRow[]): Promise<void> {
  const earliest = new Map<string, string>();
  for (const r of rows) {
    if (r.timeframe !== '1d') continue;
    const d = r.ts.toISOString().slice(0, 10);
    const cur = earliest.get(r.securityId);
    if (!cur || d < cur) earliest.set(r.securityId, d);
  }
  if (!earliest.size) return;
  const ids = [...earliest.keys()];
  // Every holder's portfolio, whoever ingests: a step for the system.
  await asSystem(() => tx.$executeRaw`
    UPDATE portfolios p SET nav_stale_from = LEAST(COALESCE(p.nav_stale_from, s.d), s.d)
    FROM (
      SELECT t.portfolio_id, min(u.d) AS d
      FROM unnest(${ids}::uuid[], ${ids.map((id) => earliest.get(id)!)}::date[]) AS u(security_id, d)
      JOIN (SELECT DISTINCT portfolio_id, security_id FROM transactions WHERE security_id = ANY(${ids}::uuid[])) t ON t.security_id = u.security_id
      GROUP BY t.portfolio_id
    ) s
    WHERE p.id = s.portfolio_id
      AND EXISTS (SELECT 1 FROM portfolio_daily_values v WHERE v.portfolio_id = p.id AND v.asof_date >= s.d)`);
  await markBenchmarkSumsStaleForBars(tx, ids, ids.map((id) => earliest.get(id)!));
}

/** A late FX rate may change any stored NAV on or after its date (cross rates reach every pair). */
export async function markNavStaleForFx(tx: Tx | Db, rows: readonly ValidFxRow[]): Promise<void> {
  if (!rows.length) return;
  const d = rows.reduce((min, r) => (r.date < min ? r.date : min), rows[0]!.date);
  await asSystem(() => tx.$executeRaw`
    UPDATE portfolios p SET nav_stale_from = LEAST(COALESCE(p.nav_stale_from, ${d}::date), ${d}::date)
    WHERE EXISTS (SELECT 1 FROM portfolio_daily_values v WHERE v.portfolio_id = p.id AND v.asof_date >= ${d}::date)`);
}

/**
 * The last rate on or before `date` of every stored pair a conversion among `currencies`
 * (and the pivots) may use: one index probe per candidate pair.
 */
export async function loadFxTable(db: Db | Tx, currencies: Iterable<string>, date: string): Promise<FxTable> {
  const pairs = candidatePairs(currencies);
  const rows = await db.$queryRaw<{ base: string; quote: string; date: string; rate: string }[]>`
    SELECT p.b AS base, p.q AS quote, to_char(r.date, 'YYYY-MM-DD') AS date, r.rate::text AS rate
    FROM unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[]) AS p(b, q)
    CROSS JOIN LATERAL (
      SELECT date, rate FROM fx_rates WHERE base = p.b AND quote = p.q AND date <= ${date}::date ORDER BY date DESC LIMIT 1
    ) r`;
  return new FxTable(rows.map((r) => ({ base: r.base, quote: r.quote, date: r.date, rate: new D(r.rate) })));
}

function priceInstant(row: PriceRowInput): { timeframe: string; ts: Date } | string {
  if (row.date && row.at) return 'give either date (a daily bar) or at (a tick), not both';
  if (row.date) return { timeframe: '1d', ts: new Date(`${row.date}T00:00:00.000Z`) };
  if (row.at) return { timeframe: 'tick', ts: row.at };
  return 'date or at is required';
}

export async function upsertBars(tx: Tx | Db, rows: readonly ValidPriceRow[]): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO price_bars (security_id, timeframe, ts, open, high, low, close, volume)
    SELECT * FROM unnest(
      ${rows.map((r) => r.securityId)}::uuid[], ${rows.map((r) => r.timeframe)}::text[], ${rows.map((r) => r.ts.toISOString())}::timestamptz[],
      ${rows.map((r) => text(r.row.open))}::numeric[], ${rows.map((r) => text(r.row.high))}::numeric[], ${rows.map((r) => text(r.row.low))}::numeric[],
      ${rows.map((r) => r.row.close.toFixed())}::numeric[], ${rows.map((r) => text(r.row.volume))}::numeric[])
    ON CONFLICT (security_id, timeframe, ts) DO UPDATE
      SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume`;
}

type Latest = Map<string, { ts: Date; close: Decimal; symbol: string }>;

export function latestPerSecurity(rows: readonly ValidPriceRow[]): Latest {
  const latest: Latest = new Map();
  for (const r of rows) {
    const cur = latest.get(r.securityId);
    if (!cur || r.ts > cur.ts) latest.set(r.securityId, { ts: r.ts, close: r.row.close, symbol: r.symbol });
  }
  return latest;
}

/** The latest quote per security follows the newest price ingested, never an older one. */
export async function refreshQuotes(tx: Tx | Db, latest: Latest): Promise<void> {
  if (!latest.size) return;
  const ids = [...latest.keys()];
  await tx.$executeRaw`
    INSERT INTO quotes (security_id, price, ts, updated_at)
    SELECT id, price, ts, now() FROM unnest(${ids}::uuid[], ${ids.map((id) => latest.get(id)!.close.toFixed())}::numeric[], ${ids.map((id) => latest.get(id)!.ts.toISOString())}::timestamptz[]) AS t(id, price, ts)
    ON CONFLICT (security_id) DO UPDATE SET price = EXCLUDED.price, ts = EXCLUDED.ts, updated_at = now()
    WHERE quotes.ts <= EXCLUDED.ts`;
}
