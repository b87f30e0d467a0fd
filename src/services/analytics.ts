import type { Portfolio } from '../generated/prisma/client';
import { D, ZERO, ONE, dec, sum } from '../domain/decimal';
import { DomainError } from '../domain/errors';
import { assertIsoDate, daysBetween, toEpochDay } from '../domain/dates';
import { businessDayOnOrBefore, businessDays, fromEpochDay, LedgerReplay, replayOrder } from '../domain/nav-series';
import {
  benchmarkGroupReturns,
  benchmarkGroupReturnsFromSums,
  constantHoldingsSeries,
  cumulativeSeries,
  currencyAttribution,
  dailyReturns,
  dailyAttribution,
  growthIndex,
  groupOf,
  CASH_GROUP,
  legsFromValues,
  annualize,
  isLongerThanOneYear,
  modifiedDietz,
  moneyWeighted,
  portfolioDays,
  riskReport,
  slicePeriod,
  stressTest,
  trailingReturns,
  twr,
  type BenchmarkDay,
  type DailyReturn,
  type GroupBy,
  type NavPoint,
  type Shock,
  type ShockKind,
  type ShockTarget,
  type StressPosition,
} from '../domain/analytics';
import { valuePortfolio, type PositionInput } from '../domain/valuation';
import { exposureOf } from '../domain/exposure';
import { loadConfig } from '../config';
import type { EventBus } from '../events/bus';
import type { Db } from './db';
import { isUniqueViolation } from './db';
import type { ServiceContext } from './context';
import { getReadablePortfolio, getWritablePortfolio, requireActor } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { loadFxTable } from './market-data';
import { badInput, currencyCode, symbol as validSymbol, text } from './validate';
import type { ValuationService } from './valuation';
import { AnalyticsCache } from './analytics-cache';
import { onBusinessDayGrid, storedBenchmarkSums } from './benchmark-sums';
import { loadBenchmark, loadBenchmarkSums, loadCloseUnits, loadCloses, loadFxRange, loadLedger, loadNavPoints, loadSecurities, type BenchmarkSums, type LoadedBenchmark } from './analytics-data';
import type { FxTable } from '../domain/fx';
import type { PriceSeries } from '../domain/nav-series';

/*
 * Performance, risk, attribution, currency attribution, stress tests and what-if. Each method
 * checks access, loads what it needs in a few set-based queries, and hands plain data to
 * src/domain/analytics. Results are cached per (portfolio, arguments, day) and dropped by the
 * events that change them (analytics-cache.ts); computations slower than RUN_LOG_MS are
 * recorded in calculation_runs.
 */

const RUN_LOG_MS = 5;
const today = () => new Date().toISOString().slice(0, 10);

export interface ShockArg {
  target: ShockTarget;
  key?: string | null;
  kind?: ShockKind | null;
  value: D;
}

export interface WhatIfTradeArg {
  symbol: string;
  side: 'BUY' | 'SELL';
  quantity: D;
  price?: D | null;
  fee?: D | null;
}

type BenchmarkConstituents = (LoadedBenchmark['constituents'][number] & { group: string | undefined })[];
type BenchmarkData = { constituents: BenchmarkConstituents; sums: BenchmarkSums; closes: Map<string, PriceSeries> | null };

interface NavData {
  /** Inception..to. */
  points: NavPoint[];
  /** dailyReturns(points), computed on first use. */
  daily: () => DailyReturn[];
  /** growthIndex(daily()), computed on first use. */
  growth: () => D[];
}

function checkRange(from: string, to: string): void {
  assertIsoDate(from, 'from');
  assertIsoDate(to, 'to');
  if (from > to) throw badInput(`from ${from} is after to ${to}`);
}

export class AnalyticsService {
  readonly cache: AnalyticsCache;

  constructor(
    private readonly db: Db,
    bus: EventBus,
    private readonly valuation: ValuationService,
  ) {
    this.cache = new AnalyticsCache(bus);
  }

  /** Cached computation, recorded in calculation_runs when it took more than a few ms. */
  private async run<T>(kind: string, portfolioId: string, args: unknown[], ctx: ServiceContext, work: () => Promise<T>, since = this.cache.epoch): Promise<T> {
    const key = this.cache.key(kind, portfolioId, args);
    const hit = this.cache.get<T>(key);
    if (hit !== undefined) return hit;
    const started = Date.now();
    const value = await work();
    const ms = Date.now() - started;
    this.cache.set(key, portfolioId, value, since);
    if (ms > RUN_LOG_MS) {
      await this.db.calculationRun.create({
        data: { kind: `analytics.${kind}`, portfolioId, status: 'succeeded', params: { args: args.map((a) => (a == null ? null : String(a))), requestId: ctx.meta.requestId }, result: { ms }, startedAt: new Date(started), finishedAt: new Date(), durationMs: ms },
      });
    }
    return value;
  }

  /** The NAV series from inception up to `to`, brought up to date first. */
  private async navPoints(portfolioId: string, to: string, ctx: ServiceContext): Promise<NavPoint[]> {
    return (await this.navData(portfolioId, to, ctx)).points;
  }

  /**
   * The NAV series with its daily returns, computed once on first use. Shared by the
   * analytics of one portfolio (performance and risk asked together load it and divide
   * once); dropped with the portfolio's other cached results.
   */
  private navData(portfolioId: string, to: string, ctx: ServiceContext): Promise<NavData> {
    const key = this.cache.key('nav', portfolioId, [to]);
    const hit = this.cache.get<Promise<NavData>>(key);
    if (hit) return hit;
    const loading = this.valuation
      .refreshNavSeries(portfolioId, { requestId: ctx.meta.requestId })
      .then(() => loadNavPoints(this.db, portfolioId, to))
      .then((points): NavData => {
        let daily: DailyReturn[] | null = null;
        let growth: D[] | null = null;
        const dailyOnce = () => (daily ??= dailyReturns(points));
        return { points, daily: dailyOnce, growth: () => (growth ??= growthIndex(dailyOnce())) };
      });
    this.cache.set(key, portfolioId, loading);
    loading.catch(() => this.cache.dropPortfolio(portfolioId));
    return loading;
  }

  private async benchmarkOrFail(code: string): Promise<LoadedBenchmark> {
    const b = await loadBenchmark(this.db, code);
    if (!b) throw badInput(`unknown benchmark "${code}"`);
    if (!b.constituents.length) throw badInput(`benchmark ${b.code} has no constituents`);
    return b;
  }

  /**
   * Starts loading what the benchmark's daily total and per-group returns over `days` come
   * from, so that the database works while Node computes the portfolio's side: the
   * constituents' price returns summed per (day, group, currency) — read from the benchmark's
   * stored daily sums (benchmark-sums.ts) on a NAV series' business days, else aggregated in
   * the database for this request. When a constituent lacks a starting close or has a zero
   * close, its constituents' closes instead, for the per-constituent path's BAD_USER_INPUT
   * naming it.
   */
  private loadBenchmarkData(bench: LoadedBenchmark, groupBy: GroupBy | null, days: string[], requestId: string): Promise<BenchmarkData> {
    const constituents: BenchmarkConstituents = bench.constituents.map((c) => ({ ...c, group: groupBy ? groupOf(groupBy, c) : undefined }));
    const sums = onBusinessDayGrid(days) ? storedBenchmarkSums(this.db, bench.id, constituents.length, groupBy, days, requestId) : loadBenchmarkSums(this.db, constituents, days);
    const data = sums.then(async (s) => ({ constituents, sums: s, closes: s.complete ? null : await loadCloses(this.db, constituents.map((c) => c.securityId), days[0]!, days.at(-1)!) }));
    data.catch(() => undefined); // awaited (and thrown) by the caller
    return data;
  }

  /** The benchmark's daily returns from loadBenchmarkData's; FX applied by the domain (`fx` must hold the benchmark's and its constituents' currencies). */
  private benchmarkDays(bench: LoadedBenchmark, data: BenchmarkData, fx: FxTable, days: string[]): BenchmarkDay[] {
    const { constituents, sums, closes } = data;
    if (closes) return benchmarkGroupReturns({ currency: bench.currency, constituents, prices: closes, fx, days });
    return benchmarkGroupReturnsFromSums({ currency: bench.currency, constituents, fx, days, sums: sums.rows });
  }

  // ------------------------------------------------------------------ performance

  async performance(ctx: ServiceContext, portfolioId: string, from: string, to: string) {
    checkRange(from, to);
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    return this.run('performance', p.id, [from, to], ctx, async () => {
      const nav = await this.navData(p.id, to, ctx);
      const all = nav.points;
      const points = slicePeriod(all, from, to);
      const start = points[0]!;
      const end = points[points.length - 1]!;
      // One pass of daily returns over inception..to (shared with risk): the period's
      // cumulative TWR is the ratio of growth indices (G_t / G_from − 1), the same linking as
      // twr()/cumulativeSeries().
      const startIdx = all.indexOf(start);
      const endIdx = startIdx + points.length - 1;
      const upTo = all.slice(0, endIdx + 1);
      const itd = cumulativeSeries(upTo, nav.daily().slice(0, endIdx), nav.growth().slice(0, endIdx + 1));
      const inv = ONE.div(ONE.plus(itd[startIdx]!.cumulative));
      const cumulative = itd.slice(startIdx).map((c) => ({ date: c.date, cumulative: startIdx === 0 ? c.cumulative : ONE.plus(c.cumulative).times(inv).minus(ONE) }));
      const cumulativeTwr = cumulative[cumulative.length - 1]!.cumulative;
      const days = daysBetween(start.date, end.date);
      const irr = moneyWeighted(points);
      return {
        from: start.date,
        to: end.date,
        days,
        annualized: isLongerThanOneYear(start.date, end.date),
        twr: annualize(cumulativeTwr, start.date, end.date),
        cumulativeTwr,
        modifiedDietz: annualize(modifiedDietz(points), start.date, end.date),
        mwr: irr.rate,
        mwrError: irr.problem,
        startNav: start.nav,
        endNav: end.nav,
        netFlows: sum(points.slice(1).filter((x) => !x.netFlow.isZero()).map((x) => x.netFlow)),
        periods: trailingReturns(upTo, itd),
        cumulative: cumulative.map((c, i) => ({ date: c.date, cumulative: c.cumulative, nav: points[i]!.nav })),
      };
    });
  }

  // ------------------------------------------------------------------ risk

  async risk(ctx: ServiceContext, portfolioId: string, args: { from: string; to: string; benchmark?: string | null; confidence?: D | null; riskFreeRate?: D | null }) {
    const { from, to } = args;
    checkRange(from, to);
    const confidence = args.confidence ?? dec('0.95');
    const riskFreeRate = args.riskFreeRate ?? ZERO;
    if (!confidence.gt(0) || !confidence.lt(1)) throw badInput(`confidence must be strictly between 0 and 1, got ${confidence.toString()}`);
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    const since = this.cache.epoch; // before the benchmark is read: an edit of it while computing is not kept
    const bench = args.benchmark ? await this.benchmarkOrFail(args.benchmark) : null;
    return this.run('risk', p.id, [from, to, bench?.code, confidence, riskFreeRate], ctx, async () => {
      const nav = await this.navData(p.id, to, ctx);
      const points = slicePeriod(nav.points, from, to);
      const startIdx = nav.points.indexOf(points[0]!);
      let benchmark;
      if (bench) {
        const days = points.map((x) => x.date);
        const data = this.loadBenchmarkData(bench, null, days, ctx.meta.requestId);
        const fx = await loadFxRange(this.db, [bench.currency, ...bench.constituents.map((c) => c.currency)], days[0]!, days.at(-1)!);
        benchmark = this.benchmarkDays(bench, await data, fx, days).map((d) => ({ date: d.date, ret: d.total }));
      }
      // The shared growth index starts at 1 on the first point: it is the wealth index of a period from inception.
      const r = riskReport(points, {
        benchmark,
        confidence,
        riskFreeRate,
        dailyReturns: nav.daily().slice(startIdx, startIdx + points.length - 1),
        growth: startIdx === 0 ? nav.growth().slice(0, points.length) : undefined,
      });
      return {
        from: points[0]!.date,
        to: points[points.length - 1]!.date,
        ...r,
        confidence,
        riskFreeRate,
        drawdownPeak: r.peakDate,
        drawdownTrough: r.troughDate,
        drawdownRecovery: r.recoveryDate,
        benchmark: bench?.code ?? null,
        benchmarkReturn: benchmark ? benchmark.reduce((g, x) => g.times(ONE.plus(x.ret)), ONE as D).minus(ONE) : null,
      };
    }, since);
  }

  // ------------------------------------------------------------------ attribution

  /**
   * Everything attribution reads, parsed, nothing computed (the bench times it beside the
   * attribution as its loading baseline): the period's NAV points, the ledger, the portfolio's
   * securities and their closes as units, FX, and the benchmark's sums per (day, group,
   * currency) — or, when those are incomplete, its constituents' closes. The benchmark's part
   * is a promise started first, so that the database reads or builds it while Node values the
   * portfolio. The caller has checked access to the portfolio (attribution does).
   */
  async attributionData(ctx: ServiceContext, portfolio: { id: string; baseCurrency: string }, from: string, to: string, bench: LoadedBenchmark, groupBy: GroupBy) {
    await this.valuation.refreshNavSeries(portfolio.id, { requestId: ctx.meta.requestId });
    // The ledger up to `to` is read beside the NAV points, then cut at their last day.
    const [navPoints, ledger] = await Promise.all([loadNavPoints(this.db, portfolio.id, to, from), loadLedger(this.db, portfolio.id, to)]);
    const points = slicePeriod(navPoints, from, to);
    const days = points.map((x) => x.date);
    const start = days[0]!;
    const end = days.at(-1)!;
    const benchmark = this.loadBenchmarkData(bench, groupBy, days, ctx.meta.requestId);
    const entries = ledger.filter((e) => e.date <= end);
    // Closes of the portfolio's own securities only: the benchmark comes summed per day and group.
    const ids = [...new Set(entries.map((e) => e.securityId).filter((s): s is string => !!s))];
    const [securities, prices] = await Promise.all([loadSecurities(this.db, ids), loadCloseUnits(this.db, ids, start, end)]);
    const currencies = new Set<string>([portfolio.baseCurrency, bench.currency, ...entries.map((e) => e.currency), ...[...securities.values()].map((s) => s.currency), ...bench.constituents.map((c) => c.currency)]);
    const fx = await loadFxRange(this.db, currencies, start, end);
    return { points, days, entries, securities, prices, fx, benchmark };
  }

  async attribution(ctx: ServiceContext, portfolioId: string, from: string, to: string, benchmarkCode: string, groupBy: GroupBy) {
    checkRange(from, to);
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    const since = this.cache.epoch; // as in risk
    const bench = await this.benchmarkOrFail(benchmarkCode);
    return this.run('attribution', p.id, [from, to, bench.code, groupBy], ctx, async () => {
      const { points, days, entries, securities, prices, fx, benchmark } = await this.attributionData(ctx, p, from, to, bench, groupBy);
      const pdays = portfolioDays({ baseCurrency: p.baseCurrency, entries, securities, prices, fx, days });
      const bdays = this.benchmarkDays(bench, await benchmark, fx, days);
      const result = dailyAttribution(
        pdays,
        bdays,
        (sid) => groupOf(groupBy, securities.get(sid)!),
        (ccy) => (groupBy === 'CURRENCY' ? ccy : CASH_GROUP),
      );
      const periodTwr = twr(points);
      return {
        from: days[0]!,
        to: days.at(-1)!,
        benchmark: bench.code,
        groupBy,
        linking: 'Carino',
        ...result.linked,
        groups: [...result.linked.groups].sort((a, b) => b.portfolioWeight.cmp(a.portfolioWeight) || (a.key < b.key ? -1 : 1)),
        contributions: result.contributions.map((c) => {
          const s = securities.get(c.securityId)!;
          return { symbol: s.symbol, group: groupOf(groupBy, s), averageWeight: c.averageWeight, contribution: c.contribution };
        }),
        cashContribution: result.cashContribution,
        twr: periodTwr,
        residual: periodTwr.minus(result.linked.portfolioReturn),
      };
    }, since);
  }

  // ------------------------------------------------------------------ currency attribution

  async currencyAttribution(ctx: ServiceContext, portfolioId: string, from: string, to: string) {
    checkRange(from, to);
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    return this.run('currencyAttribution', p.id, [from, to], ctx, async () => {
      const points = slicePeriod(await this.navPoints(p.id, to, ctx), from, to);
      const start = points[0]!.date;
      const end = points.at(-1)!.date;
      const entries = await loadLedger(this.db, p.id, start);
      const state = new LedgerReplay();
      for (const e of replayOrder(entries)) state.apply(e);
      const ids = [...state.quantity].filter(([, q]) => !q.isZero()).map(([s]) => s);
      const [securities, prices] = await Promise.all([loadSecurities(this.db, ids), loadCloses(this.db, ids, start, end)]);
      const currencies = new Set<string>([p.baseCurrency, ...state.cash.keys(), ...[...securities.values()].map((s) => s.currency)]);
      const fx = await loadFxRange(this.db, currencies, start, end);
      const local = new Map<string, { s: D; e: D }>();
      const add = (ccy: string, s: D, e: D) => {
        const x = local.get(ccy) ?? { s: ZERO, e: ZERO };
        local.set(ccy, { s: x.s.plus(s), e: x.e.plus(e) });
      };
      const closeOn = (sid: string, day: string): D | null => {
        const ser = prices.get(sid);
        if (!ser) return state.lastTradePrice.get(sid) ?? null;
        let px: D | null = null;
        for (let i = 0; i < ser.dates.length && ser.dates[i]! <= day; i++) px = ser.closes[i]!;
        return px ?? state.lastTradePrice.get(sid) ?? null;
      };
      for (const sid of ids) {
        const info = securities.get(sid)!;
        const q = state.quantity.get(sid)!;
        const p0 = closeOn(sid, start);
        const p1 = closeOn(sid, end);
        if (p0 && p1) add(info.currency, q.times(p0), q.times(p1));
      }
      for (const [ccy, bal] of state.cash) if (!bal.isZero()) add(ccy, bal, bal);
      const values = [...local]
        .filter(([, v]) => !v.s.isZero() || !v.e.isZero())
        .map(([currency, v]) => {
          const x0 = fx.convertRate(currency, p.baseCurrency, start);
          const x1 = fx.convertRate(currency, p.baseCurrency, end);
          if (!x0 || !x1) throw badInput(`no FX rate ${currency}→${p.baseCurrency} on or before ${!x0 ? start : end}`);
          return { currency, startLocal: v.s, endLocal: v.e, startFx: x0.rate, endFx: x1.rate };
        })
        .sort((a, b) => (a.currency < b.currency ? -1 : 1));
      const total = twr(points);
      const r = currencyAttribution(legsFromValues(values), total);
      return { from: start, to: end, ...r };
    });
  }

  // ------------------------------------------------------------------ stress tests

  async scenarios() {
    const rows = await this.db.stressScenario.findMany({ orderBy: [{ isDefault: 'desc' }, { code: 'asc' }] });
    return rows.map((r) => ({ code: r.code, name: r.name, isDefault: r.isDefault, shocks: parseShocks(r.shocks) }));
  }

  async stressTest(ctx: ServiceContext, portfolioId: string, shocksArg: readonly ShockArg[] | null | undefined, scenario: string | null | undefined) {
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    if ((shocksArg == null) === (scenario == null)) throw badInput('give either shocks or scenario');
    let shocks: Shock[];
    if (scenario != null) {
      const row = await this.db.stressScenario.findUnique({ where: { code: scenario.trim().toUpperCase() } });
      if (!row) throw badInput(`unknown stress scenario "${scenario}"`);
      shocks = parseShocks(row.shocks);
    } else {
      shocks = await this.validateShocks(shocksArg!);
    }
    const v = await this.valuation.valuation(ctx, p.id);
    const positions: StressPosition[] = v.holdings.map((h) => ({
      securityId: h.securityId,
      symbol: h.symbol,
      currency: h.currency,
      sector: h.sector,
      assetClass: h.assetClass,
      quantity: h.quantity,
      price: h.price,
      marketValue: h.marketValue,
      fxRate: h.fxRate,
    }));
    const r = stressTest(p.baseCurrency, positions, v.cash.map((c) => ({ currency: c.currency, balance: c.balance, fxRate: c.fxRate })), shocks);
    return { scenario: scenario?.trim().toUpperCase() ?? null, ...r, unmatchedShocks: r.unmatched };
  }

  /** Explicit shocks must name what the security master knows. */
  private async validateShocks(shocks: readonly ShockArg[]): Promise<Shock[]> {
    if (!shocks.length) throw badInput('give at least one shock');
    if (shocks.length > 1000) throw badInput('at most 1,000 shocks');
    const out: Shock[] = [];
    const keysOf = async (target: ShockTarget): Promise<Set<string>> => {
      const rows =
        target === 'SECTOR'
          ? await this.db.$queryRaw<{ k: string }[]>`SELECT DISTINCT sector AS k FROM securities WHERE sector IS NOT NULL`
          : await this.db.$queryRaw<{ k: string }[]>`SELECT DISTINCT asset_class AS k FROM securities WHERE asset_class IS NOT NULL`;
      return new Set(rows.map((r) => r.k));
    };
    const known = new Map<ShockTarget, Set<string>>();
    for (const s of shocks) {
      const kind = s.kind ?? 'RELATIVE';
      let key: string | null = s.key?.trim() || null;
      if (s.target === 'MARKET') key = null;
      else if (!key) throw badInput(`a ${s.target} shock needs a key`);
      else if (s.target === 'SECURITY') {
        key = validSymbol(key, 'shock key');
        if (!(await this.db.security.findUnique({ where: { symbol: key }, select: { id: true } }))) throw badInput(`shock on unknown security "${key}"`);
      } else if (s.target === 'CURRENCY') key = currencyCode(key, 'shock key');
      else {
        if (!known.has(s.target)) known.set(s.target, await keysOf(s.target));
        if (!known.get(s.target)!.has(key)) throw badInput(`shock on unknown ${s.target === 'SECTOR' ? 'sector' : 'asset class'} "${key}"`);
      }
      out.push({ target: s.target, key, kind, value: s.value });
    }
    return out;
  }

  // ------------------------------------------------------------------ what-if

  async whatIf(ctx: ServiceContext, portfolioId: string, trades: readonly WhatIfTradeArg[], lookbackDays = 252) {
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    return this.proForma(ctx, p, trades, lookbackDays);
  }

  private async proForma(ctx: ServiceContext, p: Portfolio, tradesArg: readonly WhatIfTradeArg[], lookbackDays: number) {
    if (!tradesArg.length) throw badInput('give at least one trade');
    if (tradesArg.length > 1000) throw badInput('at most 1,000 trades');
    if (!Number.isInteger(lookbackDays) || lookbackDays < 2 || lookbackDays > 2520) throw badInput('lookbackDays must be between 2 and 2,520');
    const current = await this.valuation.valuation(ctx, p.id);
    const symbols = [...new Set(tradesArg.map((t) => validSymbol(t.symbol)))];
    const secs = await this.db.$queryRaw<{ id: string; symbol: string; name: string; currency: string; sector: string | null; asset_class: string | null; country: string | null; price: string | null; price_date: string | null }[]>`
      SELECT s.id, s.symbol, s.name, s.currency, s.sector, s.asset_class, s.country, px.price, px.price_date
      FROM securities s
      LEFT JOIN LATERAL (
        SELECT price, price_date FROM (
          SELECT q.price::text AS price, to_char(q.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS price_date, q.ts FROM quotes q WHERE q.security_id = s.id
          UNION ALL
          (SELECT b.close::text, to_char(b.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD'), b.ts FROM price_bars b WHERE b.security_id = s.id AND b.timeframe = '1d' ORDER BY b.ts DESC LIMIT 1)
        ) x ORDER BY ts DESC LIMIT 1
      ) px ON true
      WHERE s.symbol = ANY(${symbols}::text[])`;
    const bySymbol = new Map(secs.map((s) => [s.symbol, s]));
    const positions = new Map<string, PositionInput>(
      current.holdings.map((h) => [h.securityId, { securityId: h.securityId, symbol: h.symbol, name: h.name, currency: h.currency, sector: h.sector, assetClass: h.assetClass, country: h.country, quantity: h.quantity, costBasis: h.costBasis, price: h.price && h.priceDate ? { value: h.price, date: h.priceDate } : null }]),
    );
    const cash = new Map<string, D>(current.cash.map((c) => [c.currency, c.balance]));
    const trades = tradesArg.map((t, i) => {
      const sym = validSymbol(t.symbol);
      const s = bySymbol.get(sym);
      if (!s) throw badInput(`trades[${i}]: unknown symbol "${t.symbol}"`);
      if (!t.quantity.gt(0)) throw badInput(`trades[${i}]: quantity must be > 0`);
      const fee = t.fee ?? ZERO;
      if (fee.lt(0)) throw badInput(`trades[${i}]: fee must be ≥ 0`);
      const price = t.price ?? (s.price ? dec(s.price) : null);
      if (!price) throw badInput(`trades[${i}]: ${sym} has no price; give one`);
      if (!price.gt(0)) throw badInput(`trades[${i}]: price must be > 0`);
      const pos = positions.get(s.id) ?? { securityId: s.id, symbol: s.symbol, name: s.name, currency: s.currency, sector: s.sector, assetClass: s.asset_class, country: s.country, quantity: ZERO, costBasis: ZERO, price: s.price && s.price_date ? { value: dec(s.price), date: s.price_date } : null };
      const gross = t.quantity.times(price);
      if (t.side === 'BUY') {
        pos.costBasis = pos.costBasis.plus(gross).plus(fee);
        pos.quantity = pos.quantity.plus(t.quantity);
        cash.set(s.currency, (cash.get(s.currency) ?? ZERO).minus(gross).minus(fee));
      } else {
        if (!p.allowShort && t.quantity.gt(pos.quantity)) throw badInput(`trades[${i}]: selling ${t.quantity.toString()} ${sym} but ${pos.quantity.toString()} would be held`);
        pos.costBasis = pos.quantity.isZero() ? pos.costBasis : pos.costBasis.times(pos.quantity.minus(t.quantity)).div(pos.quantity);
        pos.quantity = pos.quantity.minus(t.quantity);
        cash.set(s.currency, (cash.get(s.currency) ?? ZERO).plus(gross).minus(fee));
      }
      positions.set(s.id, pos);
      return { symbol: sym, side: t.side, quantity: t.quantity, price, fee };
    });
    const date = today();
    const currencies = new Set<string>([p.baseCurrency, ...[...positions.values()].map((x) => x.currency), ...cash.keys()]);
    const fxNow = await loadFxTable(this.db, currencies, date);
    const pro = valuePortfolio({
      baseCurrency: p.baseCurrency,
      date: current.date,
      asOf: current.asOf,
      positions: [...positions.values()],
      cash: [...cash].map(([currency, balance]) => ({ currency, balance })),
      fx: fxNow,
      staleDays: loadConfig().stalePriceDays,
    });
    // Holdings-based risk of both books over the same lookback.
    const end = businessDayOnOrBefore(date);
    const days = businessDays(fromEpochDay(toEpochDay(end) - Math.ceil((lookbackDays * 7) / 5) - 7), end).slice(-(lookbackDays + 1));
    const ids = [...positions.keys()];
    const [prices, fx] = await Promise.all([loadCloses(this.db, ids, days[0]!, end), loadFxRange(this.db, currencies, days[0]!, end)]);
    const riskOf = (qty: Map<string, { quantity: D; currency: string; fallback: D | null }>, bal: Map<string, D>) => {
      const series = constantHoldingsSeries(p.baseCurrency, qty, bal, prices, fx, days);
      const r = riskReport(series.filter((x) => x.nav.gt(0)));
      return { observations: r.observations, volatility: r.volatility, var: r.var, cvar: r.cvar, maxDrawdown: r.maxDrawdown };
    };
    const qtyOf = (list: { securityId: string; quantity: D; currency: string; price: D | null }[]) =>
      new Map(list.map((h) => [h.securityId, { quantity: h.quantity, currency: h.currency, fallback: h.price }]));
    const currentRisk = riskOf(qtyOf(current.holdings), new Map(current.cash.map((c) => [c.currency, c.balance])));
    const proRisk = riskOf(qtyOf([...positions.values()].map((x) => ({ ...x, price: x.price?.value ?? null }))), cash);
    return {
      trades,
      current: { valuation: current, exposure: exposureOf(current), risk: currentRisk },
      proForma: { valuation: pro, exposure: exposureOf(pro), risk: proRisk },
      navChange: pro.nav.minus(current.nav),
    };
  }

  async saveSession(ctx: ServiceContext, portfolioId: string, name: string, trades: readonly WhatIfTradeArg[]) {
    const n = text(name, 'name', 120);
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    const result = await this.proForma(ctx, p, trades, 252);
    const stored = result.trades.map((t) => ({ symbol: t.symbol, side: t.side, quantity: t.quantity.toFixed(), price: t.price.toFixed(), fee: t.fee.toFixed() }));
    try {
      const row = await inTransaction(this.db, ctx, async (tx) => {
        await getWritablePortfolio(tx, ctx, p.id);
        const created = await tx.modelingSession.create({
          data: { portfolioId: p.id, userId: requireActor(ctx).userId, name: n, trades: stored, result: { currentNav: result.current.valuation.nav.toFixed(), proFormaNav: result.proForma.valuation.nav.toFixed() } },
        });
        await writeAudit(tx, ctx, { action: 'modeling_session.create', entityType: 'ModelingSession', entityId: created.id, portfolioId: p.id, after: created });
        return created;
      });
      return sessionOut(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('CONFLICT', `a modeling session named "${n}" already exists for this portfolio`);
      throw err;
    }
  }

  async sessions(ctx: ServiceContext, portfolioId: string) {
    const p = await getReadablePortfolio(this.db, ctx, portfolioId);
    const rows = await this.db.modelingSession.findMany({ where: { portfolioId: p.id }, orderBy: { createdAt: 'desc' } });
    return rows.map(sessionOut);
  }
}

function sessionOut(r: { id: string; portfolioId: string; name: string; trades: unknown; result: unknown; createdAt: Date }) {
  const res = (r.result ?? {}) as { currentNav?: string; proFormaNav?: string };
  return {
    id: r.id,
    portfolioId: r.portfolioId,
    name: r.name,
    createdAt: r.createdAt,
    trades: (r.trades as { symbol: string; side: 'BUY' | 'SELL'; quantity: string; price: string; fee: string }[]).map((t) => ({ ...t, quantity: dec(t.quantity), price: dec(t.price), fee: dec(t.fee) })),
    currentNav: res.currentNav ? dec(res.currentNav) : null,
    proFormaNav: res.proFormaNav ? dec(res.proFormaNav) : null,
  };
}

function parseShocks(json: unknown): Shock[] {
  return (json as { target: ShockTarget; key: string | null; kind: ShockKind; value: string }[]).map((s) => ({ target: s.target, key: s.key ?? null, kind: s.kind, value: dec(s.value) }));
}
