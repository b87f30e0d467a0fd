import type { DomainEvent, DomainEventType, EventOf } from './types';

export type Handler<T extends DomainEventType> = (event: EventOf<T>) => void;

export interface EventBus {
  /** Never throws and never waits: services publish after their commit, and the write stands whatever the bus does. */
  publish(event: DomainEvent): void;
  subscribe<T extends DomainEventType>(type: T, handler: Handler<T>): () => void;
  /** Cross-process buses: whether fan-out currently works (readiness reports it). */
  status?(): 'ok' | 'degraded';
  close?(): Promise<void>;
}

/**
 * In-process bus: delivery is deferred to a microtask, so a publisher (a service that
 * has just committed) never waits for, or fails because of, a subscriber.
 */
export class LocalEventBus implements EventBus {
  private readonly handlers = new Map<DomainEventType, Set<(event: DomainEvent) => void>>();

  constructor(private readonly onError: (err: unknown, event: DomainEvent) => void = () => undefined) {}

  publish(event: DomainEvent): void {
    const handlers = this.handlers.get(event.type);
    if (!handlers?.size) return;
    queueMicrotask(() => {
      for (const handler of handlers) {
        try {
          handler(event);
        } catch (err) {
          this.onError(err, event);
        }
      }
    });
  }

  subscribe<T extends DomainEventType>(type: T, handler: Handler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const h = handler as (event: DomainEvent) => void;
    set.add(h);
    return () => set.delete(h);
  }
}
