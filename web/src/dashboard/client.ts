import { createClient, type Client } from 'graphql-ws';
import { bearer, httpUrl, wsUrl } from '../shared/key';

/** A document the client preset generated (or a plain string), with its result and variables types. */
export interface Doc<R, V> {
  toString(): string;
  /** Phantom: carries the types only. */
  __apiType?: (variables: V) => R;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
  /** The server does not know the operation's fields (a feature not deployed yet). */
  get unsupported(): boolean {
    return this.code === 'GRAPHQL_VALIDATION_FAILED' || /Cannot query field|Unknown type/.test(this.message);
  }
}

interface Wire<R> {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export function toError(errors: readonly { message: string; extensions?: { code?: string } | Record<string, unknown> }[], status = 200): ApiError {
  const first = errors[0];
  return new ApiError(first?.message ?? 'request failed', (first?.extensions as { code?: string } | undefined)?.code, status);
}

export async function request<R, V>(key: string, doc: Doc<R, V> | string, variables?: V): Promise<R> {
  const res = await fetch(httpUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: bearer(key) },
    body: JSON.stringify({ query: doc.toString(), variables }),
  });
  const body = (await res.json().catch(() => ({ errors: [{ message: `HTTP ${res.status}` }] }))) as Wire<R>;
  if (body.errors?.length) throw toError(body.errors, res.status);
  if (!body.data) throw new ApiError(`HTTP ${res.status}`, undefined, res.status);
  return body.data;
}

export function socket(key: string): Client {
  return createClient({ url: wsUrl(), lazy: true, retryAttempts: Infinity, connectionParams: { authorization: bearer(key) }, shouldRetry: () => true });
}

/**
 * Subscribes; `onData` gets each event. `onUnsupported` is called when the server refuses the
 * operation itself (a server without live updates, or a refused subscribe), so the caller can
 * fall back to polling.
 */
export function subscribe<R, V>(client: Client, doc: Doc<R, V>, variables: V, onData: (data: R) => void, onUnsupported: (err: ApiError) => void): () => void {
  return client.subscribe<R>(
    { query: doc.toString(), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (result.errors?.length) onUnsupported(toError(result.errors));
        else if (result.data) onData(result.data as R);
      },
      error: (err) => {
        if (Array.isArray(err)) onUnsupported(toError(err as { message: string }[]));
      },
      complete: () => undefined,
    },
  );
}
