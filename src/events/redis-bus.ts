import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { DomainEvent, DomainEventType } from './types';
import { LocalEventBus, type EventBus, type Handler } from './bus';

export interface BusLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Envelope {
  /** The publishing process: it has already delivered the event locally. */
  origin: string;
  event: DomainEvent;
}

/**
 * Domain events across server processes through Redis pub/sub, on two connections (a
 * subscribed connection cannot publish). An event is delivered to this process's handlers
 * at once (the in-process bus) and published on the channel; a process skips the copy that
 * comes back with its own id, so every process handles every event exactly once.
 *
 * Redis never breaks a write: publishing does not wait, and fails fast while Redis is down
 * (no offline queue, so nothing piles up in memory) with a warning; readiness reports
 * `redis: "degraded"`. ioredis reconnects and re-subscribes by itself, and fan-out resumes.
 * Events published while Redis was down are lost for other processes, by design of pub/sub;
 * alerts are durable rows. So that no cache keeps, for longer than the outage, what such an
 * event should have dropped, each process hears `events.missed` when fan-out may have lost
 * something: from its own subscription once it is back, and from a process whose publishes
 * failed once that one can publish again.
 */
export class RedisEventBus implements EventBus {
  readonly processId = randomUUID();
  private readonly local: LocalEventBus;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private lastPublishFailure = 0;
  /** A publish has failed since the publishing connection was last ready. */
  private unsent = false;
  private closed = false;

  constructor(
    url: string,
    private readonly log: BusLogger,
    private readonly channel = 'foliograph:events',
  ) {
    this.local = new LocalEventBus((err, event) => log.error({ err, event: event.type }, 'event handler failed'));
    const retryStrategy = (times: number) => (this.closed ? null : Math.min(100 * times, 2000));
    this.pub = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy, lazyConnect: true });
    this.sub = new Redis(url, { maxRetriesPerRequest: null, retryStrategy, lazyConnect: true });
    for (const [name, conn] of [['pub', this.pub], ['sub', this.sub]] as const) {
      conn.on('error', (err: Error) => this.warnThrottled(name, err));
      conn.on('ready', () => log.info({ connection: name }, 'redis connected'));
    }
    this.sub.on('message', (_channel: string, message: string) => this.receive(message));
  }

  /** Connects both connections and subscribes; resolves after at most `timeoutMs` either way (a Redis that is down is retried in the background). */
  async start(timeoutMs = 3000): Promise<void> {
    const ready = Promise.all([this.pub.connect().catch(() => undefined), this.sub.connect().then(() => this.sub.subscribe(this.channel)).catch(() => undefined)]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    // A subscribe that failed while Redis was down is made again by ioredis' auto-resubscribe
    // only if it had succeeded once: make sure the channel is subscribed on every (re)connect.
    this.sub.on('ready', () => void this.sub.subscribe(this.channel).then(() => this.local.publish(MISSED), () => undefined));
    this.pub.on('ready', () => {
      if (!this.unsent) return;
      this.unsent = false;
      this.send(MISSED);
    });
  }

  publish(event: DomainEvent): void {
    this.local.publish(event);
    this.send(event);
  }

  /** To the other processes. Publishers call this after their commit: nothing here may throw into them or wait. */
  private send(event: DomainEvent): void {
    const failed = (err: Error) => {
      this.unsent = true;
      this.warnThrottled('publish', err, event.type);
    };
    if (this.pub.status !== 'ready') return failed(new Error(`redis is ${this.pub.status}`));
    try {
      const envelope: Envelope = { origin: this.processId, event };
      this.pub.publish(this.channel, JSON.stringify(envelope)).catch(failed);
    } catch (err) {
      failed(err as Error);
    }
  }

  subscribe<T extends DomainEventType>(type: T, handler: Handler<T>): () => void {
    return this.local.subscribe(type, handler);
  }

  /** `ok` when both connections are up and subscribed, else `degraded`. */
  status(): 'ok' | 'degraded' {
    return this.pub.status === 'ready' && this.sub.status === 'ready' ? 'ok' : 'degraded';
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      this.log.warn({}, 'redis bus: message is not JSON; ignored');
      return;
    }
    if (!envelope || envelope.origin === this.processId || typeof envelope.event?.type !== 'string') return;
    this.local.publish(envelope.event);
  }

  /** One warning per 5 s while Redis is away, not one per event. */
  private warnThrottled(what: string, err: Error, event?: string) {
    const now = Date.now();
    if (now - this.lastPublishFailure < 5000) return;
    this.lastPublishFailure = now;
    this.log.warn({ err: err.message, what, event }, 'redis bus degraded: events reach this process only');
  }
}

const MISSED: DomainEvent = { type: 'events.missed' };

/** The Redis bus when `redisUrl` is set, else the in-process one. */
export async function createEventBus(redisUrl: string | undefined, log: BusLogger): Promise<EventBus> {
  if (!redisUrl) return new LocalEventBus((err, event) => log.error({ err, event: event.type }, 'event handler failed'));
  const bus = new RedisEventBus(redisUrl, log);
  await bus.start();
  if (bus.status() !== 'ok') log.warn({}, 'redis is not reachable yet: serving with in-process events, retrying in the background');
  return bus;
}
