import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import Redis from 'ioredis';
import type { Logger } from '../logger';

export interface RateLimitConfig {
  /** Length of the fixed window HTTP and socket operations are counted in. */
  windowSeconds: number;
  /** Operations per window for one credential (API key or session token); 0: no limit. */
  perKey: number;
  /** Operations per window from one IP address; 0: no limit. */
  perIp: number;
  /** Open WebSockets for one credential; 0: no limit. */
  wsConnectionsPerKey: number;
}

export interface Verdict {
  allowed: boolean;
  /** Whole seconds until the window that refused this ends (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * Counters behind the rate limits: in Redis when REDIS_URL is set, so that the limits hold
 * across server processes, and in memory otherwise. A Redis that does not answer falls back to
 * the process's own counters (limits then hold per process) rather than refusing everyone.
 */
export interface RateLimitStore {
  /** Counts one hit in the fixed window of `key`. */
  hit(key: string, limit: number, windowMs: number): Promise<Verdict>;
  /** Takes one of `max` slots under `key` for `member` (a socket), held for `ttlMs` unless refreshed. */
  acquire(key: string, member: string, max: number, ttlMs: number): Promise<boolean>;
  refresh(key: string, member: string, ttlMs: number): Promise<void>;
  release(key: string, member: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly slots = new Map<string, Map<string, number>>();
  private readonly sweeper = setInterval(() => this.sweep(), 30_000).unref();

  async hit(key: string, limit: number, windowMs: number): Promise<Verdict> {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) this.windows.set(key, (w = { count: 0, resetAt: now + windowMs }));
    w.count++;
    return w.count <= limit ? { allowed: true, retryAfterSeconds: 0 } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  async acquire(key: string, member: string, max: number, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    let held = this.slots.get(key);
    if (!held) this.slots.set(key, (held = new Map()));
    for (const [m, until] of held) if (until <= now) held.delete(m);
    if (!held.has(member) && held.size >= max) return false;
    held.set(member, now + ttlMs);
    return true;
  }

  async refresh(key: string, member: string, ttlMs: number): Promise<void> {
    const held = this.slots.get(key);
    if (held?.has(member)) held.set(member, Date.now() + ttlMs);
  }

  async release(key: string, member: string): Promise<void> {
    const held = this.slots.get(key);
    held?.delete(member);
    if (held && !held.size) this.slots.delete(key);
  }

  private sweep() {
    const now = Date.now();
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    for (const [k, held] of this.slots) {
      for (const [m, until] of held) if (until <= now) held.delete(m);
      if (!held.size) this.slots.delete(k);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}

// One round trip each: the count and the window's remaining time, the window set on its first hit.
const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;
// Slots are a sorted set of members scored by when they lapse; lapsed ones (a crashed process's) are dropped first.
const ACQUIRE = `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis;
  private readonly fallback = new MemoryRateLimitStore();
  private warned = false;

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly prefix = 'fg:rl:',
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500, lazyConnect: false });
    this.redis.on('error', (err) => this.warn(err));
    this.redis.on('ready', () => (this.warned = false));
  }

  private warn(err: unknown) {
    if (this.warned) return;
    this.warned = true;
    this.log.warn({ err }, 'rate limits: Redis unavailable, counting in this process only');
  }

  private async guarded<T>(redis: () => Promise<T>, memory: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') return memory();
    try {
      return await redis();
    } catch (err) {
      this.warn(err);
      return memory();
    }
  }

  hit(key: string, limit: number, windowMs: number): Promise<Verdict> {
    return this.guarded(
      async () => {
        const [n, ttl] = (await this.redis.eval(HIT, 1, this.prefix + key, windowMs)) as [number, number];
        return n <= limit ? { allowed: true, retryAfterSeconds: 0 } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
      },
      () => this.fallback.hit(key, limit, windowMs),
    );
  }

  acquire(key: string, member: string, max: number, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    return this.guarded(
      async () => (await this.redis.eval(ACQUIRE, 1, this.prefix + key, now, now + ttlMs, member, max, ttlMs * 2)) === 1,
      () => this.fallback.acquire(key, member, max, ttlMs),
    );
  }

  refresh(key: string, member: string, ttlMs: number): Promise<void> {
    return this.guarded(
      async () => {
        await this.redis.zadd(this.prefix + key, 'XX', Date.now() + ttlMs, member);
        await this.redis.pexpire(this.prefix + key, ttlMs * 2);
      },
      () => this.fallback.refresh(key, member, ttlMs),
    );
  }

  release(key: string, member: string): Promise<void> {
    return this.guarded(
      async () => {
        await this.redis.zrem(this.prefix + key, member);
      },
      () => this.fallback.release(key, member),
    );
  }

  async close(): Promise<void> {
    await this.fallback.close();
    this.redis.disconnect();
  }
}

export function createRateLimitStore(redisUrl: string | undefined, log: Logger): RateLimitStore {
  return redisUrl ? new RedisRateLimitStore(redisUrl, log) : new MemoryRateLimitStore();
}

/** The limits as the server applies them: HTTP and socket operations per credential and per IP, sockets per credential. */
export class RateLimits {
  /** A socket's slot lapses this long after its last refresh (a crashed process's sockets free up). */
  static readonly SLOT_TTL_MS = 60_000;

  constructor(
    readonly config: RateLimitConfig,
    private readonly store: RateLimitStore,
  ) {}

  /** One operation by `credential` (a hash, or null when anonymous) from `ip`. */
  async operation(credential: string | null, ip: string | undefined): Promise<Verdict> {
    const windowMs = this.config.windowSeconds * 1000;
    const checks: Promise<Verdict>[] = [];
    if (this.config.perIp > 0 && ip) checks.push(this.store.hit(`ip:${ip}`, this.config.perIp, windowMs));
    if (this.config.perKey > 0 && credential) checks.push(this.store.hit(`key:${credential}`, this.config.perKey, windowMs));
    const verdicts = await Promise.all(checks);
    const refused = verdicts.filter((v) => !v.allowed);
    return refused.length ? { allowed: false, retryAfterSeconds: Math.max(...refused.map((v) => v.retryAfterSeconds)) } : { allowed: true, retryAfterSeconds: 0 };
  }

  /** A socket for `credential`: a slot, or false when the credential has as many open as allowed. */
  async openSocket(credential: string): Promise<{ release(): Promise<void>; refresh(): Promise<void> } | false> {
    if (this.config.wsConnectionsPerKey <= 0) return { release: async () => undefined, refresh: async () => undefined };
    const key = `ws:${credential}`;
    const member = randomUUID();
    if (!(await this.store.acquire(key, member, this.config.wsConnectionsPerKey, RateLimits.SLOT_TTL_MS))) return false;
    return { release: () => this.store.release(key, member), refresh: () => this.store.refresh(key, member, RateLimits.SLOT_TTL_MS) };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/**
 * HTTP operations per credential and per IP, counted before the body is read or the key
 * looked up: a flood costs a counter, not a database query. Over the limit: 429 with
 * Retry-After and a RATE_LIMITED error carrying `retryAfterSeconds`.
 */
export function httpRateLimit(limits: RateLimits, credentialOf: (authorization: unknown) => string | null, log: Logger): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    limits.operation(credentialOf(req.headers.authorization), req.ip).then(
      (verdict) => {
        if (verdict.allowed) return next();
        res.status(429).setHeader('retry-after', String(verdict.retryAfterSeconds));
        res.json({ errors: [rateLimitedError(verdict.retryAfterSeconds)] });
      },
      (err: unknown) => {
        log.error({ err }, 'rate limit check failed');
        next();
      },
    );
  };
}

export function rateLimitedError(retryAfterSeconds: number, message = `too many requests: retry after ${retryAfterSeconds} s`) {
  return { message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds } };
}
