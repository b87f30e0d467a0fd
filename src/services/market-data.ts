import type Decimal from 'decimal.js';
import { barProblem, scaleProblem } from '../domain/market';
import type { Db, Tx } from './db';
import type { ServiceContext } from './context';
import { requireRole } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { currencyCode } from './validate';

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

// Bars a day ahead are allowed (markets east of UTC); further ahead is a typo.
const MAX_FUTURE_MS = 36 * 3600 * 1000;
const CHUNK = 5000;

const text = (v: Decimal | null | undefined) => (v ? v.toFixed() : null);

/**
 * Market data is shared by every portfolio, so only ADMIN and MANAGER write it. A batch
 * is validated row by row: the valid rows are upserted in one transaction (idempotent on
 * security, timeframe and instant), the invalid ones are reported by index.
 */
export class MarketDataService {
  constructor(private readonly db: Db) {}

  async ingestPrices(ctx: ServiceContext, rows: readonly PriceRowInput[]): Promise<IngestResult> {
    requireRole(ctx, 'ADMIN', 'MANAGER');
    const symbols = [...new Set(rows.map((r) => r.symbol.trim().toUpperCase()))];
    const securities = await this.db.security.findMany({ where: { symbol: { in: symbols } }, select: { id: true, symbol: true } });
    const idBySymbol = new Map(securities.map((s) => [s.symbol, s.id]));
    const errors: IngestResult['errors'] = [];
    const valid: { securityId: string; timeframe: string; ts: Date; row: PriceRowInput }[] = [];
    const now = Date.now();
    rows.forEach((row, index) => {
      const securityId = idBySymbol.get(row.symbol.trim().toUpperCase());
      const when = priceInstant(row);
      const problem = !securityId
        ? `unknown symbol "${row.symbol}"`
        : typeof when === 'string'
          ? when
          : when.ts.getTime() > now + MAX_FUTURE_MS
            ? `${row.date ?? row.at?.toISOString()} is in the future`
            : (barProblem(row) ??
              [row.open, row.high, row.low, row.close].map((v, i) => (v ? scaleProblem(['open', 'high', 'low', 'close'][i]!, v, 10) : null)).find(Boolean) ??
              (row.volume ? scaleProblem('volume', row.volume, 4, 26) : null));
      if (problem || !securityId || typeof when === 'string') errors.push({ index, message: problem ?? 'invalid row' });
      else valid.push({ securityId, ...when, row });
    });
    if (valid.length) {
      await inTransaction(this.db, ctx, async (tx) => {
        for (let i = 0; i < valid.length; i += CHUNK) await upsertBars(tx, valid.slice(i, i + CHUNK));
        await refreshQuotes(tx, valid);
        await writeAudit(tx, ctx, {
          action: 'prices.ingest',
          entityType: 'PriceBatch',
          entityId: ctx.meta.requestId,
          after: { accepted: valid.length, rejected: errors.length, symbols: [...new Set(valid.map((v) => v.row.symbol.toUpperCase()))].slice(0, 50) },
        });
      });
    }
    return { accepted: valid.length, rejected: errors.length, errors };
  }

  async ingestFxRates(ctx: ServiceContext, rows: readonly FxRowInput[]): Promise<IngestResult> {
    requireRole(ctx, 'ADMIN', 'MANAGER');
    const errors: IngestResult['errors'] = [];
    const valid: { base: string; quote: string; date: string; rate: Decimal }[] = [];
    const today = new Date(Date.now() + MAX_FUTURE_MS).toISOString().slice(0, 10);
    rows.forEach((row, index) => {
      try {
        const base = currencyCode(row.base, 'base');
        const quote = currencyCode(row.quote, 'quote');
        const problem =
          base === quote
            ? 'base and quote are the same currency'
            : !row.rate.isFinite() || row.rate.lte(0)
              ? `rate must be greater than 0, got ${row.rate.toFixed()}`
              : row.date > today
                ? `${row.date} is in the future`
                : scaleProblem('rate', row.rate, 12, 18);
        if (problem) errors.push({ index, message: problem });
        else valid.push({ base, quote, date: row.date, rate: row.rate });
      } catch (err) {
        errors.push({ index, message: (err as Error).message });
      }
    });
    if (valid.length) {
      await inTransaction(this.db, ctx, async (tx) => {
        for (let i = 0; i < valid.length; i += CHUNK) {
          const chunk = valid.slice(i, i + CHUNK);
          await tx.$executeRaw`
            INSERT INTO fx_rates (base, quote, date, rate)
            SELECT * FROM unnest(${chunk.map((r) => r.base)}::text[], ${chunk.map((r) => r.quote)}::text[], ${chunk.map((r) => r.date)}::date[], ${chunk.map((r) => r.rate.toFixed())}::numeric[])
            ON CONFLICT (base, quote, date) DO UPDATE SET rate = EXCLUDED.rate`;
        }
        await writeAudit(tx, ctx, { action: 'fx.ingest', entityType: 'FxBatch', entityId: ctx.meta.requestId, after: { accepted: valid.length, rejected: errors.length } });
      });
    }
    return { accepted: valid.length, rejected: errors.length, errors };
  }
}

function priceInstant(row: PriceRowInput): { timeframe: string; ts: Date } | string {
  if (row.date && row.at) return 'give either date (a daily bar) or at (a tick), not both';
  if (row.date) return { timeframe: '1d', ts: new Date(`${row.date}T00:00:00.000Z`) };
  if (row.at) return { timeframe: 'tick', ts: row.at };
  return 'date or at is required';
}

async function upsertBars(tx: Tx, rows: { securityId: string; timeframe: string; ts: Date; row: PriceRowInput }[]): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO price_bars (security_id, timeframe, ts, open, high, low, close, volume)
    SELECT * FROM unnest(
      ${rows.map((r) => r.securityId)}::uuid[], ${rows.map((r) => r.timeframe)}::text[], ${rows.map((r) => r.ts.toISOString())}::timestamptz[],
      ${rows.map((r) => text(r.row.open))}::numeric[], ${rows.map((r) => text(r.row.high))}::numeric[], ${rows.map((r) => text(r.row.low))}::numeric[],
      ${rows.map((r) => r.row.close.toFixed())}::numeric[], ${rows.map((r) => text(r.row.volume))}::numeric[])
    ON CONFLICT (security_id, timeframe, ts) DO UPDATE
      SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume`;
}

/** The latest quote per security follows the newest price ingested, never an older one. */
async function refreshQuotes(tx: Tx, rows: { securityId: string; ts: Date; row: PriceRowInput }[]): Promise<void> {
  const latest = new Map<string, { ts: Date; close: Decimal }>();
  for (const r of rows) {
    const cur = latest.get(r.securityId);
    if (!cur || r.ts > cur.ts) latest.set(r.securityId, { ts: r.ts, close: r.row.close });
  }
  const ids = [...latest.keys()];
  await tx.$executeRaw`
    INSERT INTO quotes (security_id, price, ts, updated_at)
    SELECT id, price, ts, now() FROM unnest(${ids}::uuid[], ${ids.map((id) => latest.get(id)!.close.toFixed())}::numeric[], ${ids.map((id) => latest.get(id)!.ts.toISOString())}::timestamptz[]) AS t(id, price, ts)
    ON CONFLICT (security_id) DO UPDATE SET price = EXCLUDED.price, ts = EXCLUDED.ts, updated_at = now()
    WHERE quotes.ts <= EXCLUDED.ts`;
}
