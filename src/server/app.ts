import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request } from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { createServices, type RequestMeta, type Services } from '../services';
import type { EventBus } from '../events/bus';
import { createEventBus } from '../events/redis-bus';
import { buildSchema } from '../graphql/schema';
import { createLoaders, type GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/errors';
import { createMetrics, type Metrics } from './metrics';
import { actorFromAuthorization } from './auth';
import { attachWebSocket } from './ws';
import { mountWeb } from './web';
import { Realtime } from '../realtime';
import { WebhookWorker } from '../services/webhooks';
import { OrderExpiryWorker } from '../services/order-expiry';
import { limitRules } from '../graphql/limits';
import { queryCostPlugin } from './query-limits';
import { compiledExecution } from './compiled-execution';
import { createRateLimitStore, httpRateLimit, RateLimits } from './rate-limit';
import { credentialOf } from './auth';
import { becomeUser, inRequestScope, withoutPrincipal } from '../db/principal';
import { assertHeldToPolicies } from '../db/app-role';

export interface App {
  server: http.Server;
  services: Services;
  bus: EventBus;
  realtime: Realtime;
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes sockets. The database stays open. */
  stop(): Promise<void>;
}

const KNOWN_ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics']);

function requestMeta(req: Request): RequestMeta {
  const header = req.get('x-request-id');
  return {
    requestId: header && /^[\w.-]{1,100}$/.test(header) ? header : randomUUID(),
    ip: req.ip,
    userAgent: req.get('user-agent')?.slice(0, 300),
  };
}

/** One log line and one metric per GraphQL operation over HTTP. */
function operationLogging(log: Logger, metrics: Metrics): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, operationName, errors, response }) {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const failed = errors?.length || (response.body.kind === 'single' && response.body.singleResult.errors?.length);
          metrics.graphqlOperations.inc({ transport: 'http', type: operation?.operation ?? 'unknown', outcome: failed ? 'error' : 'ok' });
          log.info({ requestId: contextValue.request.meta.requestId, userId: contextValue.request.actor?.userId, operation: operationName ?? null, type: operation?.operation, ms: Math.round(ms * 10) / 10, errors: failed || 0 }, 'graphql');
        },
      };
    },
  };
}

/**
 * The server over an open database. Whatever principal the caller runs under, the server's
 * background work (engines, workers, timers) does not inherit it: each says in code what it
 * runs as (src/db/principal.ts), and each request starts with nobody.
 */
export function createApp(opts: { config: Config; db: Database; log: Logger }): Promise<App> {
  return withoutPrincipal(() => buildApp(opts));
}

async function buildApp({ config, db, log }: { config: Config; db: Database; log: Logger }): Promise<App> {
  await assertHeldToPolicies(db);
  const bus = await createEventBus(config.redisUrl, log);
  const services = createServices(db.prisma, bus, {
    identity: { sessionTtlMinutes: config.sessionTtlMinutes, loginMaxAttempts: config.loginMaxAttempts, loginLockoutMinutes: config.loginLockoutMinutes },
    valuation: { stalePriceDays: config.stalePriceDays, cacheTtlMs: config.valuationCacheTtlMs },
    webhooks: config.webhooks,
    orderDayClose: config.orderDayClose,
  });
  const schema = buildSchema();
  const metrics = createMetrics();
  const app = express();
  const server = http.createServer(app);
  const rateLimits = new RateLimits(config.rateLimits, createRateLimitStore(config.redisUrl, log));
  let stopping = false;

  const realtime = new Realtime(services, bus, log, { coalesceMs: config.realtimeCoalesceMs });
  await realtime.start();
  // Alert webhooks: every process runs a worker; claims in the database keep them from sending one twice.
  const webhooks = new WebhookWorker(services.webhooks, bus, log).start();
  // DAY orders: every process sweeps; the conditional UPDATE expires each order once.
  const orderExpiry = new OrderExpiryWorker(services.orderExpiry, config.orderExpiryPollMs, log).start();
  const ws = attachWebSocket({ server, schema, services, db, log, metrics, maxPayload: config.wsMaxMessageBytes, live: { realtime, maxSubscriptions: config.wsMaxSubscriptions, maxBufferBytes: config.wsMaxBufferBytes }, limits: config.queryLimits, rateLimits, bus, authRecheckMs: config.wsAuthRecheckMs, stallTimeoutMs: config.wsStallTimeoutMs });

  const apollo = new ApolloServer<GraphQLContext>({
    // The schema, executed by compiled queries where a client repeats one (compiled-execution.ts).
    gateway: compiledExecution(schema),
    csrfPrevention: true,
    // main.ts owns the signals: Apollo's own handler would stop it a second time and re-raise the signal.
    stopOnTerminationSignals: false,
    introspection: config.queryLimits.introspection,
    // One operation per request: a batch would multiply every per-request limit.
    allowBatchedHttpRequests: false,
    validationRules: limitRules(config.queryLimits),
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => formatError(formatted, error, (err) => log.error({ err }, 'unexpected error')),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: config.shutdownTimeoutMs }),
      ApolloServerPluginLandingPageDisabled(),
      // The default cache-control plugin hooks willResolveField, which makes Apollo wrap every
      // field resolver of the schema (a 1,000-holding valuation has ~9,000 leaf fields); no
      // type carries a cache hint, so it only ever answered no-store, which /graphql sets below.
      ApolloServerPluginCacheControlDisabled(),
      operationLogging(log, metrics),
      queryCostPlugin(schema, config.queryLimits),
    ],
  });
  await apollo.start();

  app.disable('x-powered-by');
  // No ETag on what res.send answers (GraphQL, health, metrics): /graphql is no-store, so no
  // client keeps a body to revalidate, and hashing a 200 KB valuation took ~0.4 ms a request.
  // Static files (express.static, sendFile) keep theirs.
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use((req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    // Captured now: a mounted router rewrites req.path before the response finishes.
    const route = KNOWN_ROUTES.has(req.path) ? req.path : 'other';
    res.on('finish', () => {
      stop({ method: req.method, route });
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (stopping) {
      res.status(503).json({ status: 'stopping' });
      return;
    }
    try {
      await withTimeout(db.prisma.$queryRaw`SELECT 1`, 2000);
      // Redis down is degraded, not unready: this process still serves queries, writes and
      // its own subscribers; only fan-out to other processes waits for Redis to return.
      res.json({ status: 'ready', database: 'ok', engine: db.engine, ...(bus.status ? { redis: bus.status() } : {}) });
    } catch (err) {
      log.warn({ err }, 'readiness: database did not answer');
      res.status(503).json({ status: 'unavailable', database: 'down' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // The dashboard at /, GraphiQL at GET /graphql for browsers, their bundles under /assets.
  mountWeb(app, { ideEnabled: config.ideEnabled });

  app.use(
    '/graphql',
    (_req, res, next) => {
      // Portfolio data is private to the caller: never stored by a shared cache.
      res.setHeader('cache-control', 'no-store');
      next();
    },
    httpRateLimit(rateLimits, credentialOf, log),
    express.json({ limit: config.maxBodyBytes }),
    // Here, after the body is read (its stream events would leave the scope), the request's database principal starts empty.
    (_req, _res, next) => inRequestScope(next),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const request = { actor: null, meta: requestMeta(req) };
        try {
          const actor = await actorFromAuthorization(services, request, req.headers.authorization);
          becomeUser(actor?.userId ?? null);
          return { services, request: { ...request, actor }, loaders: createLoaders(db.prisma) };
        } catch (err) {
          // The whole request is refused: 401 with the coded error.
          throw Object.assign(err as Error, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
        }
      },
    }),
  );

  const bodyErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, next) => {
    if (err?.type === 'entity.too.large') {
      res.status(413).json({ errors: [{ message: `request body exceeds ${config.maxBodyBytes} bytes`, extensions: { code: 'BAD_USER_INPUT' } }] });
    } else if (err?.type === 'entity.parse.failed') {
      res.status(400).json({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
    } else {
      next(err);
    }
  };
  app.use(bodyErrors);

  return {
    server,
    services,
    bus,
    realtime,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as { port: number }).port));
      }),
    stop: async () => {
      stopping = true;
      // Sockets first: the HTTP drain would otherwise end their TCP connections under them.
      await ws.close(Math.min(2000, config.shutdownTimeoutMs));
      await apollo.stop();
      await rateLimits.close();
      realtime.stop();
      await webhooks.stop();
      await orderExpiry.stop();
      await bus.close?.();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
