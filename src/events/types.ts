/**
 * Domain events: what happened, published by services only after their transaction has
 * committed. Plain JSON (decimals as strings), so that they cross processes unchanged.
 */
export type DomainEvent =
  | { type: 'trade.booked'; portfolioId: string; transactionId: string; securityId: string | null; tradeDate: string }
  | { type: 'cash.moved'; portfolioId: string; transactionId: string; currency: string; tradeDate: string }
  | { type: 'order.updated'; portfolioId: string; orderId: string; status: string }
  | { type: 'prices.ingested'; prices: { securityId: string; symbol: string; price: string; ts: string }[] }
  | { type: 'fx.ingested'; rates: { base: string; quote: string; date: string; rate: string }[] }
  | { type: 'alert.triggered'; portfolioId: string; alertEventId: string }
  /**
   * A security's master data was edited (`changed`: the fields that differ). Valuations that
   * hold it, analytics and live NAVs read these fields, so every process drops what it derived
   * from the old values; the symbol never changes (it is the key an upsert matches on).
   */
  | { type: 'security.changed'; securityId: string; symbol: string; changed: string[] }
  /** A benchmark's name, currency, constituents or weights were edited: analytics that compare against it are recomputed. */
  | { type: 'benchmark.changed'; benchmarkId: string; code: string }
  /** An alert rule was created or changed: the alert engine (re)loads it. */
  | { type: 'alert.rules.changed'; portfolioId: string; ruleId: string }
  /** An API key revoked or a session ended: open sockets using it are closed at once. */
  | { type: 'credential.revoked'; apiKeyId?: string; sessionId?: string }
  /** A portfolio is now shared with this VIEWER: what was decided about who reads it is dropped. */
  | { type: 'portfolio.shared'; portfolioId: string; userId: string }
  /** A portfolio is no longer shared with this VIEWER: their subscriptions on it end at once. */
  | { type: 'portfolio.unshared'; portfolioId: string; userId: string }
  /**
   * From the Redis bus itself, not a service: events of other processes may have been lost
   * while Redis was unreachable, so what a cache kept on the word of events is dropped.
   */
  | { type: 'events.missed' };

export type DomainEventType = DomainEvent['type'];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;
