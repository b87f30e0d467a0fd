import { Prisma } from '../generated/prisma/client';
import { D } from '../domain/decimal';
import { FxTable, candidatePairs } from '../domain/fx';
import { fromEpochDay, type CloseSeries, type LedgerEntry, type PriceSeries } from '../domain/nav-series';
import { toEpochDay } from '../domain/dates';
import type { SecurityInfo } from '../domain/analytics/holdings';
import { unitsOfTextAt } from '../domain/fixed';
import type { NavPoint } from '../domain/analytics/types';
import type { Db, Tx } from './db';

/* Loaders for analytics: a few set-based queries each, decimals parsed from text. */

const dec = (s: string) => new D(s);

/**
 * The stored daily NAV series up to `to`: from inception, or with `from` from the last point on
 * or before it (all of them when there is none), which is all that slicePeriod(points, from, to)
 * reads.
 */
export async function loadNavPoints(db: Db | Tx, portfolioId: string, to: string, from?: string): Promise<NavPoint[]> {
  const since = from
    ? Prisma.sql`AND asof_date >= COALESCE((SELECT max(asof_date) FROM portfolio_daily_values WHERE portfolio_id = ${portfolioId}::uuid AND asof_date <= ${from}::date), '-infinity'::date)`
    : Prisma.empty;
  const rows = await db.$queryRaw<{ d: string; nav: string; flow: string }[]>`
    SELECT to_char(asof_date, 'YYYY-MM-DD') AS d, nav::text AS nav, net_flow::text AS flow
    FROM portfolio_daily_values WHERE portfolio_id = ${portfolioId}::uuid AND asof_date <= ${to}::date ${since} ORDER BY asof_date`;
  // Most days have the same flow text ('0'): a Decimal is immutable, so that day shares the previous day's.
  let flowText: string | null = null;
  let flow: D | null = null;
  return rows.map((r) => {
    if (r.flow !== flowText) {
      flowText = r.flow;
      flow = dec(r.flow);
    }
    return { date: r.d, nav: dec(r.nav), netFlow: flow! };
  });
}

export async function loadLedger(db: Db | Tx, portfolioId: string, to: string): Promise<LedgerEntry[]> {
  const txs = await db.$queryRaw<{ type: LedgerEntry['type']; security_id: string | null; quantity: string | null; price: string | null; amount: string; currency: string; split_ratio: string | null; trade_date: string }[]>`
    SELECT type::text AS type, security_id, quantity::text AS quantity, price::text AS price, amount::text AS amount, currency, split_ratio::text AS split_ratio,
           to_char(trade_date, 'YYYY-MM-DD') AS trade_date
    FROM transactions WHERE portfolio_id = ${portfolioId}::uuid AND trade_date <= ${to}::date
    ORDER BY trade_date, created_at, id`;
  return txs.map((t) => ({
    date: t.trade_date,
    type: t.type,
    securityId: t.security_id,
    quantity: t.quantity ? dec(t.quantity) : null,
    price: t.price ? dec(t.price) : null,
    amount: dec(t.amount),
    currency: t.currency,
    splitRatio: t.split_ratio ? dec(t.split_ratio) : null,
  }));
}

export async function loadSecurities(db: Db | Tx, ids: string[]): Promise<Map<string, SecurityInfo & { name: string }>> {
  if (!ids.length) return new Map();
  const rows = await db.$queryRaw<{ id: string; symbol: string; name: string; currency: string; sector: string | null; asset_class: string | null; country: string | null }[]>`
    SELECT id, symbol, name, currency, sector, asset_class, country FROM securities WHERE id = ANY(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, { symbol: r.symbol, name: r.name, currency: r.currency, sector: r.sector, assetClass: r.asset_class, country: r.country }]));
}

/**
 * Daily closes of `ids` from `from` to `to`, plus the last one before `from` for each: one row
 * per security with a close, its bars as one text "day,close,day,close,…" in time order, a day
 * as its offset in calendar days from `from` (negative for the one before). Each security's
 * bars come from one ordered index-only range scan of (security_id, timeframe, ts) that starts
 * at its last bar before `from`: no sort of all the bars by security (which spilled to disk at
 * the default work_mem), no second sort per security for an ordered aggregate, and no per-bar
 * to_char (together most of the old query's time); ARRAY(… ORDER BY ts) keeps the order. The driver then decodes a few hundred rows instead of tens of thousands, and Node
 * maps the few distinct offsets to dates once each (so the series share their date strings).
 */
async function closeRows(db: Db | Tx, ids: string[], from: string, to: string): Promise<{ security_id: string; bars: string }[]> {
  if (!ids.length) return [];
  return db.$queryRaw<{ security_id: string; bars: string }[]>`
    SELECT s.id AS security_id, array_to_string(ARRAY(
      SELECT ((b.ts AT TIME ZONE 'UTC')::date - ${from}::date) || ',' || b.close FROM price_bars b
      WHERE b.security_id = s.id AND b.timeframe = '1d' AND b.ts <= ${to}::date
        AND b.ts >= COALESCE((SELECT max(p.ts) FROM price_bars p WHERE p.security_id = s.id AND p.timeframe = '1d' AND p.ts < ${from}::date), ${from}::date)
      ORDER BY b.ts), ',') AS bars
    FROM unnest(${ids}::uuid[]) AS s(id)`;
}

/**
 * closeRows' bars as dates and closes parsed by `close`; securities without bars left out. The
 * text is scanned in place (no array of 2 × 50,000 strings from a split): a day offset is read
 * from its digits and mapped to its date once per distinct offset.
 */
async function loadSeries<C>(db: Db | Tx, ids: string[], from: string, to: string, close: (text: string, start: number, end: number) => C): Promise<Map<string, { dates: string[]; closes: C[] }>> {
  const rows = await closeRows(db, ids, from, to);
  const start = toEpochDay(from);
  const dateAt = new Map<number, string>();
  const out = new Map<string, { dates: string[]; closes: C[] }>();
  for (const { security_id, bars } of rows) {
    if (!bars) continue;
    const dates: string[] = [];
    const closes: C[] = [];
    for (let i = 0; i < bars.length; ) {
      const negative = bars.charCodeAt(i) === 45;
      let offset = 0;
      let k = negative ? i + 1 : i;
      for (let c = bars.charCodeAt(k); c !== 44 && k < bars.length; c = bars.charCodeAt(++k)) offset = offset * 10 + (c - 48);
      if (negative) offset = -offset;
      let date = dateAt.get(offset);
      if (date === undefined) dateAt.set(offset, (date = fromEpochDay(start + offset)));
      const next = bars.indexOf(',', k + 1);
      const end = next < 0 ? bars.length : next;
      dates.push(date);
      closes.push(close(bars, k + 1, end));
      i = end + 1;
    }
    out.set(security_id, { dates, closes });
  }
  return out;
}

/** closeRows as Decimals. */
export function loadCloses(db: Db | Tx, ids: string[], from: string, to: string): Promise<Map<string, PriceSeries>> {
  return loadSeries(db, ids, from, to, (text, start, end) => dec(text.slice(start, end)));
}

/**
 * closeRows as exact fixed-point units, for the NAV series and attribution's holdings (both
 * work in units): no Decimal per close.
 */
export function loadCloseUnits(db: Db | Tx, ids: string[], from: string, to: string): Promise<Map<string, CloseSeries>> {
  return loadSeries(db, ids, from, to, unitsOfTextAt);
}

/** Every rate among `currencies` (and the pivots) from `from` to `to`, plus the last one before. */
export async function loadFxRange(db: Db | Tx, currencies: Iterable<string>, from: string, to: string): Promise<FxTable> {
  const pairs = candidatePairs(currencies);
  const b = pairs.map((p) => p[0]);
  const q = pairs.map((p) => p[1]);
  const rates = await db.$queryRaw<{ base: string; quote: string; date: string; rate: string }[]>`
    SELECT base, quote, to_char(date, 'YYYY-MM-DD') AS date, rate::text AS rate FROM fx_rates
    WHERE (base, quote) IN (SELECT * FROM unnest(${b}::text[], ${q}::text[])) AND date >= ${from}::date AND date <= ${to}::date
    UNION ALL
    SELECT p.b, p.q, to_char(r.date, 'YYYY-MM-DD'), r.rate::text
    FROM unnest(${b}::text[], ${q}::text[]) AS p(b, q)
    CROSS JOIN LATERAL (SELECT date, rate FROM fx_rates WHERE base = p.b AND quote = p.q AND date < ${from}::date ORDER BY date DESC LIMIT 1) r`;
  return new FxTable(rates.map((r) => ({ base: r.base, quote: r.quote, date: r.date, rate: dec(r.rate) })));
}

export interface LoadedBenchmark {
  id: string;
  code: string;
  name: string;
  currency: string;
  updatedAt: Date;
  constituents: { securityId: string; symbol: string; name: string; currency: string; weight: D; sector: string | null; assetClass: string | null; country: string | null }[];
}

/** One benchmark with its constituents' security data, by code (upper-cased); null when unknown. */
export async function loadBenchmark(db: Db | Tx, code: string): Promise<LoadedBenchmark | null> {
  const rows = await db.$queryRaw<{ id: string; code: string; name: string; currency: string; updated_at: Date; security_id: string | null; weight: string | null; symbol: string | null; sname: string | null; scur: string | null; sector: string | null; asset_class: string | null; country: string | null }[]>`
    SELECT b.id, b.code, b.name, b.currency, b.updated_at, c.security_id, c.weight::text AS weight, s.symbol, s.name AS sname, s.currency AS scur, s.sector, s.asset_class, s.country
    FROM benchmarks b LEFT JOIN benchmark_constituents c ON c.benchmark_id = b.id LEFT JOIN securities s ON s.id = c.security_id
    WHERE b.code = ${code.trim().toUpperCase()} ORDER BY c.weight DESC, s.symbol`;
  const b = rows[0];
  if (!b) return null;
  return {
    id: b.id,
    code: b.code,
    name: b.name,
    currency: b.currency,
    updatedAt: b.updated_at,
    constituents: rows
      .filter((r) => r.security_id)
      .map((r) => ({ securityId: r.security_id!, symbol: r.symbol!, name: r.sname!, currency: r.scur!, weight: dec(r.weight!), sector: r.sector, assetClass: r.asset_class, country: r.country })),
  };
}

/**
 * The closes of constituent `c.sid` (a LATERAL over a row c) that count on the grid `days`:
 * its '1d' bars from days[0] to the last day, plus the last one before, each bucketed to the
 * first day on or after its UTC date (width_bucket on the sorted days); lead() keeps the
 * last bar of each bucket, which is the "last close on or before the day" of benchmark.ts,
 * and lag() gives the previous kept close (NULL for the first). Rows (j, close, prev).
 */
export function keptCloses(days: readonly string[]): Prisma.Sql {
  const from = days[0]!;
  const to = days.at(-1)!;
  return Prisma.sql`
      SELECT j, close, lag(close) OVER (ORDER BY ts) AS prev
      FROM (
        SELECT ts, close, j, lead(j) OVER (ORDER BY ts) AS next_j
        FROM (
          SELECT ts, close, width_bucket((ts AT TIME ZONE 'UTC')::date - 1, ${days}::date[]) AS j
          FROM ((SELECT ts, close FROM price_bars WHERE security_id = c.sid AND timeframe = '1d' AND ts < ${from}::date ORDER BY ts DESC LIMIT 1)
                UNION ALL
                (SELECT ts, close FROM price_bars WHERE security_id = c.sid AND timeframe = '1d' AND ts >= ${from}::date AND ts <= ${to}::date)) b
        ) b
      ) x
      WHERE next_j IS DISTINCT FROM j`;
}

/** Per (day, group, currency) sums of w_i · r_i over a benchmark's constituents, from SQL. */
export interface BenchmarkSums {
  /** Rows for days[1..]: day index into `days`, group key, constituent currency, Σ w_i (c_t − c_{t−1}) / c_{t−1}. */
  rows: { day: number; group: string; currency: string; sum: D }[];
  /**
   * false when some constituent has no close on or before days[0], or a zero close that a
   * later day would divide by: the caller then takes the per-constituent path, whose
   * BAD_USER_INPUT names the constituent.
   */
  complete: boolean;
}

/**
 * The daily price returns of a benchmark's constituents, weighted and summed per day and
 * group in the database (NUMERIC), so that Node receives one row per (day, group, currency)
 * instead of one close per constituent and day.
 *
 * The constituents' closes on the grid are keptCloses'; a day without a new close has r_i = 0
 * and no row. Prices only: FX to the benchmark currency is applied per (currency, day) by
 * benchmarkGroupReturnsFromSums. Analytics reads the same sums from the per-benchmark store
 * (benchmark-sums.ts) when `days` are consecutive business days, as a NAV series' are; this
 * per-request aggregation serves any other grid.
 *
 * Precision: r_i = (c_t − c_{t−1}) / c_{t−1} is a NUMERIC division at a fixed scale of 44
 * decimal places (PostgreSQL rounds half away from zero: absolute error ≤ 5e-45, ≥ 40
 * significant digits for |r_i| ≥ 1e-4); w_i · r_i and the sums are exact NUMERIC. The
 * per-constituent path rounds each quotient to 40 significant digits (half-even) instead:
 * both are exact when the quotients terminate within those digits and otherwise agree to
 * about 1e-40 per day.
 */
export async function loadBenchmarkSums(
  db: Db,
  constituents: readonly { securityId: string; currency: string; weight: D; group?: string }[],
  days: readonly string[],
): Promise<BenchmarkSums> {
  if (!days.length || !constituents.length) return { rows: [], complete: false };
  const ids = constituents.map((c) => c.securityId);
  const weights = constituents.map((c) => c.weight.toFixed());
  const groups = constituents.map((c) => c.group ?? 'ALL');
  const currencies = constituents.map((c) => c.currency);
  // One ordered index-only range scan per constituent (LATERAL; the window sorts stay per
  // constituent and in memory), then one hash aggregate over (day, group, currency).
  // starts/zeros feed `complete`.
  // In its own transaction, for settings that hold for this query only: enough work_mem
  // for the planner to hash the ~126,000 constituent-days of a year (the default 4 MB sorts
  // them on disk instead), and no JIT, whose compilation (0.4–0.8 s) costs more than the
  // expressions it would speed up once the estimate passes jit_above_cost.
  const rows = await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`;
    return tx.$queryRaw<{ j: number; g: string; ccy: string; a: string | null; starts: number; zeros: number }[]>`
    SELECT r.j::int AS j, c.g, c.ccy,
           sum(c.w * ((r.close - r.prev)::numeric(1000, 44) / r.prev)) FILTER (WHERE r.j >= 1 AND r.close <> r.prev AND r.prev <> 0)::text AS a,
           count(*) FILTER (WHERE r.j = 0)::int AS starts,
           count(*) FILTER (WHERE r.close = 0 AND r.j <= ${days.length - 2})::int AS zeros
    FROM unnest(${ids}::uuid[], ${weights}::numeric[], ${groups}::text[], ${currencies}::text[]) AS c(sid, w, g, ccy)
    CROSS JOIN LATERAL (${keptCloses(days)}) r
    GROUP BY r.j, c.g, c.ccy`;
  }, { timeout: 120_000 });
  const out: BenchmarkSums['rows'] = [];
  let withStart = 0;
  let zeros = 0;
  for (const r of rows) {
    withStart += r.starts;
    zeros += r.zeros;
    if (r.j >= 1 && r.a !== null) out.push({ day: r.j, group: r.g, currency: r.ccy, sum: dec(r.a) });
  }
  return { rows: out, complete: withStart === constituents.length && zeros === 0 };
}
