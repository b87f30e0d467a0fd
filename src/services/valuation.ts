import type { Portfolio } from '../generated/prisma/client';
import { D, keepText } from '../domain/decimal';
import { DomainError } from '../domain/errors';
import { assertIsoDate, toEpochDay } from '../domain/dates';
import { valuePortfolio, type CashInput, type PositionInput, type ValuationResult } from '../domain/valuation';
import { exposureOf, type ExposureResult } from '../domain/exposure';
import {
  businessDayOnOrBefore,
  businessDays,
  buildNavSeries,
  fromEpochDay,
  replayThrough,
  type LedgerEntry,
  type NavPointValue,
} from '../domain/nav-series';
import type { EventBus } from '../events/bus';
import type { Db, Tx } from './db';
import type { ServiceContext } from './context';
import { getReadablePortfolio } from './access';
import { loadFxTable } from './market-data';
import { loadCloseUnits, loadFxRange, loadLedger } from './analytics-data';
import { badInput } from './validate';
import { asSystem } from '../db/principal';

/*
 * Valuation, exposure and the daily NAV series. Reads batch over many portfolios (the
 * GraphQL DataLoader hands them in together), so listing N portfolios with their valuation
 * costs a fixed number of queries, not N times as many.
 */

export interface ValuationOptions {
  /** A price older than this many calendar days before the valuation date is STALE. */
  stalePriceDays?: number;
  /** The clock, for tests. */
  today?: () => string;
  /**
   * How long a valuation "now" may be served from memory at most (0: never cached). Events on
   * the bus drop it at once; this bounds what no event reaches (files imported and writes made
   * by another process without a shared bus, or while Redis was down).
   */
  cacheTtlMs?: number;
}

/** A valuation now of one portfolio, kept until an event or the TTL says otherwise. */
interface CachedValuation {
  result: ValuationResult;
  baseCurrency: string;
  date: string;
  securityIds: ReadonlySet<string>;
  expires: number;
}

const today = () => new Date().toISOString().slice(0, 10);

/** A cached valuation is serialized by every request it serves: its Decimals' text is made once. */
function keepTexts(result: ValuationResult): void {
  const keep = (o: object) => {
    for (const v of Object.values(o)) if (D.isDecimal(v)) keepText(v);
  };
  keep(result);
  result.holdings.forEach(keep);
  result.cash.forEach(keep);
}
const iso = (d: Date) => d.toISOString().slice(0, 10);
const dec = (v: { toFixed(): string } | string) => new D(typeof v === 'string' ? v : v.toFixed());

interface SecurityRow {
  security_id: string;
  symbol: string;
  name: string;
  currency: string;
  sector: string | null;
  asset_class: string | null;
  country: string | null;
}

export class ValuationService {
  private readonly staleDays: number;
  private readonly today: () => string;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    options: ValuationOptions = {},
  ) {
    // The server passes STALE_PRICE_DAYS; 5 is its documented default.
    this.staleDays = options.stalePriceDays ?? 5;
    this.today = options.today ?? today;
    this.cacheTtlMs = options.cacheTtlMs ?? 5000;
    // Published after each commit: what changed drops the cached valuations it reaches.
    bus.subscribe('trade.booked', (e) => this.forget((id) => id === e.portfolioId));
    bus.subscribe('cash.moved', (e) => this.forget((id) => id === e.portfolioId));
    bus.subscribe('prices.ingested', (e) => {
      const ids = new Set(e.prices.map((p) => p.securityId));
      this.forget((_id, c) => [...ids].some((s) => c.securityIds.has(s)));
    });
    bus.subscribe('fx.ingested', () => this.forget(() => true));
    bus.subscribe('events.missed', () => this.forget(() => true));
    bus.subscribe('security.changed', (e) => this.forget((_id, c) => c.securityIds.has(e.securityId)));
  }

  private readonly cacheTtlMs: number;
  private readonly cache = new Map<string, CachedValuation>();
  /** Counts invalidations: a valuation read while one happened is not kept (it may predate it). */
  private epoch = 0;

  private forget(match: (portfolioId: string, c: CachedValuation) => boolean): void {
    this.epoch++;
    for (const [id, c] of this.cache) if (match(id, c)) this.cache.delete(id);
  }

  async valuation(ctx: ServiceContext, portfolioId: string, asOf?: string | null): Promise<ValuationResult> {
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    return (await this.valueMany([portfolio], asOf))[0]!;
  }

  async exposure(ctx: ServiceContext, portfolioId: string, asOf?: string | null): Promise<ExposureResult> {
    return exposureOf(await this.valuation(ctx, portfolioId, asOf));
  }

  /**
   * Values portfolios the caller has already been allowed to read (the resolver received
   * them from an access-checked query). `asOf` omitted: open lots, cash balances and the
   * latest quotes; a date: positions and cash replayed from the ledger through that day,
   * at the last daily close or tick on or before it.
   */
  async valueMany(portfolios: readonly Portfolio[], asOf?: string | null): Promise<ValuationResult[]> {
    if (!portfolios.length) return [];
    if (asOf != null) {
      assertIsoDate(asOf, 'asOf');
      if (toEpochDay(asOf) > toEpochDay(this.today()) + 1) throw badInput(`asOf ${asOf} is in the future`);
    }
    if (asOf == null && this.cacheTtlMs > 0) return this.valueNowCached(portfolios);
    return this.compute(portfolios, asOf);
  }

  /** valueMany(now) through the cache: only the portfolios without a current entry are read. */
  private async valueNowCached(portfolios: readonly Portfolio[]): Promise<ValuationResult[]> {
    const date = this.today();
    const now = Date.now();
    const instant = new Date(now);
    // Nothing changed since these were computed: the same values, as of this instant.
    const out: (ValuationResult | undefined)[] = portfolios.map((p) => {
      const c = this.cache.get(p.id);
      return c && c.expires > now && c.date === date && c.baseCurrency === p.baseCurrency ? { ...c.result, asOf: instant } : undefined;
    });
    const missing = portfolios.filter((_p, i) => !out[i]);
    if (!missing.length) return out as ValuationResult[];
    const epoch = this.epoch;
    const fresh = await this.compute(missing, null);
    // Kept only when no event arrived while it was read: it might predate that change.
    if (epoch === this.epoch) {
      for (const [id, c] of this.cache) if (c.expires <= now) this.cache.delete(id);
      missing.forEach((p, i) => {
        const result = fresh[i]!;
        keepTexts(result);
        this.cache.set(p.id, { result, baseCurrency: p.baseCurrency, date, securityIds: new Set(result.holdings.map((h) => h.securityId)), expires: now + this.cacheTtlMs });
      });
    }
    let k = 0;
    return out.map((r) => r ?? fresh[k++]!);
  }

  private async compute(portfolios: readonly Portfolio[], asOf: string | null | undefined): Promise<ValuationResult[]> {
    const ids = portfolios.map((p) => p.id);
    const date = asOf ?? this.today();
    const { positions, cash } = asOf == null ? await this.current(ids) : { positions: await this.positionsAt(ids, asOf), cash: await this.cashAt(ids, asOf) };
    const currencies = new Set<string>(portfolios.map((p) => p.baseCurrency));
    for (const list of positions.values()) for (const p of list) currencies.add(p.currency);
    for (const list of cash.values()) for (const c of list) currencies.add(c.currency);
    const fx = await loadFxTable(this.db, currencies, date);
    const instant = asOf == null ? new Date() : new Date(`${asOf}T23:59:59.999Z`);
    return portfolios.map((p) =>
      valuePortfolio({
        baseCurrency: p.baseCurrency,
        date,
        asOf: instant,
        positions: positions.get(p.id) ?? [],
        cash: cash.get(p.id) ?? [],
        fx,
        staleDays: this.staleDays,
      }),
    );
  }

  /**
   * Open lots summed per security with the latest quote, and cash balances: two queries for
   * all portfolios, sent together. (Measured alternatives: one row of json_agg was slower to
   * build in PostgreSQL than the 1,000 plain rows are to decode; to_char on the quote's
   * instant cost more than a cast to date.)
   */
  private async current(ids: string[]): Promise<{ positions: Map<string, PositionInput[]>; cash: Map<string, CashInput[]> }> {
    const [rows, cashRows] = await Promise.all([
      this.db.$queryRaw<(SecurityRow & { portfolio_id: string; qty: string; cost: string; price: string | null; price_date: string | null })[]>`
        SELECT x.portfolio_id, x.security_id, s.symbol, s.name, s.currency, s.sector, s.asset_class, s.country,
               x.qty::text AS qty, x.cost::text AS cost, q.price::text AS price, (q.ts AT TIME ZONE 'UTC')::date::text AS price_date
        FROM (SELECT portfolio_id, security_id, sum(qty_open) AS qty, sum(cost_basis) AS cost FROM lots
              WHERE portfolio_id = ANY(${ids}::uuid[]) AND qty_open <> 0 GROUP BY portfolio_id, security_id) x
        JOIN securities s ON s.id = x.security_id
        LEFT JOIN quotes q ON q.security_id = x.security_id`,
      this.db.$queryRaw<{ portfolio_id: string; currency: string; balance: string }[]>`
        SELECT portfolio_id, currency, balance::text AS balance FROM cash_balances WHERE portfolio_id = ANY(${ids}::uuid[]) AND balance <> 0`,
    ]);
    const positions = new Map<string, PositionInput[]>();
    for (const r of rows) {
      let list = positions.get(r.portfolio_id);
      if (!list) positions.set(r.portfolio_id, (list = []));
      list.push({
        securityId: r.security_id,
        symbol: r.symbol,
        name: r.name,
        currency: r.currency,
        sector: r.sector,
        assetClass: r.asset_class,
        country: r.country,
        quantity: new D(r.qty),
        costBasis: new D(r.cost),
        price: r.price != null && r.price_date != null ? { value: new D(r.price), date: r.price_date } : null,
      });
    }
    return { positions, cash: group(cashRows, (r) => ({ currency: r.currency, balance: new D(r.balance) })) };
  }

  /**
   * Positions held at the end of `date`: quantities replayed from the transactions (splits
   * included); cost of the lots opened by then, plus what later sells relieved from them.
   */
  private async positionsAt(ids: string[], date: string): Promise<Map<string, PositionInput[]>> {
    const txs = await this.db.$queryRaw<{ portfolio_id: string; security_id: string; type: LedgerEntry['type']; quantity: string | null; split_ratio: string | null; trade_date: string }[]>`
      SELECT portfolio_id, security_id, type::text AS type, quantity::text AS quantity, split_ratio::text AS split_ratio, to_char(trade_date, 'YYYY-MM-DD') AS trade_date
      FROM transactions
      WHERE portfolio_id = ANY(${ids}::uuid[]) AND security_id IS NOT NULL AND type IN ('BUY', 'SELL', 'SPLIT') AND trade_date <= ${date}::date
      ORDER BY portfolio_id, trade_date, created_at, id`;
    const costs = await this.db.$queryRaw<{ portfolio_id: string; security_id: string; cost: string }[]>`
      SELECT l.portfolio_id, l.security_id,
             sum(l.cost_basis + COALESCE((SELECT sum(g.cost) FROM realized_gains g WHERE g.lot_id = l.id AND g.sold_on > ${date}::date), 0))::text AS cost
      FROM lots l
      WHERE l.portfolio_id = ANY(${ids}::uuid[]) AND l.acquired_on <= ${date}::date
      GROUP BY l.portfolio_id, l.security_id`;
    const byPortfolio = new Map<string, LedgerEntry[]>();
    for (const t of txs) {
      const list = byPortfolio.get(t.portfolio_id) ?? [];
      list.push({
        date: t.trade_date,
        type: t.type,
        securityId: t.security_id,
        quantity: t.quantity ? dec(t.quantity) : null,
        price: null,
        amount: new D(0),
        currency: '',
        splitRatio: t.split_ratio ? dec(t.split_ratio) : null,
      });
      byPortfolio.set(t.portfolio_id, list);
    }
    const held = new Map<string, Map<string, D>>();
    const securityIds = new Set<string>();
    for (const [pid, entries] of byPortfolio) {
      const q = new Map([...replayThrough(entries, date).quantity].filter(([, v]) => !v.isZero()));
      held.set(pid, q);
      for (const s of q.keys()) securityIds.add(s);
    }
    if (!securityIds.size) return new Map();
    const sids = [...securityIds];
    const secRows = await this.db.$queryRaw<(SecurityRow & { price: string | null; price_date: string | null })[]>`
      SELECT s.id AS security_id, s.symbol, s.name, s.currency, s.sector, s.asset_class, s.country, p.price, p.price_date
      FROM securities s
      LEFT JOIN LATERAL (
        SELECT close::text AS price, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS price_date, ts FROM (
          (SELECT close, ts FROM price_bars WHERE security_id = s.id AND timeframe = '1d' AND ts <= ${date}::date ORDER BY ts DESC LIMIT 1)
          UNION ALL
          (SELECT close, ts FROM price_bars WHERE security_id = s.id AND timeframe = 'tick' AND ts < ${date}::date + 1 ORDER BY ts DESC LIMIT 1)
        ) b ORDER BY ts DESC LIMIT 1
      ) p ON true
      WHERE s.id = ANY(${sids}::uuid[])`;
    const secById = new Map(secRows.map((s) => [s.security_id, s]));
    const costBy = new Map(costs.map((c) => [`${c.portfolio_id}/${c.security_id}`, dec(c.cost)]));
    const out = new Map<string, PositionInput[]>();
    for (const [pid, q] of held) {
      out.set(
        pid,
        [...q].map(([sid, quantity]) => {
          const s = secById.get(sid)!;
          return { ...security(s), quantity, costBasis: costBy.get(`${pid}/${sid}`) ?? new D(0), price: s.price && s.price_date ? { value: dec(s.price), date: s.price_date } : null };
        }),
      );
    }
    return out;
  }

  private async cashAt(ids: string[], date: string): Promise<Map<string, { currency: string; balance: D }[]>> {
    const rows = await this.db.$queryRaw<{ portfolio_id: string; currency: string; balance: string }[]>`
      SELECT portfolio_id, currency, sum(amount)::text AS balance FROM transactions
      WHERE portfolio_id = ANY(${ids}::uuid[]) AND trade_date <= ${date}::date
      GROUP BY portfolio_id, currency HAVING sum(amount) <> 0`;
    return group(rows, (r) => ({ currency: r.currency, balance: dec(r.balance) }));
  }

  // ------------------------------------------------------------------ daily NAV series

  /** The stored series between `from` and `to`, brought up to date first when stale or short. */
  async navHistory(ctx: ServiceContext, portfolioId: string, from: string, to: string): Promise<NavPointValue[]> {
    assertIsoDate(from, 'from');
    assertIsoDate(to, 'to');
    if (from > to) throw badInput(`from ${from} is after to ${to}`);
    if (toEpochDay(to) - toEpochDay(from) > 366 * 50) throw badInput('navHistory spans at most 50 years');
    const portfolio = await getReadablePortfolio(this.db, ctx, portfolioId);
    await this.refreshNavSeries(portfolio.id, { requestId: ctx.meta.requestId });
    const rows = await this.db.portfolioDailyValue.findMany({
      where: { portfolioId: portfolio.id, asofDate: { gte: new Date(`${from}T00:00:00Z`), lte: new Date(`${to}T00:00:00Z`) } },
      orderBy: { asofDate: 'asc' },
    });
    return rows.map((r) => ({ date: iso(r.asofDate), nav: dec(r.nav), cash: dec(r.cash), positionsValue: dec(r.positionsValue), netFlow: dec(r.netFlow), complete: r.complete }));
  }

  /**
   * Brings the stored series up to the last business day on or before today: from
   * nav_stale_from when the ledger or a late price changed the past, else from the day
   * after the last stored value, else from the first transaction. One transaction with the
   * portfolio row locked (bookings wait for it, as they lock it too), recorded in
   * calculation_runs. Returns what it did, or null when the series was current. The stored
   * series is derived data kept for every reader alike: it is rebuilt in the system context,
   * after the caller's own access check (a VIEWER's read may be what finds it stale).
   */
  refreshNavSeries(portfolioId: string, opts: { full?: boolean; requestId?: string } = {}): Promise<{ from: string; to: string; days: number; ms: number } | null> {
    return asSystem(() => this.rebuildNavSeries(portfolioId, opts));
  }

  private async rebuildNavSeries(portfolioId: string, opts: { full?: boolean; requestId?: string }): Promise<{ from: string; to: string; days: number; ms: number } | null> {
    const started = Date.now();
    const end = businessDayOnOrBefore(this.today());
    // A cheap check first, outside any lock: most reads find the series current.
    if (!opts.full) {
      const [state] = await this.db.$queryRaw<{ stale: string | null; last: string | null }[]>`
        SELECT to_char(p.nav_stale_from, 'YYYY-MM-DD') AS stale,
               (SELECT to_char(max(asof_date), 'YYYY-MM-DD') FROM portfolio_daily_values v WHERE v.portfolio_id = p.id) AS last
        FROM portfolios p WHERE p.id = ${portfolioId}::uuid`;
      if (state && !state.stale && state.last && state.last >= end) return null;
    }
    const result = await this.db.$transaction(
      async (tx) => {
        const [p] = await tx.$queryRaw<{ base: string; stale: string | null; last: string | null; first: string | null }[]>`
          SELECT p.base_currency AS base, to_char(p.nav_stale_from, 'YYYY-MM-DD') AS stale,
                 (SELECT to_char(max(asof_date), 'YYYY-MM-DD') FROM portfolio_daily_values v WHERE v.portfolio_id = p.id) AS last,
                 (SELECT to_char(min(trade_date), 'YYYY-MM-DD') FROM transactions t WHERE t.portfolio_id = p.id) AS first
          FROM portfolios p WHERE p.id = ${portfolioId}::uuid FOR UPDATE`;
        if (!p) throw new DomainError('NOT_FOUND', `portfolio ${portfolioId} not found`);
        if (!p.first) {
          await tx.$executeRaw`UPDATE portfolios SET nav_stale_from = NULL WHERE id = ${portfolioId}::uuid`;
          return null;
        }
        let from: string;
        if (opts.full || !p.last) from = p.first;
        else if (p.stale) from = p.stale < p.first ? p.first : p.stale;
        else from = fromEpochDay(toEpochDay(p.last) + 1);
        const days = businessDays(from, end);
        if (!days.length) {
          await tx.$executeRaw`UPDATE portfolios SET nav_stale_from = NULL WHERE id = ${portfolioId}::uuid`;
          return null;
        }
        const points = await computeSeries(tx, portfolioId, p.base, days);
        await tx.$executeRaw`DELETE FROM portfolio_daily_values WHERE portfolio_id = ${portfolioId}::uuid AND asof_date >= ${days[0]!}::date`;
        const CHUNK = 5000;
        for (let i = 0; i < points.length; i += CHUNK) {
          const c = points.slice(i, i + CHUNK);
          await tx.$executeRaw`
            INSERT INTO portfolio_daily_values (portfolio_id, asof_date, nav, cash, positions_value, net_flow, complete)
            SELECT ${portfolioId}::uuid, * FROM unnest(${c.map((x) => x.date)}::date[], ${c.map((x) => x.nav.toFixed())}::numeric[], ${c.map((x) => x.cash.toFixed())}::numeric[],
              ${c.map((x) => x.positionsValue.toFixed())}::numeric[], ${c.map((x) => x.netFlow.toFixed())}::numeric[], ${c.map((x) => x.complete)}::boolean[])`;
        }
        await tx.$executeRaw`UPDATE portfolios SET nav_stale_from = NULL WHERE id = ${portfolioId}::uuid`;
        const run = { from: days[0]!, to: days.at(-1)!, days: days.length, ms: Date.now() - started };
        await tx.calculationRun.create({
          data: {
            kind: 'nav_series',
            portfolioId,
            status: 'succeeded',
            params: { from: run.from, to: run.to, full: !!opts.full, staleFrom: p.stale, requestId: opts.requestId ?? null },
            result: { days: run.days, incomplete: points.filter((x) => !x.complete).length },
            startedAt: new Date(started),
            finishedAt: new Date(),
            durationMs: Date.now() - started,
          },
        });
        return run;
      },
      { maxWait: 10_000, timeout: 120_000 },
    );
    return result;
  }
}

/** Loads the ledger, closes and FX rates a rebuild of `days` needs, and builds the series. */
export async function computeSeries(tx: Tx | Db, portfolioId: string, base: string, days: string[]): Promise<NavPointValue[]> {
  const from = days[0]!;
  const to = days.at(-1)!;
  const entries = await loadLedger(tx, portfolioId, to);
  const sids = [...new Set(entries.map((e) => e.securityId).filter((s): s is string => !!s))];
  const secs = sids.length ? await tx.$queryRaw<{ id: string; currency: string }[]>`SELECT id, currency FROM securities WHERE id = ANY(${sids}::uuid[])` : [];
  const prices = await loadCloseUnits(tx, sids, from, to);
  const fx = await loadFxRange(tx, [base, ...entries.map((e) => e.currency), ...secs.map((s) => s.currency)], from, to);
  return buildNavSeries({ baseCurrency: base, entries, securityCurrency: new Map(secs.map((s) => [s.id, s.currency])), prices, fx, days });
}

function security(r: SecurityRow) {
  return { securityId: r.security_id, symbol: r.symbol, name: r.name, currency: r.currency, sector: r.sector, assetClass: r.asset_class, country: r.country };
}

function group<R extends { portfolio_id: string }, T>(rows: R[], map: (r: R) => T): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.portfolio_id) ?? [];
    list.push(map(r));
    out.set(r.portfolio_id, list);
  }
  return out;
}

