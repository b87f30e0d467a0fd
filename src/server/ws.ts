import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { getOperationAST, GraphQLError, parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Actor, RequestMeta, Services } from '../services';
import { createLoaders, type GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/errors';
import type { Metrics } from './metrics';
import { actorFromAuthorization } from './auth';
import { withLiveOptions, type LiveSocketOptions } from '../realtime/graphql-ws';
import { costRefusal, limitRules, type QueryLimits } from '../graphql/limits';

type SocketState = {
  actor?: Actor;
  meta?: RequestMeta;
};

/**
 * graphql-ws on the HTTP server's port and path. A socket must authenticate in
 * `connection_init` (`connectionParams.authorization`); otherwise onConnect refuses it
 * and graphql-ws closes it with 4403 Forbidden.
 */
export function attachWebSocket(opts: { server: http.Server; schema: GraphQLSchema; services: Services; db: Database; log: Logger; metrics: Metrics; maxPayload: number; live?: Omit<LiveSocketOptions<GraphQLContext>, 'perEventContext' | 'onSlowConsumer'>; limits: QueryLimits }) {
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
  const format = (errors: readonly Error[]) => errors.map((e) => formatError({ message: e.message, ...(e as { toJSON?: () => object }).toJSON?.() }, e, (err) => log.error({ err }, 'unexpected error')));

  const graphqlWs = useServer<Record<string, unknown> | undefined, SocketState>(
    // Live subscriptions: shared execution per event, per-socket cap, slow-consumer cut-off (src/realtime/graphql-ws.ts).
    withLiveOptions({
      schema,
      validate: validateWithLimits,
      // The cost limit needs the variables, which `validate` does not get: parsed and validated
      // here (as Apollo does: validation errors first, then cost), and handed to graphql-ws ready to run.
      onSubscribe: (_ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? new GraphQLError(err.message, { nodes: err.nodes, source: err.source, positions: err.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }) : new GraphQLError('the query could not be parsed', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const invalid = validateWithLimits(schema, document);
        if (invalid.length) return invalid;
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
          Object.assign(ctx.extra, { actor, meta });
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
      onNext: (_ctx, _id, _payload, args, result) => {
        metrics.graphqlOperations.inc({ transport: 'ws', type: getOperationAST(args.document, args.operationName)?.operation ?? 'unknown', outcome: result.errors?.length ? 'error' : 'ok' });
        return result.errors ? { ...result, errors: format(result.errors) } : undefined;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
    }, opts.live && {
      ...opts.live,
      perEventContext: (c: GraphQLContext) => ({ ...c, loaders: createLoaders(db.prisma) }),
      onSlowConsumer: (bytes) => log.warn({ bufferedAmount: bytes }, 'websocket: slow consumer cut off'),
    }),
    wss,
  );

  return {
    /**
     * Closes every socket with 1001 (Going Away). A client that does not finish the close
     * handshake within `graceMs` is cut off, so shutdown never waits on a peer.
     */
    close: async (graceMs: number) => {
      const disposed = graphqlWs.dispose();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([disposed, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const socket of wss.clients) socket.terminate();
      await disposed;
    },
  };
}
