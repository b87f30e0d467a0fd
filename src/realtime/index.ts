import type { EventBus } from '../events/bus';
import type { Services } from '../services';
import type { PortfolioAudience } from '../services/access';
import { NavEngine, type NavUpdate } from './nav-engine';
import { AlertEngine } from './alert-engine';
import { SubscriptionStream } from './stream';

export type { NavUpdate } from './nav-engine';
export { SubscriptionStream } from './stream';

interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PriceTick {
  securityId: string;
  symbol: string;
  price: string;
  at: string;
}

export interface AlertTriggered {
  portfolioId: string;
  alertEventId: string;
}

export interface OrderUpdated {
  portfolioId: string;
  orderId: string;
  status: string;
}

/**
 * Everything live, for one process: the NAV and alert engines and the topics of the other
 * subscriptions. It only consumes bus events; services never call it.
 */
export class Realtime {
  readonly nav: NavEngine;
  readonly alerts: AlertEngine;
  private readonly orderSinks = new Map<string, Set<SubscriptionStream<OrderUpdated>>>();
  /** alertTriggered: each subscriber decides on each event's portfolio's audience. */
  private readonly alertSinks = new Set<{ accepts: (a: PortfolioAudience) => boolean; stream: SubscriptionStream<AlertTriggered> }>();
  /**
   * Who reads a portfolio that had an alert, as decided per event: one query per portfolio,
   * then memory, dropped when it is shared or unshared (or events may have been lost). A value
   * while known, the query's promise while it runs.
   */
  private readonly audiences = new Map<string, PortfolioAudience | Promise<PortfolioAudience | null>>();
  private readonly priceSinks = new Map<string, Set<SubscriptionStream<PriceTick>>>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly services: Services,
    private readonly bus: EventBus,
    private readonly log: Logger,
    opts: { coalesceMs: number },
  ) {
    this.nav = new NavEngine(services.live, bus, log, opts.coalesceMs);
    this.alerts = new AlertEngine(services.alerts, this.nav, bus, log);
  }

  async start(): Promise<void> {
    this.nav.start();
    await this.alerts.start();
    this.unsubscribe.push(
      this.bus.subscribe('order.updated', (e) => {
        const ev: OrderUpdated = { portfolioId: e.portfolioId, orderId: e.orderId, status: e.status };
        for (const s of this.orderSinks.get(e.portfolioId) ?? []) s.push(ev);
      }),
      this.bus.subscribe('alert.triggered', (e) => {
        if (!this.alertSinks.size) return;
        const ev: AlertTriggered = { portfolioId: e.portfolioId, alertEventId: e.alertEventId };
        const a = this.audienceOf(e.portfolioId);
        if (!(a instanceof Promise)) return this.pushAlert(ev, a);
        a.then((known) => known && this.pushAlert(ev, known)).catch((err: unknown) => this.log.error({ err, portfolioId: e.portfolioId }, 'realtime: reading who may see an alert failed'));
      }),
      this.bus.subscribe('portfolio.shared', (e) => this.audiences.delete(e.portfolioId)),
      this.bus.subscribe('portfolio.unshared', (e) => this.audiences.delete(e.portfolioId)),
      this.bus.subscribe('events.missed', () => this.audiences.clear()),
      this.bus.subscribe('prices.ingested', (e) => {
        for (const t of e.prices) {
          const sinks = this.priceSinks.get(t.symbol);
          if (!sinks) continue;
          const tick: PriceTick = { securityId: t.securityId, symbol: t.symbol, price: t.price, at: t.ts };
          for (const s of sinks) s.push(tick);
        }
      }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.alerts.stop();
    this.nav.stop();
  }

  navUpdates(portfolioId: string): SubscriptionStream<NavUpdate> {
    return this.nav.subscribe(portfolioId);
  }

  orderUpdates(portfolioId: string): SubscriptionStream<OrderUpdated> {
    const stream: SubscriptionStream<OrderUpdated> = new SubscriptionStream<OrderUpdated>(() => removeFrom(this.orderSinks, portfolioId, stream), null, 1000);
    addTo(this.orderSinks, portfolioId, stream);
    return stream;
  }

  private pushAlert(ev: AlertTriggered, a: PortfolioAudience): void {
    for (const s of this.alertSinks) if (s.accepts(a)) s.stream.push(ev);
  }

  private audienceOf(portfolioId: string): PortfolioAudience | Promise<PortfolioAudience | null> {
    const known = this.audiences.get(portfolioId);
    if (known) return known;
    const loading = this.services.alerts.audienceOf(portfolioId).then((a) => {
      // Kept only if nothing dropped it meanwhile (a share committed while this was read).
      if (this.audiences.get(portfolioId) === loading) {
        if (a) this.audiences.set(portfolioId, a);
        else this.audiences.delete(portfolioId);
      }
      return a;
    });
    loading.catch(() => {
      if (this.audiences.get(portfolioId) === loading) this.audiences.delete(portfolioId);
    });
    this.audiences.set(portfolioId, loading);
    return loading;
  }

  /** alertTriggered's stream: the events of the portfolios whose audience `accepts`, decided per event. */
  alertUpdates(accepts: (a: PortfolioAudience) => boolean): SubscriptionStream<AlertTriggered> {
    const entry = { accepts, stream: null as unknown as SubscriptionStream<AlertTriggered> };
    entry.stream = new SubscriptionStream<AlertTriggered>(() => this.alertSinks.delete(entry), null, 1000);
    this.alertSinks.add(entry);
    return entry.stream;
  }

  priceUpdates(symbols: readonly string[]): SubscriptionStream<PriceTick> {
    const set = [...new Set(symbols)];
    const stream: SubscriptionStream<PriceTick> = new SubscriptionStream<PriceTick>(
      () => {
        for (const s of set) removeFrom(this.priceSinks, s, stream);
      },
      (t) => t.symbol,
    );
    for (const s of set) addTo(this.priceSinks, s, stream);
    return stream;
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, k: K, v: V) {
  let s = map.get(k);
  if (!s) map.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, k: K, v: V) {
  const s = map.get(k);
  if (!s) return;
  s.delete(v);
  if (!s.size) map.delete(k);
}
