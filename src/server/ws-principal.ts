import { execute as graphqlExecute, getOperationAST, Kind, subscribe as graphqlSubscribe, type ExecutionArgs } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { inPrincipalScope, withPrincipal } from '../db/principal';
import type { GraphQLContext } from '../graphql/context';
import { SubscriptionStream } from '../realtime/stream';

const isAsyncIterator = (v: unknown): v is AsyncIterableIterator<unknown> => v != null && typeof (v as AsyncIterator<unknown>).next === 'function';

function principalOf(args: ExecutionArgs): string {
  return (args.contextValue as GraphQLContext | undefined)?.request.actor?.userId ?? '';
}

/** Runs `run` as the user whose operation `args` is. */
export function asOperationUser<R>(args: ExecutionArgs, run: () => R): R {
  return inPrincipalScope(principalOf(args), run);
}

/** The portfolios a subscription names (its root fields' `portfolioId` arguments, inline or as variables). */
function portfoliosOf(args: ExecutionArgs): string[] {
  const op = getOperationAST(args.document, args.operationName);
  const ids: string[] = [];
  for (const sel of op?.selectionSet.selections ?? []) {
    if (sel.kind !== Kind.FIELD) continue;
    for (const arg of sel.arguments ?? []) {
      if (arg.name.value !== 'portfolioId') continue;
      const v = arg.value.kind === Kind.VARIABLE ? args.variableValues?.[arg.value.name.value] : arg.value.kind === Kind.STRING ? arg.value.value : undefined;
      if (typeof v === 'string') ids.push(v);
    }
  }
  return ids;
}

/**
 * Open subscriptions by user and portfolio, so that ending a user's access to a portfolio
 * (an unshare) ends their subscriptions on it at once: graphql-ws completes each, the socket
 * and the user's other subscriptions stay.
 */
export class OpenSubscriptions {
  private readonly byUser = new Map<string, Set<{ portfolios: string[]; end: () => void }>>();

  add(userId: string, portfolios: string[], end: () => void): () => void {
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    const entry = { portfolios, end };
    set.add(entry);
    return () => {
      set.delete(entry);
      if (!set.size && this.byUser.get(userId) === set) this.byUser.delete(userId);
    };
  }

  endFor(userId: string, portfolioId: string): void {
    for (const entry of [...(this.byUser.get(userId) ?? [])]) if (entry.portfolios.includes(portfolioId)) entry.end();
  }
}

/**
 * graphql-ws runs a socket's operations from the socket's message handler, and pulls each
 * subscription event from its own loop: neither is inside a scope of the socket's user. Each
 * execution, and each pull of a subscription's next event, runs here as the user the socket
 * authenticated as (src/db/principal.ts), so that the database holds them to that user's rows.
 */
export function asSocketUser<P extends Record<string, unknown> | undefined, E>(options: ServerOptions<P, E>, open: OpenSubscriptions): ServerOptions<P, E> {
  const execute = options.execute ?? graphqlExecute;
  const subscribe = options.subscribe ?? graphqlSubscribe;
  return {
    ...options,
    execute: (args) => asOperationUser(args, () => execute(args)) as ReturnType<NonNullable<ServerOptions<P, E>['execute']>>,
    subscribe: async (args) => {
      const principal = principalOf(args);
      const result = await withPrincipal(principal, () => subscribe(args));
      if (!isAsyncIterator(result)) return result;
      const portfolios = portfoliosOf(args);
      // A live stream is pushed to its socket by the shared delivery, which runs each execution
      // as its user itself (asOperationUser); graphql-ws's pull only waits for the end.
      if (result instanceof SubscriptionStream) {
        if (principal && portfolios.length) result.onClosed(open.add(principal, portfolios, () => result.close()));
        return result;
      }
      let forget = () => undefined as void;
      const scoped: AsyncIterableIterator<unknown> = {
        next: () => withPrincipal(principal, () => result.next()),
        return: () => {
          forget();
          return withPrincipal(principal, () => result.return?.() ?? { value: undefined, done: true as const });
        },
        throw: (err?: unknown) => {
          forget();
          return withPrincipal(principal, () => (result.throw ? result.throw(err) : Promise.reject(err)));
        },
        [Symbol.asyncIterator]: () => scoped,
      };
      if (principal && portfolios.length) forget = open.add(principal, portfolios, () => void scoped.return!());
      return scoped as Awaited<ReturnType<NonNullable<ServerOptions<P, E>['subscribe']>>>;
    },
  };
}
