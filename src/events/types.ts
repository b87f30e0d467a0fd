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
  /** An alert rule was created or changed: the alert engine (re)loads it. */
  | { type: 'alert.rules.changed'; portfolioId: string; ruleId: string }
  /** An API key revoked or a session ended: open sockets using it are closed at once. */
  | { type: 'credential.revoked'; apiKeyId?: string; sessionId?: string }
  /** A portfolio is no longer shared with this VIEWER: their subscriptions on it end at once. */
  | { type: 'portfolio.unshared'; portfolioId: string; userId: string };

export type DomainEventType = DomainEvent['type'];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;
