import type { EventBus } from '../events/bus';

/**
 * Results of analytics per (kind, portfolio, arguments, day), dropped by the events that can
 * change them: a booking in the portfolio (trade.booked, cash.moved) drops that portfolio's
 * entries; ingested prices or FX rates, or a benchmark change, drop everything (they move
 * NAVs, benchmarks and the stored series' late-price rebuilds). Bounded, oldest out first.
 * With a Redis bus the events of other processes arrive a moment later: a read in that
 * window may see the previous result.
 */
export class AnalyticsCache {
  private readonly entries = new Map<string, { portfolioId: string | null; value: unknown }>();
  hits = 0;
  misses = 0;

  constructor(
    bus: EventBus,
    private readonly maxEntries = 500,
  ) {
    bus.subscribe('trade.booked', (e) => this.dropPortfolio(e.portfolioId));
    bus.subscribe('cash.moved', (e) => this.dropPortfolio(e.portfolioId));
    bus.subscribe('prices.ingested', () => this.clear());
    bus.subscribe('fx.ingested', () => this.clear());
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

  set(key: string, portfolioId: string | null, value: unknown): void {
    this.entries.delete(key);
    this.entries.set(key, { portfolioId, value });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  dropPortfolio(portfolioId: string): void {
    for (const [k, e] of this.entries) if (e.portfolioId === portfolioId) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
