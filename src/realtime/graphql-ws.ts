import { createSourceEventStream, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { Realtime } from './index';
import { SharedDelivery, type DeliveryOptions } from './delivery';
import { SubscriptionStream } from './stream';

export interface LiveSocketOptions<C> extends DeliveryOptions<C> {
  realtime: Realtime;
  /** Operations in flight on one socket; the next subscribe gets RATE_LIMITED (the socket stays open). */
  maxSubscriptions: number;
}

/**
 * graphql-ws's `subscribe`: the source event stream only. Its events are executed and sent
 * by SharedDelivery (attached in onOperation, where the socket and the operation id are known).
 */
async function sourceStream(args: ExecutionArgs): Promise<SubscriptionStream<object> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(source instanceof SubscriptionStream)) {
    if (Symbol.asyncIterator in source) throw new Error('subscription resolvers return a SubscriptionStream');
    return source;
  }
  // graphql-ws keeps these args for the subscription's lifetime; the subscribe's DataLoaders
  // are done with (every event gets fresh ones from perEventContext): let them go.
  const ctx = args.contextValue;
  if (ctx && typeof ctx === 'object' && 'loaders' in ctx) args.contextValue = { ...ctx, loaders: undefined };
  return source as SubscriptionStream<object>;
}

/**
 * The live parts of graphql-ws's options around the server's own: shared execution and
 * serialization (src/realtime/delivery.ts), the per-socket operation cap (checked before any
 * other onSubscribe work), the slow-consumer cut-off, and the engines in the context.
 */
export function withLiveOptions<P extends Record<string, unknown> | undefined, E extends { socket: WebSocket }, C extends object>(
  options: ServerOptions<P, E>,
  live: LiveSocketOptions<C> | undefined,
): ServerOptions<P, E> {
  if (!live) return options;
  const { onSubscribe, onOperation, onNext, context } = options;
  const delivery = new SharedDelivery(live);
  return {
    ...options,
    subscribe: sourceStream as ServerOptions<P, E>['subscribe'],
    context: async (ctx, id, payload, args) => {
      const base = typeof context === 'function' ? await context(ctx, id, payload, args) : context;
      return { ...(base as object), realtime: live.realtime } as never;
    },
    onSubscribe: async (ctx, id, payload) => {
      // graphql-ws has registered this id already: it counts.
      if (Object.keys(ctx.subscriptions).length > live.maxSubscriptions)
        return [new GraphQLError(`at most ${live.maxSubscriptions} operations at once on one socket`, { extensions: { code: 'RATE_LIMITED' } })];
      return onSubscribe?.(ctx, id, payload);
    },
    onOperation: (ctx, id, payload, args, result) => {
      // graphql-ws loops over the stream, which yields nothing once delivered directly and
      // ends (or throws) when the stream does: completion and errors stay graphql-ws's.
      // An id completed while subscribing is not attached: graphql-ws returns the stream.
      if (result instanceof SubscriptionStream && id in ctx.subscriptions) delivery.attach(ctx.extra.socket, id, args, result);
      return onOperation?.(ctx, id, payload, args, result);
    },
    // Queries and mutations over the socket still go out through graphql-ws's own `next`.
    onNext: (ctx, id, payload, args, result) => {
      const socket = ctx.extra.socket;
      if (socket.bufferedAmount > live.maxBufferBytes) {
        live.onSlowConsumer?.(socket.bufferedAmount);
        socket.terminate();
      }
      return onNext?.(ctx, id, payload, args, result);
    },
  };
}

/**
 * A subscription's next frame goes out only after its previous one reached the kernel, and
 * graphql-ws waits for each send before it handles the socket's next message, so a client
 * that stops reading holds at most a frame or two per operation in our memory (the kernel
 * buffers the rest): the byte limit rarely trips. What such a client
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

