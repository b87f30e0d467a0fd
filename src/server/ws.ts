import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { getOperationAST, GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Actor, RequestMeta, Services } from '../services';
import { createLoaders, type GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/errors';
import type { Metrics } from './metrics';
import { actorFromAuthorization, credentialOf } from './auth';
import { rateLimitedError, type RateLimits } from './rate-limit';
import type { EventBus } from '../events/bus';
import { cutStalledSockets, withLiveOptions, type LiveSocketOptions } from '../realtime/graphql-ws';
import { costRefusal, limitRules, type QueryLimits } from '../graphql/limits';
import { asOperationUser, asSocketUser, OpenSubscriptions } from './ws-principal';

type SocketState = {
  actor?: Actor;
  meta?: RequestMeta;
  /** The credential's hash, what rate limits count by. */
  credential?: string;
  slot?: { release(): Promise<void>; refresh(): Promise<void> };
};

const MAX_DOCUMENTS = 500;
/** Query text kept in all: what the cached ASTs are made from, bounded whatever the message size allows. */
const MAX_DOCUMENT_CHARS = 1 << 20;

/** Documents by query text: at most MAX_DOCUMENTS, and MAX_DOCUMENT_CHARS of text in all; the oldest go first. */
class DocumentCache {
  private readonly byText = new Map<string, DocumentNode>();
  private chars = 0;

  get(text: string): DocumentNode | undefined {
    return this.byText.get(text);
  }

  set(text: string, document: DocumentNode): void {
    if (text.length > MAX_DOCUMENT_CHARS || this.byText.has(text)) return;
    while (this.byText.size >= MAX_DOCUMENTS || this.chars + text.length > MAX_DOCUMENT_CHARS) {
      const oldest = this.byText.keys().next().value!;
      this.byText.delete(oldest);
      this.chars -= oldest.length;
    }
    this.byText.set(text, document);
    this.chars += text.length;
  }
}

/**
 * graphql-ws on the HTTP server's port and path. A socket must authenticate in
 * `connection_init` (`connectionParams.authorization`); otherwise onConnect refuses it
 * and graphql-ws closes it with 4403 Forbidden.
 */
export function attachWebSocket(opts: { server: http.Server; schema: GraphQLSchema; services: Services; db: Database; log: Logger; metrics: Metrics; maxPayload: number; rateLimits: RateLimits; bus: EventBus; authRecheckMs: number; stallTimeoutMs: number; live?: Pick<LiveSocketOptions<GraphQLContext>, 'realtime' | 'maxSubscriptions' | 'maxBufferBytes'>; limits: QueryLimits }) {
  const { server, schema, services, db, log, metrics } = opts;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: opts.maxPayload });
  wss.on('connection', (socket) => {
    metrics.wsConnections.inc();
    socket.once('close', () => metrics.wsConnections.dec());
  });
  // graphql-ws validates on its own: the same limits as Apollo's, and every error coded as Apollo codes it.
  const rules = [...specifiedRules, ...limitRules(opts.limits)];
  const validateWithLimits: typeof validate = (s, document) =>
    validate(s, document, rules).map((e) => (e.extensions.code ? e : new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })));
  // Documents that parsed and passed validation, by query text (what they depend on, with the
  // schema and the rules, which are fixed), as Apollo's document store does over HTTP: a text
  // subscribed again (the live case: one document, many sockets and variables) is not parsed
  // and validated again — that was ~175 KiB of garbage per subscribe, most of what a burst
  // of subscribes allocated — and its subscribers share one DocumentNode (one AST held, and
  // the key of the live delivery's shared execution). Invalid texts are not kept.
  const validDocuments = new DocumentCache();
  const format = (errors: readonly Error[]) => errors.map((e) => formatError({ message: e.message, ...(e as { toJSON?: () => object }).toJSON?.() }, e, (err) => log.error({ err }, 'unexpected error')));

  // Open, authenticated sockets, so that a revoked credential can close them (4403).
  const open = new Map<WebSocket, SocketState>();
  const forbid = (matches: (actor: Actor) => boolean) => {
    for (const [socket, state] of open) {
      if (state.actor && matches(state.actor)) {
        open.delete(socket);
        socket.close(4403, 'Forbidden: credential revoked or expired');
      }
    }
  };
  // At once on a revocation published on the bus (across processes with the Redis bus)…
  const unsubscribeRevoked = opts.bus.subscribe('credential.revoked', (e) =>
    forbid((a) => (!!e.apiKeyId && a.apiKeyId === e.apiKeyId) || (!!e.sessionId && a.sessionId === e.sessionId)),
  );
  // A portfolio unshared from a VIEWER: their subscriptions on it end at once (the socket stays).
  const subscriptions = new OpenSubscriptions();
  const unsubscribeUnshared = opts.bus.subscribe('portfolio.unshared', (e) => subscriptions.endFor(e.userId, e.portfolioId));
  // …and by a periodic re-check of every open socket's credential in one batch (expiry,
  // deactivated users, revocations this process did not hear of); socket slots refreshed meanwhile.
  let checking = false;
  let ticks = 0;
  const recheck = setInterval(async () => {
    if (checking || !open.size) return;
    checking = true;
    try {
      const states = [...open.values()];
      const apiKeyIds = [...new Set(states.map((s) => s.actor?.apiKeyId).filter((id): id is string => !!id))];
      const sessionIds = [...new Set(states.map((s) => s.actor?.sessionId).filter((id): id is string => !!id))];
      const invalid = await services.identity.invalidCredentials({ apiKeyIds, sessionIds });
      forbid((a) => (!!a.apiKeyId && invalid.apiKeyIds.has(a.apiKeyId)) || (!!a.sessionId && invalid.sessionIds.has(a.sessionId)));
      if (++ticks * opts.authRecheckMs >= 20_000) {
        ticks = 0;
        await Promise.all([...open.values()].map((s) => s.slot?.refresh().catch(() => undefined)));
      }
    } catch (err) {
      log.warn({ err }, 'websocket: credential re-check failed');
    } finally {
      checking = false;
    }
  }, opts.authRecheckMs);
  recheck.unref();

  const graphqlWs = useServer<Record<string, unknown> | undefined, SocketState>(
    // Live subscriptions: shared execution per event, per-socket cap, slow-consumer cut-off (src/realtime/graphql-ws.ts);
    // every operation runs as the socket's user (src/server/ws-principal.ts).
    asSocketUser(withLiveOptions({
      schema,
      validate: validateWithLimits,
      // The cost limit needs the variables, which `validate` does not get: parsed and validated
      // here (as Apollo does: validation errors first, then cost), and handed to graphql-ws ready to run.
      onSubscribe: async (ctx, _id, payload) => {
        const verdict = await opts.rateLimits.operation(ctx.extra.credential ?? null, ctx.extra.meta?.ip);
        if (!verdict.allowed) {
          const e = rateLimitedError(verdict.retryAfterSeconds);
          return [new GraphQLError(e.message, { extensions: e.extensions })];
        }
        let document = validDocuments.get(payload.query);
        if (!document) {
          try {
            document = parse(payload.query);
          } catch (err) {
            return [err instanceof GraphQLError ? new GraphQLError(err.message, { nodes: err.nodes, source: err.source, positions: err.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }) : new GraphQLError('the query could not be parsed', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
          }
          const invalid = validateWithLimits(schema, document);
          if (invalid.length) return invalid;
          validDocuments.set(payload.query, document);
        }
        const refused = costRefusal(schema, document, payload.variables, payload.operationName, opts.limits);
        if (refused) return [refused];
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName };
      },
      onConnect: async (ctx) => {
        const req = ctx.extra.request;
        const meta: RequestMeta = { requestId: randomUUID(), ip: req.socket.remoteAddress, userAgent: req.headers['user-agent']?.slice(0, 300) };
        try {
          const actor = await actorFromAuthorization(services, { actor: null, meta }, ctx.connectionParams?.authorization);
          if (!actor) return false;
          const credential = credentialOf(ctx.connectionParams?.authorization)!;
          const slot = await opts.rateLimits.openSocket(credential);
          const socket = ctx.extra.socket;
          if (!slot) {
            // 4429, not 4403: the client is told to back off rather than to bring a new credential.
            socket.close(4429, `too many open sockets for this key (at most ${opts.rateLimits.config.wsConnectionsPerKey})`);
            return false;
          }
          Object.assign(ctx.extra, { actor, meta, credential, slot });
          open.set(socket, ctx.extra);
          socket.once('close', () => {
            open.delete(socket);
            void slot.release().catch(() => undefined);
          });
          if (socket.readyState !== socket.OPEN) {
            open.delete(socket);
            void slot.release().catch(() => undefined);
          }
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx): GraphQLContext => ({
        services,
        request: { actor: ctx.extra.actor ?? null, meta: { ...ctx.extra.meta!, requestId: randomUUID() } },
        loaders: createLoaders(db.prisma),
      }),
      // Queries and mutations over the socket (subscription events are counted by the live delivery, in batches).
      onNext: (_ctx, _id, _payload, args, result) => {
        metrics.graphqlOperations.inc({ transport: 'ws', type: getOperationAST(args.document, args.operationName)?.operation ?? 'unknown', outcome: result.errors?.length ? 'error' : 'ok' });
        return result.errors ? { ...result, errors: format(result.errors) } : undefined;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
    }, opts.live && {
      ...opts.live,
      perEventContext: (c: GraphQLContext) => ({ ...c, loaders: createLoaders(db.prisma) }),
      formatErrors: format,
      executeAs: asOperationUser,
      onSlowConsumer: (bytes) => log.warn({ bufferedAmount: bytes }, 'websocket: slow consumer cut off'),
      onDelivered: (ok, failed) => {
        if (ok) metrics.graphqlOperations.inc({ transport: 'ws', type: 'subscription', outcome: 'ok' }, ok);
        if (failed) metrics.graphqlOperations.inc({ transport: 'ws', type: 'subscription', outcome: 'error' }, failed);
      },
    }), subscriptions),
    wss,
  );
  const stopStallWatch = cutStalledSockets(() => wss.clients, opts.stallTimeoutMs, (bytes) => log.warn({ bufferedAmount: bytes }, 'websocket: stalled consumer cut off'));

  return {
    /**
     * Closes every socket with 1001 (Going Away). A client that does not finish the close
     * handshake within `graceMs` is cut off, so shutdown never waits on a peer.
     */
    close: async (graceMs: number) => {
      clearInterval(recheck);
      stopStallWatch();
      unsubscribeRevoked();
      unsubscribeUnshared();
      const disposed = graphqlWs.dispose();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([disposed, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const socket of wss.clients) socket.terminate();
      await disposed;
    },
  };
}
