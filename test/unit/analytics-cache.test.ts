import { LocalEventBus } from '../../src/events/bus';
import { AnalyticsCache } from '../../src/services/analytics-cache';
import type { DomainEvent } from '../../src/events/types';

const turn = () => new Promise((r) => setImmediate(r));

describe('AnalyticsCache', () => {
  test('a result whose inputs were read before an invalidation that reaches it is not kept', async () => {
    const bus = new LocalEventBus();
    const cache = new AnalyticsCache(bus);
    const since = cache.epoch;
    bus.publish({ type: 'trade.booked', portfolioId: 'p1', transactionId: 't', securityId: null, tradeDate: '2024-01-02' });
    await turn();
    cache.set('k1', 'p1', 'computed before the booking', since);
    cache.set('k2', 'p2', 'another portfolio', since);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k2')).toBe('another portfolio');

    const beforeEdit = cache.epoch;
    bus.publish({ type: 'security.changed', securityId: 's', symbol: 'S', changed: ['sector'] });
    await turn();
    expect(cache.get('k2')).toBeUndefined();
    cache.set('k3', 'p3', 'computed before the edit', beforeEdit);
    expect(cache.get('k3')).toBeUndefined();
    cache.set('k3', 'p3', 'computed after it');
    expect(cache.get('k3')).toBe('computed after it');
  });

  test.each([
    { type: 'trade.booked', portfolioId: 'p1', transactionId: 't', securityId: 's', tradeDate: '2024-01-02' },
    { type: 'cash.moved', portfolioId: 'p1', transactionId: 't', currency: 'USD', tradeDate: '2024-01-02' },
  ] satisfies DomainEvent[])('$type drops its portfolio only', async (event) => {
    const bus = new LocalEventBus();
    const cache = new AnalyticsCache(bus);
    cache.set('k1', 'p1', 1);
    cache.set('k2', 'p2', 2);
    bus.publish(event);
    await turn();
    expect([cache.get('k1'), cache.get('k2')]).toEqual([undefined, 2]);
  });

  // Prices and FX reach every portfolio (benchmarks, cross rates), so they drop everything too.
  test.each([
    { type: 'prices.ingested', prices: [{ securityId: 's', symbol: 'S', price: '1', ts: '2024-01-02T00:00:00.000Z' }] },
    { type: 'fx.ingested', rates: [{ base: 'EUR', quote: 'USD', date: '2024-01-02', rate: '1.1' }] },
    { type: 'security.changed', securityId: 's', symbol: 'S', changed: ['sector'] },
    { type: 'benchmark.changed', benchmarkId: 'b', code: 'BM' },
    { type: 'events.missed' },
  ] satisfies DomainEvent[])('$type drops every entry', async (event) => {
    const bus = new LocalEventBus();
    const cache = new AnalyticsCache(bus);
    cache.set('k', 'p', 1);
    cache.set('k2', 'p2', 2);
    bus.publish(event);
    await turn();
    expect(cache.size).toBe(0);
  });
});
