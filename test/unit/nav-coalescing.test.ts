import { D } from '../../src/domain/decimal';
import { LocalEventBus } from '../../src/events/bus';
import { NavEngine, type NavUpdate } from '../../src/realtime/nav-engine';
import { SubscriptionStream } from '../../src/realtime/stream';
import type { LiveService } from '../../src/services/live';

/*
 * REALTIME_COALESCE_MS: a portfolio's updates are at least the window apart; the first change
 * after a quiet window goes out at once, the changes within the window as one (the last) at
 * its end. One portfolio: 10 shares of S (cost 100) and no cash, so NAV = 10 × price.
 */
const WINDOW = 1000;
const PID = 'p1';
const live = {
  latestFxRates: async () => [],
  load: async () => [
    {
      portfolioId: PID,
      baseCurrency: 'USD',
      positions: [{ securityId: 's1', symbol: 'S', currency: 'USD', quantity: new D(10), costBasis: new D(100), price: new D(10), priceTs: 1 }],
      cash: [],
      referenceNav: null,
      peakNav: null,
    },
  ],
} as unknown as LiveService;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('NAV coalescing', () => {
  let bus: LocalEventBus;
  let engine: NavEngine;
  let ts = 1000;
  const tick = (price: string) => bus.publish({ type: 'prices.ingested', prices: [{ securityId: 's1', symbol: 'S', price, ts: new Date(ts++).toISOString() }] });

  beforeEach(() => {
    bus = new LocalEventBus();
    engine = new NavEngine(live, bus, { warn: () => undefined, error: () => undefined }, WINDOW);
    engine.start();
  });
  afterEach(() => engine.stop());

  test('the first change of a quiet portfolio at once, a burst after it as its last value one window later', async () => {
    const got: { u: NavUpdate; at: number }[] = [];
    const stream = engine.subscribe(PID);
    stream.deliverTo((u) => {
      got.push({ u, at: performance.now() });
      stream.ready();
    });
    while (!got.length) await sleep(5);
    expect(got[0]!.u.nav).toBe('100');
    await sleep(WINDOW + 50);

    const t0 = performance.now();
    tick('11');
    while (got.length < 2 && performance.now() - t0 < WINDOW) await sleep(2);
    expect(got.map((g) => g.u.nav)).toEqual(['100', '110']);
    expect(got[1]!.at - t0).toBeLessThan(WINDOW / 2);

    tick('12');
    tick('13');
    await sleep(30);
    tick('14');
    await sleep(30);
    expect(got).toHaveLength(2);
    while (got.length < 3) await sleep(5);
    expect(got[2]!.u).toMatchObject({ nav: '140', previousNav: '110' });
    expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(WINDOW - 2);
    await sleep(WINDOW + 50);
    expect(got.map((g) => g.u.seq)).toEqual([1, 2, 3]);
  }, 15_000);

  test('a stream whose frame is not written yet keeps only the latest value per key', () => {
    const stream = new SubscriptionStream<{ k: string; v: number }>(() => undefined, (x) => x.k);
    const handed: number[] = [];
    stream.deliverTo((x) => handed.push(x.v));
    for (let v = 1; v <= 5; v++) stream.push({ k: 'a', v });
    expect(handed).toEqual([1]);
    expect(stream.backlog).toBe(1);
    stream.ready();
    expect(handed).toEqual([1, 5]);
    stream.ready();
    expect(stream.backlog).toBe(0);
    expect(stream.waiting).toBe(false);
  });
});
