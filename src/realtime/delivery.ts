import type { Duplex } from 'node:stream';
import { execute, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { WebSocket } from 'ws';
import type { SubscriptionStream } from './stream';
import { compileLeafExecution, type LeafExecution } from './leaf-execution';
import { textFrame } from './ws-frame';

export interface DeliveryOptions<C> {
  /** A socket whose unsent bytes pass this is cut off (it is not reading). */
  maxBufferBytes: number;
  /** A per-event context: fresh DataLoaders for every event, never the subscribe's. */
  perEventContext: (base: C) => C;
  /** Errors of a result as the server formats them everywhere else. */
  formatErrors: (errors: readonly GraphQLError[]) => GraphQLFormattedError[];
  /** Runs a shared execution on behalf of the subscriber whose args it has (the database holds it to that user's rows). */
  executeAs: <R>(args: ExecutionArgs, run: () => R) => R;
  onSlowConsumer?: (bufferedAmount: number) => void;
  /** Messages sent since the last call, with and without errors (counted in batches, not per message). */
  onDelivered?: (ok: number, failed: number) => void;
}

/**
 * What the subscribers with the same document, operation and variables share: the key of
 * their shared results and the compiled execution (built by the first of them, dropped with
 * the last).
 */
interface Plan {
  key: string;
  leaf: LeafExecution | null;
  subscribers: number;
}

/** A shared result, serialized: the `payload` of a graphql-ws `next` message as JSON (and its UTF-8). */
interface Serialized {
  json: string;
  bytes: Buffer;
  failed: boolean;
}

const CLOSING_BRACE = Buffer.from('}');

/**
 * graphql-ws's `next` path for subscription streams, with one execution and one
 * serialization per event shared by every subscriber with the same document, operation and
 * variables. graphql-ws would execute the selection set, validate and stringify the message
 * once per subscriber (~80 µs each); here the first subscriber an event reaches executes and
 * serializes, and every subscriber's frame is its prefix (`{"id":…,"type":"next","payload":`)
 * and that JSON: byte for byte what graphql-ws sends. The cache hangs off the event object
 * (the engine hands all subscribers of a portfolio the same one), so it goes with the event.
 * Access was checked per subscriber when it subscribed, and the selection under an event does
 * not depend on who asks (every subscriber an event reaches may read its portfolio), so it runs
 * as the first subscriber it reaches (`executeAs`). Each execution gets a fresh context (fresh DataLoaders).
 *
 * A subscription of the usual live shape (one root field selecting scalars) executes
 * through `compileLeafExecution`: its variables and arguments are resolved once, when the
 * first subscriber with that document and those variables starts, not on every event, and
 * the compiled plan is shared by them all (one held per portfolio's NAV, not one per socket).
 *
 * A stream hands over its next value only after the previous frame was written (its buffer
 * keeps the latest per key meanwhile), as graphql-ws's own loop did. Each frame is built
 * here, header and payload in one buffer, and written to the socket's TCP stream (the server
 * negotiates no extension, so `ws` would write the same bytes; a socket that did negotiate
 * one goes through `ws.send`). The frames of one synchronous fan-out are corked per socket
 * and leave in one write.
 */
export class SharedDelivery<C> {
  private readonly docIds = new WeakMap<DocumentNode, number>();
  private readonly plans = new Map<string, Plan>();
  private readonly results = new WeakMap<object, Map<string, Serialized | Promise<Serialized>>>();
  private readonly corked = new Set<Duplex>();
  private ok = 0;
  private failed = 0;
  private flushScheduled = false;
  private nextDocId = 0;

  constructor(private readonly options: DeliveryOptions<C>) {}

  /** From now on, what `stream` yields goes to `socket` as `next` messages of operation `id`. */
  attach(socket: WebSocket, id: string, args: ExecutionArgs, stream: SubscriptionStream<object>): void {
    const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    const prefixBytes = Buffer.from(prefix);
    const { key, leaf } = this.planOf(args, stream);
    const raw = socket.extensions ? null : rawSocketOf(socket);
    const written = () => stream.ready();
    const send = (s: Serialized) => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > this.options.maxBufferBytes) {
        this.options.onSlowConsumer?.(socket.bufferedAmount);
        // A close frame would queue behind the unread bytes: cut the connection.
        socket.terminate();
        return;
      }
      this.cork(socket);
      if (s.failed) this.failed++;
      else this.ok++;
      if (raw) raw.write(textFrame([prefixBytes, s.bytes, CLOSING_BRACE]), written);
      else socket.send(`${prefix}${s.json}}`, written);
    };
    stream.deliverTo((event) => {
      const r = this.serialized(event, key, args, leaf);
      if (!(r instanceof Promise)) return send(r);
      r.then(send, (err: unknown) => stream.fail(err));
    });
  }

  /** The plan of `args`' document, operation and variables, held until `stream` closes. */
  private planOf(args: ExecutionArgs, stream: SubscriptionStream<object>): Plan {
    let doc = this.docIds.get(args.document);
    if (doc === undefined) this.docIds.set(args.document, (doc = this.nextDocId++));
    const key = `${doc}\0${args.operationName ?? ''}\0${JSON.stringify(args.variableValues ?? {})}`;
    let plan = this.plans.get(key);
    if (!plan) {
      // Compiled without the first subscriber's context and root (every event gets its own),
      // so that a plan outliving that subscriber does not keep them.
      plan = { key, leaf: compileLeafExecution({ ...args, contextValue: undefined, rootValue: undefined }), subscribers: 0 };
      this.plans.set(key, plan);
    }
    plan.subscribers++;
    const held = plan;
    stream.onClosed(() => {
      if (--held.subscribers === 0 && this.plans.get(held.key) === held) this.plans.delete(held.key);
    });
    return plan;
  }

  private serialized(event: object, key: string, args: ExecutionArgs, leaf: LeafExecution | null): Serialized | Promise<Serialized> {
    let perEvent = this.results.get(event);
    if (!perEvent) this.results.set(event, (perEvent = new Map()));
    let r = perEvent.get(key);
    if (!r) {
      const result = this.options.executeAs(args, () => this.execute(event, args, leaf));
      r = isPromise(result) ? result.then((x) => this.serialize(x)) : this.serialize(result);
      perEvent.set(key, r);
    }
    return r;
  }

  private execute(event: object, args: ExecutionArgs, leaf: LeafExecution | null): ExecutionResult | Promise<ExecutionResult> {
    const contextValue = this.options.perEventContext(args.contextValue as C);
    const full = () => execute({ ...args, rootValue: event, contextValue });
    const r = leaf?.(event, contextValue) ?? null;
    if (r === null) return full();
    return isPromise(r) ? r.then((x) => x ?? this.options.executeAs(args, full)) : r;
  }

  private serialize(result: ExecutionResult): Serialized {
    if (!result.errors?.length) return serialized(JSON.stringify(result), false);
    const { errors, ...rest } = result;
    return serialized(JSON.stringify({ ...rest, errors: this.options.formatErrors(errors) }), true);
  }

  private cork(socket: WebSocket): void {
    const raw = rawSocketOf(socket);
    if (raw && !this.corked.has(raw)) {
      raw.cork();
      this.corked.add(raw);
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const raw of this.corked) raw.uncork();
    this.corked.clear();
    const { ok, failed } = this;
    this.ok = this.failed = 0;
    this.options.onDelivered?.(ok, failed);
  }
}

const serialized = (json: string, failed: boolean): Serialized => ({ json, bytes: Buffer.from(json), failed });

/** The TCP stream under a `ws` socket. */
function rawSocketOf(socket: WebSocket): Duplex | undefined {
  return (socket as unknown as { _socket?: Duplex })._socket;
}

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => v instanceof Promise;
