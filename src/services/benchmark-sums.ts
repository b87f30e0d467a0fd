import { asSystem } from '../db/principal';
import { Prisma } from '../generated/prisma/client';
import { D } from '../domain/decimal';
import { toEpochDay } from '../domain/dates';
import { businessDayOnOrBefore, businessDays, fromEpochDay } from '../domain/nav-series';
import { UNCLASSIFIED_GROUP, type GroupBy } from '../domain/analytics';
import type { BenchmarkSums } from './analytics-data';
import { keptCloses } from './analytics-data';
import type { Db, Tx } from './db';

/*
 * The stored daily sums of a benchmark (benchmark_daily_sums): per business day and per
 * combination ("part") of its constituents' sector, asset class, country and currency,
 *   ret_sum = Σ w_i (c_i(t) − c_i(t−1)) / c_i(t−1)   over the part's constituents with a new close,
 *   started = constituents with a close on or before t,
 * with t−1 the previous business day: the quantities loadBenchmarkSums aggregates per request,
 * computed by the same SQL (keptCloses) on the grid of all business days. Any request on
 * consecutive business days — which NAV series are — sums the parts of its group: exact NUMERIC
 * additions of the same terms, so the same numbers digit for digit.
 *
 * Like portfolio_daily_values for the NAV: built on demand for the days asked, extended
 * forward (and backward) as later requests need, rebuilt from benchmarks.sums_stale_from,
 * which a late or corrected daily bar of a constituent sets to its date (markNavStaleForBars
 * and the file importer), and a change of a constituent's sector, asset class, country or
 * currency, or of the benchmark's constituents or weights, sets to the first stored day.
 * Rebuilds are recorded in calculation_runs (kind benchmark_sums). Benchmark-level market
 * data, not owned by any portfolio.
 */

const nextDay = (d: string) => fromEpochDay(toEpochDay(d) + 1);
const previousBusinessDay = (d: string) => businessDayOnOrBefore(fromEpochDay(toEpochDay(d) - 1));

interface StoreState {
  stale: string | null;
  first: string | null;
  last: string | null;
}

async function storeState(db: Db | Tx, benchmarkId: string, lock: boolean): Promise<StoreState | undefined> {
  const [s] = await db.$queryRaw<StoreState[]>`
    SELECT to_char(b.sums_stale_from, 'YYYY-MM-DD') AS stale,
           (SELECT to_char(min(asof_date), 'YYYY-MM-DD') FROM benchmark_daily_sums v WHERE v.benchmark_id = b.id) AS first,
           (SELECT to_char(max(asof_date), 'YYYY-MM-DD') FROM benchmark_daily_sums v WHERE v.benchmark_id = b.id) AS last
    FROM benchmarks b WHERE b.id = ${benchmarkId}::uuid ${lock ? Prisma.sql`FOR UPDATE OF b` : Prisma.empty}`;
  return s;
}

/** The days to (re)build so that the store covers from..to and nothing stored is stale; null when it does. */
function rebuildRange(s: StoreState, from: string, to: string): { start: string; end: string } | null {
  if (!s.first || !s.last) return { start: from, end: to };
  const stale = s.stale && s.stale <= s.last ? (s.stale < s.first ? s.first : s.stale) : null;
  const tail = stale ?? (to > s.last ? nextDay(s.last) : null);
  const end = to > s.last ? to : s.last;
  if (from < s.first) return { start: from, end: tail ? end : previousBusinessDay(s.first) };
  return tail ? { start: tail, end } : null;
}

/**
 * Brings a benchmark's stored sums up to date for from..to: one transaction with the
 * benchmark row locked (a second reader waits and then finds them current), recorded in
 * calculation_runs. Returns what it built, or null when they were current.
 */
export function refreshBenchmarkSums(db: Db, benchmarkId: string, from: string, to: string, requestId?: string): Promise<{ from: string; to: string; days: number } | null> {
  // The store is everyone's (benchmark-level market data, its run owned by no portfolio),
  // whichever reader's request found it stale: a step for the system, as NAV-series rebuilds are.
  return asSystem(() => rebuild(db, benchmarkId, from, to, requestId));
}

async function rebuild(db: Db, benchmarkId: string, from: string, to: string, requestId?: string): Promise<{ from: string; to: string; days: number } | null> {
  const outside = await storeState(db, benchmarkId, false);
  if (!outside || !rebuildRange(outside, from, to)) return null;
  const started = Date.now();
  return db.$transaction(
    async (tx) => {
      const s = (await storeState(tx, benchmarkId, true))!;
      const range = rebuildRange(s, from, to);
      const days = range ? businessDays(range.start, range.end) : [];
      if (!days.length) return null;
      const grid = [previousBusinessDay(days[0]!), ...days];
      // As loadBenchmarkSums: hash the constituent-days in memory, and no JIT.
      await tx.$queryRaw`SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`;
      await tx.$executeRaw`DELETE FROM benchmark_daily_sums WHERE benchmark_id = ${benchmarkId}::uuid AND asof_date >= ${days[0]!}::date AND asof_date <= ${days.at(-1)!}::date`;
      // Per part and grid day: the sum of the constituents' returns, and how many had their
      // first close that day (a running total of it is started).
      const rows = await tx.$executeRaw`
        WITH c AS (
          SELECT k.security_id AS sid, k.weight AS w, s.sector, s.asset_class, s.country, s.currency,
                 dense_rank() OVER (ORDER BY s.sector, s.asset_class, s.country, s.currency)::int AS part
          FROM benchmark_constituents k JOIN securities s ON s.id = k.security_id
          WHERE k.benchmark_id = ${benchmarkId}::uuid
        ), e AS (
          SELECT c.part, r.j,
                 sum(c.w * ((r.close - r.prev)::numeric(1000, 44) / r.prev)) FILTER (WHERE r.j >= 1 AND r.close <> r.prev AND r.prev <> 0) AS a,
                 count(*) FILTER (WHERE r.prev IS NULL) AS starts
          FROM c CROSS JOIN LATERAL (${keptCloses(grid)}) r
          GROUP BY c.part, r.j
        ), x AS (
          SELECT p.part, p.sector, p.asset_class, p.country, p.currency, g.day, g.n, e.a,
                 sum(COALESCE(e.starts, 0)) OVER (PARTITION BY p.part ORDER BY g.n) AS started
          FROM (SELECT DISTINCT part, sector, asset_class, country, currency FROM c) p
          CROSS JOIN unnest(${grid}::date[]) WITH ORDINALITY AS g(day, n)
          LEFT JOIN e ON e.part = p.part AND e.j = g.n - 1
        )
        INSERT INTO benchmark_daily_sums (benchmark_id, asof_date, part, sector, asset_class, country, currency, ret_sum, started)
        SELECT ${benchmarkId}::uuid, day, part, sector, asset_class, country, currency, a, started::int FROM x WHERE n > 1`;
      await tx.$executeRaw`UPDATE benchmarks SET sums_stale_from = NULL WHERE id = ${benchmarkId}::uuid`;
      const run = { from: days[0]!, to: days.at(-1)!, days: days.length };
      await tx.calculationRun.create({
        data: {
          kind: 'benchmark_sums',
          status: 'succeeded',
          params: { benchmarkId, from: run.from, to: run.to, staleFrom: s.stale, requestId: requestId ?? null },
          result: { days: run.days, rows },
          startedAt: new Date(started),
          finishedAt: new Date(),
          durationMs: Date.now() - started,
        },
      });
      return run;
    },
    { maxWait: 10_000, timeout: 120_000 },
  );
}

/** The SQL group key of a stored part: groupOf's, from the part's columns. */
function groupKey(groupBy: GroupBy | null): Prisma.Sql {
  switch (groupBy) {
    case 'SECTOR':
      return Prisma.sql`COALESCE(sector, ${UNCLASSIFIED_GROUP})`;
    case 'ASSET_CLASS':
      return Prisma.sql`COALESCE(asset_class, ${UNCLASSIFIED_GROUP})`;
    case 'COUNTRY':
      return Prisma.sql`COALESCE(country::text, ${UNCLASSIFIED_GROUP})`;
    case 'CURRENCY':
      return Prisma.sql`currency::text`;
    case null:
      return Prisma.sql`'ALL'`;
  }
}

/**
 * loadBenchmarkSums' result for `days` (consecutive business days) from the store, brought up
 * to date first: one indexed range read of (days × parts) rows summed per (day, group,
 * currency). `constituents` is the benchmark's current count (for `complete`).
 */
export async function storedBenchmarkSums(db: Db, benchmarkId: string, constituents: number, groupBy: GroupBy | null, days: readonly string[], requestId?: string): Promise<BenchmarkSums> {
  const from = days[0]!;
  const to = days.at(-1)!;
  await refreshBenchmarkSums(db, benchmarkId, from, to, requestId);
  const key = groupKey(groupBy);
  const rows = await db.$queryRaw<{ d: string; g: string; ccy: string; a: string | null; started: number }[]>`
    SELECT to_char(asof_date, 'YYYY-MM-DD') AS d, ${key} AS g, currency::text AS ccy, sum(ret_sum)::text AS a, sum(started)::int AS started
    FROM benchmark_daily_sums WHERE benchmark_id = ${benchmarkId}::uuid AND asof_date >= ${from}::date AND asof_date <= ${to}::date
    GROUP BY 1, 2, 3`;
  const index = new Map(days.map((d, i) => [d, i]));
  const seen = new Set<number>();
  const out: BenchmarkSums['rows'] = [];
  let started = 0;
  for (const r of rows) {
    const j = index.get(r.d)!;
    seen.add(j);
    if (j === 0) started += r.started;
    if (j >= 1 && r.a !== null) out.push({ day: j, group: r.g, currency: r.ccy, sum: new D(r.a) });
  }
  return { rows: out, complete: seen.size === days.length && started === constituents };
}

/** True when `days` are consecutive business days (the store's grid), as a NAV series' are. */
export function onBusinessDayGrid(days: readonly string[]): boolean {
  if (!days.length) return false;
  const all = businessDays(days[0]!, days.at(-1)!);
  return all.length === days.length && all.every((d, i) => d === days[i]);
}

/**
 * Late daily bars: the benchmarks holding the security, with stored sums on or after the
 * bar's date, become stale from it (called where NAV series are marked stale for the same bars).
 */
export async function markBenchmarkSumsStaleForBars(tx: Tx | Db, securityIds: readonly string[], dates: readonly string[]): Promise<void> {
  await tx.$executeRaw`
    UPDATE benchmarks b SET sums_stale_from = LEAST(COALESCE(b.sums_stale_from, s.d), s.d)
    FROM (
      SELECT k.benchmark_id, min(u.d) AS d
      FROM unnest(${securityIds}::uuid[], ${dates}::date[]) AS u(security_id, d)
      JOIN benchmark_constituents k ON k.security_id = u.security_id
      GROUP BY k.benchmark_id
    ) s
    WHERE b.id = s.benchmark_id
      AND EXISTS (SELECT 1 FROM benchmark_daily_sums v WHERE v.benchmark_id = b.id AND v.asof_date >= s.d)`;
}

/**
 * Everything stored becomes stale (from its first day): the benchmark's constituents or
 * weights changed, or a constituent's sector, asset class, country or currency did.
 */
export async function markBenchmarkSumsStale(tx: Tx | Db, by: { benchmarkId: string } | { securityId: string }): Promise<void> {
  const which = 'benchmarkId' in by ? Prisma.sql`v.benchmark_id = ${by.benchmarkId}::uuid` : Prisma.sql`v.benchmark_id IN (SELECT benchmark_id FROM benchmark_constituents WHERE security_id = ${by.securityId}::uuid)`;
  await tx.$executeRaw`
    UPDATE benchmarks b SET sums_stale_from = s.first
    FROM (SELECT v.benchmark_id, min(v.asof_date) AS first FROM benchmark_daily_sums v WHERE ${which} GROUP BY v.benchmark_id) s
    WHERE b.id = s.benchmark_id`;
}
