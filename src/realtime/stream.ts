/**
 * The per-subscription buffer between the realtime engine and a socket. A value goes out
 * only after the previous one was written to the socket, so a subscriber that does not read
 * stops taking values and they wait here: keyed by `keyOf`, a newer value replaces a waiting
 * one of the same key (the latest NAV per portfolio, the latest price per symbol), so a
 * lagging socket holds at most one value per key. Unkeyed streams (alerts, orders) hold at
 * most `max` values and drop the oldest beyond it (alerts stay replayable through `alertEvents`).
 *
 * Two consumers: pulled as an async iterator (graphql-ws's own loop), or pushed to one
 * `deliver` callback (the socket path of src/realtime/delivery.ts), which calls `ready()`
 * when it may take the next value. With a `deliver` callback the iterator yields nothing
 * and ends when the stream closes (graphql-ws then completes the operation), or throws
 * what `fail` was given (graphql-ws sends it as the operation's error).
 */
export class SubscriptionStream<T> implements AsyncIterableIterator<T> {
  private pending: Map<unknown, T> | null = null;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void } | null = null;
  private deliver: ((value: T) => void) | null = null;
  private busy = false;
  private done = false;
  private failure: unknown = undefined;
  private seq = 0;
  private closeHooks: (() => void)[] | null = null;
  dropped = 0;

  constructor(
    private readonly onClose: () => void,
    private readonly keyOf: ((value: T) => unknown) | null = null,
    private readonly max = 1000,
  ) {}

  push(value: T): void {
    if (this.done) return;
    if (this.deliver) {
      if (!this.busy) {
        this.busy = true;
        this.deliver(value);
        return;
      }
    } else if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value, done: false });
      return;
    }
    const pending = (this.pending ??= new Map());
    const key = this.keyOf ? this.keyOf(value) : ++this.seq;
    if (pending.has(key)) {
      // Re-inserted: it goes out in the order of its latest arrival.
      pending.delete(key);
    } else if (pending.size >= this.max) {
      pending.delete(pending.keys().next().value);
      this.dropped++;
    }
    pending.set(key, value);
  }

  get backlog(): number {
    return this.pending?.size ?? 0;
  }

  /** A value handed to `deliver` is not written yet. */
  get waiting(): boolean {
    return this.busy;
  }

  /** Values go to `deliver` from now on, one at a time (what waits already goes first). */
  deliverTo(deliver: (value: T) => void): void {
    this.deliver = deliver;
    this.ready();
  }

  /** The value handed to `deliver` is written: hand it the next one waiting, if any. */
  ready(): void {
    this.busy = false;
    const value = this.take();
    if (value === undefined || !this.deliver) return;
    this.busy = true;
    this.deliver(value);
  }

  private take(): T | undefined {
    if (this.done || !this.pending?.size) return undefined;
    const [key, value] = this.pending.entries().next().value as [unknown, T];
    this.pending.delete(key);
    return value;
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.deliver) {
      const value = this.take();
      if (value !== undefined) return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(err);
  }

  /** Ends the stream with an error: its iterator throws `err`. */
  fail(err: unknown): void {
    if (this.done) return;
    this.failure = err ?? new Error('subscription failed');
    const w = this.waiter;
    this.waiter = null;
    this.close();
    w?.reject(this.failure);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.pending = null;
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ value: undefined, done: true });
    this.onClose();
    for (const hook of this.closeHooks ?? []) hook();
    this.closeHooks = null;
  }

  /** `hook` runs when the stream closes (at once if it has), after the engine's own `onClose`. */
  onClosed(hook: () => void): void {
    if (this.done) hook();
    else (this.closeHooks ??= []).push(hook);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
