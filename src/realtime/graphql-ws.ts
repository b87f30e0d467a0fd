import { createSourceEventStream, execute, GraphQLError, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { Realtime } from './index';

export interface LiveSocketOptions<C> {
  realtime: Realtime;
  /** Operations in flight on one socket; the next subscribe gets RATE_LIMITED (the socket stays open). */
  maxSubscriptions: number;
  /** A socket whose unsent bytes pass this is cut off (it is not reading). */
  maxBufferBytes: number;
  /** A per-event context: fresh DataLoaders for every event, never the subscribe's. */
  perEventContext: (base: C) => C;
  onSlowConsumer?: (bufferedAmount: number) => void;
}

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> => v != null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';

/**
 * graphql-ws's `subscribe`, with one execution per event shared by every subscriber with the
 * same document, operation and variables. graphql-js would run the selection set once per
 * subscriber per event (~80 µs each); the engine hands every subscriber of a portfolio the
 * same event object, so the first subscriber to pull it executes and the others reuse the
 * result (the cache hangs off the event, and goes when the event does). Access was checked
 * per subscriber when it subscribed, and the selection under an event does not depend on who
 * asks. Each execution gets a fresh context (fresh DataLoaders).
 */
export function sharedSubscribe<C>(perEventContext: (base: C) => C) {
  const docKeys = new WeakMap<DocumentNode, string>();
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source as ExecutionResult;
    // graphql-ws keeps these args for the subscription's lifetime; the subscribe's DataLoaders
    // are done with (every event gets fresh ones from perEventContext): let them go.
    const ctx = args.contextValue;
    if (ctx && typeof ctx === 'object' && 'loaders' in ctx) args.contextValue = { ...ctx, loaders: undefined };
    let doc = docKeys.get(args.document);
    if (doc === undefined) docKeys.set(args.document, (doc = print(args.document)));
    const key = `${doc}\0${args.operationName ?? ''}\0${JSON.stringify(args.variableValues ?? {})}`;
    const it = source[Symbol.asyncIterator]();
    const run = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
      if (event === null || typeof event !== 'object') return execute({ ...args, rootValue: event, contextValue: perEventContext(args.contextValue as C) });
      let perEvent = results.get(event);
      if (!perEvent) results.set(event, (perEvent = new Map()));
      let r = perEvent.get(key);
      if (!r) {
        r = execute({ ...args, rootValue: event, contextValue: perEventContext(args.contextValue as C) });
        perEvent.set(key, r);
      }
      return r;
    };
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const r = await it.next();
        if (r.done) return { value: undefined, done: true };
        return { value: await run(r.value), done: false };
      },
      async return() {
        await it.return?.();
        return { value: undefined, done: true };
      },
      async throw(err?: unknown) {
        await it.return?.();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return mapped;
      },
    };
    return mapped;
  };
}

const documents = new Map<string, DocumentNode>();
const MAX_DOCUMENTS = 500;

/** The first DocumentNode parsed from this query text (the text determines the AST); bounded, oldest out. */
function internDocument(query: string, parsed: DocumentNode): DocumentNode {
  const known = documents.get(query);
  if (known) return known;
  if (documents.size >= MAX_DOCUMENTS) documents.delete(documents.keys().next().value!);
  documents.set(query, parsed);
  return parsed;
}

/**
 * The live parts of graphql-ws's options around the server's own: shared execution, the
 * per-socket operation cap (checked before any other onSubscribe work), the slow-consumer
 * cut-off, and the engines in the context.
 */
export function withLiveOptions<P extends Record<string, unknown> | undefined, E extends { socket: WebSocket }, C extends object>(
  options: ServerOptions<P, E>,
  live: LiveSocketOptions<C> | undefined,
): ServerOptions<P, E> {
  if (!live) return options;
  const { onSubscribe, onNext, context } = options;
  return {
    ...options,
    subscribe: sharedSubscribe(live.perEventContext) as ServerOptions<P, E>['subscribe'],
    context: async (ctx, id, payload, args) => {
      const base = typeof context === 'function' ? await context(ctx, id, payload, args) : context;
      return { ...(base as object), realtime: live.realtime } as never;
    },
    onSubscribe: async (ctx, id, payload) => {
      // graphql-ws has registered this id already: it counts.
      if (Object.keys(ctx.subscriptions).length > live.maxSubscriptions)
        return [new GraphQLError(`at most ${live.maxSubscriptions} operations at once on one socket`, { extensions: { code: 'RATE_LIMITED' } })];
      const r = await onSubscribe?.(ctx, id, payload);
      // Subscribers of the same query text share one DocumentNode: one AST (with its token
      // list) held instead of one per subscription, and the shared-execution key printed once.
      if (r && 'document' in r && typeof payload.query === 'string') r.document = internDocument(payload.query, r.document);
      return r;
    },
    onNext: (ctx, id, payload, args, result) => {
      const socket = ctx.extra.socket;
      if (socket.bufferedAmount > live.maxBufferBytes) {
        live.onSlowConsumer?.(socket.bufferedAmount);
        // A close frame would queue behind the unread bytes: cut the connection.
        socket.terminate();
      }
      return onNext?.(ctx, id, payload, args, result);
    },
  };
}

/**
 * graphql-ws waits for each send to reach the kernel before it handles the socket's next
 * message, so a client that stops reading holds at most a message or two in our memory
 * (the kernel buffers the rest): the byte limit in onNext rarely trips. What such a client
 * still holds is its socket and the operations waiting on it; a socket whose pending bytes
 * have not drained for `stallMs` is cut off.
 */
export function cutStalledSockets(sockets: () => Iterable<WebSocket>, stallMs: number, onCut: (bufferedAmount: number) => void): () => void {
  const EVERY_MS = 250;
  const stalledFor = new WeakMap<WebSocket, { pending: number; ms: number }>();
  const timer = setInterval(() => {
    for (const socket of sockets()) {
      const pending = socket.bufferedAmount;
      const last = stalledFor.get(socket);
      // Draining (fewer bytes pending than at the last look) resets the clock.
      if (pending === 0 || (last && pending < last.pending)) {
        stalledFor.delete(socket);
        continue;
      }
      const ms = (last?.ms ?? 0) + EVERY_MS;
      stalledFor.set(socket, { pending, ms });
      if (ms >= stallMs) {
        onCut(pending);
        socket.terminate();
      }
    }
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

