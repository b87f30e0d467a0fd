import { execute as graphqlExecute, subscribe as graphqlSubscribe, type ExecutionArgs } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { withPrincipal } from '../db/principal';
import type { GraphQLContext } from '../graphql/context';

const isAsyncIterator = (v: unknown): v is AsyncIterableIterator<unknown> => v != null && typeof (v as AsyncIterator<unknown>).next === 'function';

function principalOf(args: ExecutionArgs): string {
  return (args.contextValue as GraphQLContext | undefined)?.request.actor?.userId ?? '';
}

/**
 * graphql-ws runs a socket's operations from the socket's message handler, and pulls each
 * subscription event from its own loop: neither is inside a scope of the socket's user. Each
 * execution, and each pull of a subscription's next event, runs here as the user the socket
 * authenticated as (src/db/principal.ts), so that the database holds them to that user's rows.
 */
export function asSocketUser<P extends Record<string, unknown> | undefined, E>(options: ServerOptions<P, E>): ServerOptions<P, E> {
  const execute = options.execute ?? graphqlExecute;
  const subscribe = options.subscribe ?? graphqlSubscribe;
  return {
    ...options,
    execute: (args) => withPrincipal(principalOf(args), () => execute(args)) as ReturnType<NonNullable<ServerOptions<P, E>['execute']>>,
    subscribe: async (args) => {
      const principal = principalOf(args);
      const result = await withPrincipal(principal, () => subscribe(args));
      if (!isAsyncIterator(result)) return result;
      const scoped: AsyncIterableIterator<unknown> = {
        next: () => withPrincipal(principal, () => result.next()),
        return: () => withPrincipal(principal, () => result.return?.() ?? { value: undefined, done: true as const }),
        throw: (err?: unknown) => withPrincipal(principal, () => (result.throw ? result.throw(err) : Promise.reject(err))),
        [Symbol.asyncIterator]: () => scoped,
      };
      return scoped as Awaited<ReturnType<NonNullable<ServerOptions<P, E>['subscribe']>>>;
    },
  };
}
