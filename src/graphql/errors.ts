import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError } from '../domain/errors';

/** The codes a client can cause; anything else is ours and is masked. */
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'RATE_LIMITED',
]);

/** A DomainError (from src/domain or a service) becomes a GraphQL error carrying its code. */
export function toGraphQLError(err: unknown): unknown {
  if (err instanceof DomainError) return new GraphQLError(err.message, { extensions: { code: err.code }, originalError: err });
  return err;
}

/**
 * The last step before an error leaves the server, over HTTP and WebSocket alike.
 * A scalar that refused a literal keeps its BAD_USER_INPUT even though graphql-js reports
 * it during validation; an unexpected error is logged and replaced by a generic message.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: (err: unknown) => void): GraphQLFormattedError {
  const original = (error as GraphQLError | undefined)?.originalError as GraphQLError | undefined;
  const originalCode = original?.extensions?.code ?? (original instanceof DomainError ? original.code : undefined);
  const code = typeof originalCode === 'string' && CLIENT_CODES.has(originalCode) ? originalCode : formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    // Apollo prefixes errors thrown while building the context; the client needs only the reason.
    const message = formatted.message.replace(/^Context creation failed: /, '');
    // A rate-limited client learns when to come back.
    const retryAfter = (original?.extensions ?? formatted.extensions)?.retryAfterSeconds;
    return { message, locations: formatted.locations, path: formatted.path, extensions: typeof retryAfter === 'number' ? { code, retryAfterSeconds: retryAfter } : { code } };
  }
  log(original ?? error);
  return { message: 'internal error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
