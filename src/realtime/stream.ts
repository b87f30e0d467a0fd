/**
 * The per-subscription buffer between the realtime engine and graphql-ws. graphql-ws pulls
 * the next value only after the previous one was written to the socket, so a subscriber
 * that does not read stops pulling and its values wait here: keyed by `keyOf`, a newer value
 * replaces a waiting one of the same key (the latest NAV per portfolio, the latest price per
 * symbol), so a lagging socket holds at most one value per key. Unkeyed streams (alerts,
 * orders) hold at most `max` values and drop the oldest beyond it (alerts stay replayable
 * through `alertEvents`).
 */
export class SubscriptionStream<T> implements AsyncIterableIterator<T> {
  private readonly pending = new Map<unknown, T>();
  private waiter: ((r: IteratorResult<T>) => void) | null = null;
  private done = false;
  private seq = 0;
  dropped = 0;

  constructor(
    private readonly onClose: () => void,
    private readonly keyOf: ((value: T) => unknown) | null = null,
    private readonly max = 1000,
  ) {}

  push(value: T): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value, done: false });
      return;
    }
    const key = this.keyOf ? this.keyOf(value) : ++this.seq;
    if (this.pending.has(key)) {
      // Re-inserted: it goes out in the order of its latest arrival.
      this.pending.delete(key);
    } else if (this.pending.size >= this.max) {
      this.pending.delete(this.pending.keys().next().value);
      this.dropped++;
    }
    this.pending.set(key, value);
  }

  get backlog(): number {
    return this.pending.size;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.pending.size) {
      const [key, value] = this.pending.entries().next().value as [unknown, T];
      this.pending.delete(key);
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(err);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.pending.clear();
    const w = this.waiter;
    this.waiter = null;
    w?.({ value: undefined, done: true });
    this.onClose();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
