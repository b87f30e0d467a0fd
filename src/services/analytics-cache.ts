import type { EventBus } from '../events/bus';

/**
 * Results of analytics per (kind, portfolio, arguments, day), dropped by the events that can
 * change them: a booking in the portfolio (trade.booked, cash.moved) drops that portfolio's
 * entries; ingested prices or FX rates, an edited security (classification, currency, name)
 * or benchmark drop everything (they move NAVs, groups, benchmarks and the stored series'
 * late-price rebuilds). Bounded, oldest out first.
 *
 * Every process hears every event (with a Redis bus, another process's a moment later), and a
 * result computed while an event arrived is not kept (`epoch`): a read in that moment may see
 * the previous result, as a read just before the write would have, but nothing older stays.
 * Events published while Redis is down are lost for the other processes, which serve their
 * entries until Redis is back (events.missed, redis-bus.ts): readiness says degraded meanwhile.
 */
export class AnalyticsCache {
  private readonly entries = new Map<string, { portfolioId: string | null; value: unknown }>();
  hits = 0;
  misses = 0;
  /** Counts invalidations: `set` keeps a result only if none that reaches it happened since its inputs were read. */
  epoch = 0;
  private clearedAt = 0;
  /** The epoch of each portfolio's last drop since the last clear. */
  private readonly droppedAt = new Map<string, number>();

  constructor(
    bus: EventBus,
    private readonly maxEntries = 500,
  ) {
    bus.subscribe('trade.booked', (e) => this.dropPortfolio(e.portfolioId));
    bus.subscribe('cash.moved', (e) => this.dropPortfolio(e.portfolioId));
    bus.subscribe('prices.ingested', () => this.clear());
    bus.subscribe('fx.ingested', () => this.clear());
    bus.subscribe('security.changed', () => this.clear());
    bus.subscribe('benchmark.changed', () => this.clear());
    bus.subscribe('events.missed', () => this.clear());
  }

  key(kind: string, portfolioId: string, args: unknown[]): string {
    return JSON.stringify([kind, portfolioId, new Date().toISOString().slice(0, 10), ...args.map((a) => (a == null ? null : String(a)))]);
  }

  get<T>(key: string): T | undefined {
    const e = this.entries.get(key);
    if (e) this.hits++;
    else this.misses++;
    return e?.value as T | undefined;
  }

  /** `since`: the epoch when the value's inputs started to be read; an invalidation after it drops the value. */
  set(key: string, portfolioId: string | null, value: unknown, since = this.epoch): void {
    if (this.clearedAt > since || (portfolioId !== null && (this.droppedAt.get(portfolioId) ?? 0) > since)) return;
    this.entries.delete(key);
    this.entries.set(key, { portfolioId, value });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  dropPortfolio(portfolioId: string): void {
    this.droppedAt.set(portfolioId, ++this.epoch);
    for (const [k, e] of this.entries) if (e.portfolioId === portfolioId) this.entries.delete(k);
  }

  clear(): void {
    this.clearedAt = ++this.epoch;
    this.droppedAt.clear();
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
