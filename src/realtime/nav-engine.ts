import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type Decimal from 'decimal.js';
import { D, ZERO } from '../domain/decimal';
import { FxTable, type FxQuote } from '../domain/fx';
import { OUTPUT_DP } from '../domain/valuation';
import type { EventBus } from '../events/bus';
import type { DomainEvent, EventOf } from '../events/types';
import type { LivePosition, LiveService } from '../services/live';
import { SubscriptionStream } from './stream';

export interface NavUpdate {
  portfolioId: string;
  nav: string;
  previousNav: string | null;
  change: string | null;
  changePct: string | null;
  asOf: Date;
  seq: number;
}

interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** One portfolio held in memory: positions by security, cash by currency, its NAV. */
export class LivePortfolio {
  baseCurrency = '';
  positions = new Map<string, LivePosition>();
  cash = new Map<string, Decimal>();
  nav: Decimal = ZERO;
  navText = '0';
  referenceNav: Decimal | null = null;
  peakNav: Decimal = ZERO;
  /** Market value in the base currency per security, from the last revaluation (weights). */
  valueBase = new Map<string, Decimal>();
  last: NavUpdate | null = null;
  /** When its last update went out (performance.now()), for the coalescing window. */
  emittedAt = -Infinity;
  seq = 0;
  loaded = false;
  loading = false;
  reloadAgain = false;
  readonly sinks = new Set<SubscriptionStream<NavUpdate>>();
  /** Holders other than sockets (the alert engine's rules). */
  ruleRefs = 0;
  /** The event whose booking triggered the pending reload (the alert dedupe key). */
  pendingKey: string | undefined;

  constructor(readonly id: string) {}

  get refs(): number {
    return this.sinks.size + this.ruleRefs;
  }

  weight(securityId: string): Decimal | null {
    const v = this.valueBase.get(securityId);
    return v && !this.nav.isZero() ? v.div(this.nav) : null;
  }
}

export type RevaluedListener = (p: LivePortfolio, eventKey: string) => void;

/**
 * The incremental NAV engine. Only portfolios with a subscriber or an alert rule are held;
 * `holders` indexes them by security, so a price tick touches only the portfolios that hold
 * the instrument and queries nothing. A booking reloads its portfolio; an FX tick revalues
 * the held portfolios at the new rates. A portfolio's updates are at least `coalesceMs`
 * apart: the first change after a quiet window goes out at once (on the next turn of the
 * event loop, so the writer's response is not held up), the changes that follow within the
 * window go out as one, the last value, when it ends. Every subscriber gets a `seq` that
 * only grows.
 */
export class NavEngine {
  private readonly states = new Map<string, LivePortfolio>();
  private readonly holders = new Map<string, Set<LivePortfolio>>();
  /** Latest price per security seen in events (any security, held or not). */
  private readonly prices = new Map<string, { price: Decimal; ts: number }>();
  private readonly fxQuotes = new Map<string, FxQuote>();
  private fx = new FxTable([]);
  private readonly rateCache = new Map<string, Decimal | null>();
  /** seq of released portfolios, so that a later subscriber's seq still grows. */
  private readonly lastSeq = new Map<string, number>();
  private readonly dirty = new Set<LivePortfolio>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushAt = Infinity;
  private flushSoon: NodeJS.Immediate | null = null;
  private loadQueue = new Set<LivePortfolio>();
  private loadScheduled = false;
  private readonly revaluedListeners: RevaluedListener[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  private fxReady: Promise<void> | null = null;

  constructor(
    private readonly live: LiveService,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly coalesceMs: number,
  ) {}

  start(): void {
    this.unsubscribe.push(
      this.bus.subscribe('prices.ingested', (e) => this.onPrices(e)),
      this.bus.subscribe('fx.ingested', (e) => this.onFx(e)),
      this.bus.subscribe('trade.booked', (e) => this.onBooked(e.portfolioId, `tx:${e.transactionId}`)),
      this.bus.subscribe('cash.moved', (e) => this.onBooked(e.portfolioId, `tx:${e.transactionId}`)),
      // Of the security master, live NAV reads only a holding's currency (what its value converts from).
      this.bus.subscribe('security.changed', (e) => {
        if (e.changed.includes('currency')) for (const p of this.holders.get(e.securityId) ?? []) this.onBooked(p.id, `security:${eventKey(e)}`);
      }),
      // Ticks, rates and bookings of other processes may have been lost: everything held is read again.
      this.bus.subscribe('events.missed', () => {
        this.fxReady = null;
        for (const p of this.states.values()) this.queueLoad(p);
      }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    for (const p of this.states.values()) for (const s of [...p.sinks]) s.close();
  }

  onRevalued(listener: RevaluedListener): void {
    this.revaluedListeners.push(listener);
  }

  get(portfolioId: string): LivePortfolio | undefined {
    return this.states.get(portfolioId);
  }

  priceOf(securityId: string): Decimal | null {
    return this.prices.get(securityId)?.price ?? null;
  }

  stats() {
    let subscribers = 0;
    for (const p of this.states.values()) subscribers += p.sinks.size;
    return { portfolios: this.states.size, subscribers, indexedSecurities: this.holders.size };
  }

  /** A subscriber's stream: the current NAV at once (once loaded), then every change. */
  subscribe(portfolioId: string): SubscriptionStream<NavUpdate> {
    const p = this.acquire(portfolioId);
    const stream: SubscriptionStream<NavUpdate> = new SubscriptionStream<NavUpdate>(() => {
      p.sinks.delete(stream);
      this.releaseIfUnused(p);
    }, portfolioOf);
    p.sinks.add(stream);
    if (p.last) stream.push(p.last);
    return stream;
  }

  /** Holds a portfolio for the alert engine (no socket needed). */
  retain(portfolioId: string): LivePortfolio {
    const p = this.acquire(portfolioId);
    p.ruleRefs++;
    return p;
  }

  releaseRule(portfolioId: string): void {
    const p = this.states.get(portfolioId);
    if (!p) return;
    p.ruleRefs = Math.max(0, p.ruleRefs - 1);
    this.releaseIfUnused(p);
  }

  private acquire(portfolioId: string): LivePortfolio {
    let p = this.states.get(portfolioId);
    if (!p) {
      p = new LivePortfolio(portfolioId);
      p.seq = this.lastSeq.get(portfolioId) ?? 0;
      this.states.set(portfolioId, p);
      this.queueLoad(p);
    }
    return p;
  }

  private releaseIfUnused(p: LivePortfolio): void {
    if (p.refs > 0 || this.states.get(p.id) !== p) return;
    this.states.delete(p.id);
    this.lastSeq.set(p.id, p.seq);
    this.dirty.delete(p);
    for (const sid of p.positions.keys()) this.unindex(sid, p);
  }

  // ------------------------------------------------------------------ loading

  /** Loads are batched: the portfolios that gained a holder in one turn load in one query set. */
  private queueLoad(p: LivePortfolio): void {
    if (p.loading) {
      p.reloadAgain = true;
      return;
    }
    this.loadQueue.add(p);
    if (this.loadScheduled) return;
    this.loadScheduled = true;
    setImmediate(() => void this.runLoads());
  }

  private async runLoads(): Promise<void> {
    this.loadScheduled = false;
    const batch = [...this.loadQueue].filter((p) => this.states.get(p.id) === p);
    this.loadQueue.clear();
    if (!batch.length) return;
    for (const p of batch) p.loading = true;
    try {
      this.fxReady ??= this.live.latestFxRates().then(
        (rates) => this.setFx(rates),
        (err: unknown) => {
          this.fxReady = null;
          throw err;
        },
      );
      await this.fxReady;
      const loaded = await this.live.load(batch.map((p) => p.id));
      const byId = new Map(loaded.map((s) => [s.portfolioId, s]));
      for (const p of batch) {
        p.loading = false;
        const s = byId.get(p.id);
        if (!s || this.states.get(p.id) !== p) continue;
        for (const sid of p.positions.keys()) this.unindex(sid, p);
        p.baseCurrency = s.baseCurrency;
        p.positions = new Map(s.positions.map((x) => [x.securityId, { ...x }]));
        p.cash = new Map(s.cash.map((c) => [c.currency, c.balance]));
        for (const [sid, pos] of p.positions) {
          this.index(sid, p);
          // A price seen in an event since (or during) the load is the newer one.
          const seen = this.prices.get(sid);
          if (seen && seen.ts >= pos.priceTs) Object.assign(pos, { price: seen.price, priceTs: seen.ts });
          else if (pos.price && (!seen || pos.priceTs > seen.ts)) this.prices.set(sid, { price: pos.price, ts: pos.priceTs });
        }
        this.revalue(p);
        p.referenceNav = s.referenceNav ?? p.referenceNav ?? p.nav;
        p.peakNav = D.max(p.peakNav, s.peakNav ?? p.nav, p.nav);
        const first = !p.loaded;
        p.loaded = true;
        if (first) this.emitNow(p);
        else this.markDirty(p);
        this.notify(p, p.pendingKey ?? `load:${p.id}`);
        p.pendingKey = undefined;
        if (p.reloadAgain) {
          p.reloadAgain = false;
          this.queueLoad(p);
        }
      }
    } catch (err) {
      this.log.error({ err }, 'realtime: loading portfolios failed');
      for (const p of batch) {
        p.loading = false;
        // The sockets waiting on it are told nothing yet; the next booking or subscriber retries.
        if (this.states.get(p.id) === p && !p.loaded) this.states.delete(p.id);
      }
      for (const p of batch) for (const s of [...p.sinks]) s.close();
    }
  }

  // ------------------------------------------------------------------ events

  private onPrices(e: EventOf<'prices.ingested'>): void {
    const key = eventKey(e);
    const touched = new Set<LivePortfolio>();
    for (const tick of e.prices) {
      const ts = Date.parse(tick.ts);
      const seen = this.prices.get(tick.securityId);
      if (seen && seen.ts > ts) continue;
      const price = new D(tick.price);
      this.prices.set(tick.securityId, { price, ts });
      const holders = this.holders.get(tick.securityId);
      if (!holders) continue;
      for (const p of holders) {
        const pos = p.positions.get(tick.securityId);
        if (!pos) continue;
        pos.price = price;
        pos.priceTs = ts;
        touched.add(p);
      }
    }
    for (const p of touched) {
      if (!p.loaded) continue;
      this.revalue(p);
      this.markDirty(p);
      this.notify(p, key);
    }
  }

  private onFx(e: EventOf<'fx.ingested'>): void {
    for (const r of e.rates) {
      const k = `${r.base}/${r.quote}`;
      const cur = this.fxQuotes.get(k);
      if (!cur || cur.date <= r.date) this.fxQuotes.set(k, { base: r.base, quote: r.quote, date: r.date, rate: new D(r.rate) });
    }
    this.fx = new FxTable(this.fxQuotes.values());
    this.rateCache.clear();
    const key = eventKey(e);
    for (const p of this.states.values()) {
      if (!p.loaded) continue;
      this.revalue(p);
      this.markDirty(p);
      this.notify(p, key);
    }
  }

  private onBooked(portfolioId: string, key: string): void {
    const p = this.states.get(portfolioId);
    if (!p) return;
    p.pendingKey = key;
    this.queueLoad(p);
  }

  private setFx(rates: FxQuote[]): void {
    for (const r of rates) {
      const k = `${r.base}/${r.quote}`;
      const cur = this.fxQuotes.get(k);
      if (!cur || cur.date <= r.date) this.fxQuotes.set(k, r);
    }
    this.fx = new FxTable(this.fxQuotes.values());
    this.rateCache.clear();
  }

  // ------------------------------------------------------------------ valuation

  private rate(currency: string, base: string): Decimal | null {
    if (currency === base) return null;
    const k = `${currency}>${base}`;
    let r = this.rateCache.get(k);
    if (r === undefined) {
      r = this.fx.convertRate(currency, base, '9999-12-31')?.rate ?? null;
      this.rateCache.set(k, r);
    }
    return r;
  }

  /**
   * NAV as the valuation service computes it (src/domain/valuation.ts): quantity × latest
   * price (cost when unpriced) × FX to base, plus cash × FX; a currency without a rate
   * counts 0; rounded once at the end.
   */
  private revalue(p: LivePortfolio): void {
    let nav: Decimal = ZERO;
    for (const [sid, pos] of p.positions) {
      const mv = pos.price ? pos.quantity.times(pos.price) : pos.costBasis;
      const base = pos.currency === p.baseCurrency ? mv : mv.times(this.rate(pos.currency, p.baseCurrency) ?? ZERO);
      p.valueBase.set(sid, base);
      nav = nav.plus(base);
    }
    for (const [ccy, bal] of p.cash) nav = nav.plus(ccy === p.baseCurrency ? bal : bal.times(this.rate(ccy, p.baseCurrency) ?? ZERO));
    p.nav = nav.toDecimalPlaces(OUTPUT_DP);
    p.navText = p.nav.toFixed();
    if (p.nav.gt(p.peakNav)) p.peakNav = p.nav;
  }

  private notify(p: LivePortfolio, key: string): void {
    for (const l of this.revaluedListeners) {
      try {
        l(p, key);
      } catch (err) {
        this.log.error({ err }, 'realtime: revaluation listener failed');
      }
    }
  }

  // ------------------------------------------------------------------ delivery

  private markDirty(p: LivePortfolio): void {
    if (!p.sinks.size) return;
    this.dirty.add(p);
    this.scheduleFlush(p.emittedAt + this.coalesceMs);
  }

  private scheduleFlush(due: number): void {
    const now = performance.now();
    if (due <= now) {
      this.flushSoon ??= setImmediate(() => this.flush());
      return;
    }
    if (due >= this.flushAt) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushAt = due;
    this.flushTimer = setTimeout(() => this.flush(), due - now);
  }

  /** Sends every dirty portfolio whose window has passed; the timer waits for the next one. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushTimer = this.flushSoon = null;
    this.flushAt = Infinity;
    // Timers fire to the millisecond: a window ending within one counts as ended.
    const now = performance.now() + 1;
    let next = Infinity;
    for (const p of this.dirty) {
      const due = p.emittedAt + this.coalesceMs;
      if (this.states.get(p.id) !== p) this.dirty.delete(p);
      else if (due > now) next = Math.min(next, due);
      else {
        this.dirty.delete(p);
        this.emitNow(p);
      }
    }
    if (next < Infinity) this.scheduleFlush(next);
  }

  /** One NavUpdate object per portfolio and change, shared by all its subscribers. */
  private emitNow(p: LivePortfolio): void {
    const prev = p.last;
    if (prev && prev.nav === p.navText) return;
    const previous = prev ? new D(prev.nav) : null;
    const update: NavUpdate = {
      portfolioId: p.id,
      nav: p.navText,
      previousNav: prev?.nav ?? null,
      change: previous ? p.nav.minus(previous).toFixed() : null,
      changePct: previous && !previous.isZero() ? p.nav.minus(previous).div(previous.abs()).toDecimalPlaces(OUTPUT_DP).toFixed() : null,
      asOf: new Date(),
      seq: ++p.seq,
    };
    p.last = update;
    p.emittedAt = performance.now();
    for (const s of p.sinks) s.push(update);
  }

  private index(sid: string, p: LivePortfolio): void {
    let set = this.holders.get(sid);
    if (!set) this.holders.set(sid, (set = new Set()));
    set.add(p);
  }

  private unindex(sid: string, p: LivePortfolio): void {
    const set = this.holders.get(sid);
    if (!set) return;
    set.delete(p);
    if (!set.size) this.holders.delete(sid);
  }
}

const portfolioOf = (u: NavUpdate) => u.portfolioId;

/** Identifies an event the same way in every process (it crosses Redis as the same JSON). */
export function eventKey(e: DomainEvent): string {
  return createHash('sha1').update(JSON.stringify(e)).digest('base64url').slice(0, 22);
}
