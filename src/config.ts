import path from 'node:path';
import type { QueryLimits } from './graphql/limits';
import type { RateLimitConfig } from './server/rate-limit';
import type { WebhookOptions } from './services/webhooks';
import { appRoleUrl } from './db/app-role';
import { parseDayClose, type DayClose } from './domain/trading-day';

/** Every setting comes from the environment; `.env.example` lists them with their defaults. */
export interface Config {
  port: number;
  /** Migrations run with this connection (it owns the tables). */
  databaseUrl: string | undefined;
  /** The server's own connection on PostgreSQL: a role held to row-level security (src/db/app-role.ts). */
  databaseAppUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  bootstrapApiKey: string | undefined;
  seedDemo: boolean;
  marketSimulator: boolean;
  marketSimulatorIntervalMs: number;
  /** Simulated executions of open orders at the latest prices (src/services/paper-broker.ts). */
  paperBroker: boolean;
  /** When a DAY order's trading day ends (src/domain/trading-day.ts), and how often each process sweeps for expired ones. */
  orderDayClose: DayClose;
  orderExpiryPollMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  maxBodyBytes: number;
  wsMaxMessageBytes: number;
  shutdownTimeoutMs: number;
  /** A price older than this many calendar days before the valuation date is flagged STALE. */
  stalePriceDays: number;
  /** How long a valuation now may be served from memory at most; events drop it sooner (0: off). */
  valuationCacheTtlMs: number;
  production: boolean;
  /** GraphiQL at GET /graphql for browsers (src/server/web.ts); off answers 404 there. */
  ideEnabled: boolean;
  /** Live NAV updates of a burst within this window are delivered as one (the last). */
  realtimeCoalesceMs: number;
  /** Operations in flight on one WebSocket. */
  wsMaxSubscriptions: number;
  /** A WebSocket with more unsent bytes than this is cut off. */
  wsMaxBufferBytes: number;
  /** A WebSocket whose unsent bytes have not drained for this long is cut off (a client that stopped reading). */
  wsStallTimeoutMs: number;
  /** Sign-in (src/services/identity.ts): session lifetime and lockout after repeated failures. */
  sessionTtlMinutes: number;
  loginMaxAttempts: number;
  loginLockoutMinutes: number;
  /** Query limits on both transports (src/graphql/limits.ts). */
  queryLimits: QueryLimits;
  /** Rate limits (src/server/rate-limit.ts): in Redis when REDIS_URL is set, in memory otherwise. */
  rateLimits: RateLimitConfig;
  /** How often open sockets' credentials are re-checked (a revocation in this process closes them at once). */
  wsAuthRecheckMs: number;
  /** Alert webhooks (src/services/webhooks.ts): signing key, retries, per-attempt timeout, private receivers. */
  webhooks: WebhookOptions;
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return value === '1' || value.toLowerCase() === 'true';
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  const seedDemo = flag(env.SEED_DEMO, databaseUrl === undefined);
  const level = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new Error(`LOG_LEVEL "${level}" is not one of debug, info, warn, error, silent`);
  return {
    port: int('PORT', env.PORT, 4000),
    databaseUrl,
    databaseAppUrl: databaseUrl && (env.DATABASE_APP_URL || appRoleUrl(databaseUrl)),
    dataDir: path.resolve(env.DATA_DIR || './.data'),
    redisUrl: env.REDIS_URL || undefined,
    bootstrapApiKey: env.BOOTSTRAP_API_KEY || undefined,
    seedDemo,
    marketSimulator: flag(env.MARKET_SIMULATOR, seedDemo),
    marketSimulatorIntervalMs: Math.max(100, int('MARKET_SIMULATOR_INTERVAL_MS', env.MARKET_SIMULATOR_INTERVAL_MS, 5000)),
    paperBroker: flag(env.PAPER_BROKER, seedDemo),
    orderDayClose: parseDayClose(env.ORDER_DAY_TIMEZONE || 'UTC', env.ORDER_DAY_CLOSE || '24:00'),
    orderExpiryPollMs: Math.max(100, int('ORDER_EXPIRY_POLL_MS', env.ORDER_EXPIRY_POLL_MS, 60_000)),
    logLevel: level,
    // 16 MiB carries a full 100,000-row ingestPrices batch (about 12 MB), the mutation's own cap;
    // protocol messages on the WebSocket are small, so they keep a far lower bound.
    maxBodyBytes: int('MAX_BODY_BYTES', env.MAX_BODY_BYTES, 16 * 1024 * 1024),
    wsMaxMessageBytes: int('WS_MAX_MESSAGE_BYTES', env.WS_MAX_MESSAGE_BYTES, 1024 * 1024),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', env.SHUTDOWN_TIMEOUT_MS, 10_000),
    stalePriceDays: int('STALE_PRICE_DAYS', env.STALE_PRICE_DAYS, 5),
    valuationCacheTtlMs: int('VALUATION_CACHE_TTL_MS', env.VALUATION_CACHE_TTL_MS, 5000),
    production: env.NODE_ENV === 'production',
    ideEnabled: flag(env.IDE_ENABLED, true),
    realtimeCoalesceMs: int('REALTIME_COALESCE_MS', env.REALTIME_COALESCE_MS, 50),
    wsMaxSubscriptions: Math.max(1, int('WS_MAX_SUBSCRIPTIONS', env.WS_MAX_SUBSCRIPTIONS, 100)),
    wsMaxBufferBytes: Math.max(1024, int('WS_MAX_BUFFER_BYTES', env.WS_MAX_BUFFER_BYTES, 4 * 1024 * 1024)),
    wsStallTimeoutMs: Math.max(250, int('WS_STALL_TIMEOUT_MS', env.WS_STALL_TIMEOUT_MS, 30_000)),
    sessionTtlMinutes: Math.max(1, int('SESSION_TTL_MINUTES', env.SESSION_TTL_MINUTES, 60)),
    loginMaxAttempts: Math.max(1, int('LOGIN_MAX_ATTEMPTS', env.LOGIN_MAX_ATTEMPTS, 5)),
    loginLockoutMinutes: Math.max(1, int('LOGIN_LOCKOUT_MINUTES', env.LOGIN_LOCKOUT_MINUTES, 15)),
    queryLimits: {
      maxDepth: Math.max(1, int('QUERY_MAX_DEPTH', env.QUERY_MAX_DEPTH, 10)),
      maxAliases: int('QUERY_MAX_ALIASES', env.QUERY_MAX_ALIASES, 30),
      maxOperations: Math.max(1, int('QUERY_MAX_OPERATIONS', env.QUERY_MAX_OPERATIONS, 5)),
      maxCost: Math.max(1, int('QUERY_MAX_COST', env.QUERY_MAX_COST, 10_000)),
      listSize: Math.max(1, int('QUERY_LIST_SIZE', env.QUERY_LIST_SIZE, 10)),
      // Off in production unless asked for; on elsewhere unless INTROSPECTION=0.
      introspection: flag(env.INTROSPECTION, env.NODE_ENV !== 'production'),
    },
    rateLimits: {
      windowSeconds: Math.max(1, int('RATE_LIMIT_WINDOW_SECONDS', env.RATE_LIMIT_WINDOW_SECONDS, 60)),
      perKey: int('RATE_LIMIT_PER_KEY', env.RATE_LIMIT_PER_KEY, 600),
      perIp: int('RATE_LIMIT_PER_IP', env.RATE_LIMIT_PER_IP, 1200),
      wsConnectionsPerKey: int('WS_MAX_CONNECTIONS_PER_KEY', env.WS_MAX_CONNECTIONS_PER_KEY, 20),
    },
    wsAuthRecheckMs: Math.max(100, int('WS_AUTH_RECHECK_MS', env.WS_AUTH_RECHECK_MS, 1000)),
    webhooks: {
      secret: env.WEBHOOK_SECRET || undefined,
      maxAttempts: Math.max(1, int('WEBHOOK_MAX_ATTEMPTS', env.WEBHOOK_MAX_ATTEMPTS, 5)),
      backoffMs: int('WEBHOOK_BACKOFF_MS', env.WEBHOOK_BACKOFF_MS, 1000),
      timeoutMs: Math.max(100, int('WEBHOOK_TIMEOUT_MS', env.WEBHOOK_TIMEOUT_MS, 10_000)),
      pollMs: Math.max(20, int('WEBHOOK_POLL_MS', env.WEBHOOK_POLL_MS, 1000)),
      allowPrivate: flag(env.WEBHOOK_ALLOW_PRIVATE, false),
    },
  };
}
