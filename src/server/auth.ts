import { DomainError } from '../domain/errors';
import { hashApiKey } from '../services/identity';
import type { Actor, ServiceContext, Services } from '../services';

/**
 * The actor behind an `Authorization` value ("Bearer <api key or session token>"), null when there is
 * none. A value that is present but wrong is refused, never treated as anonymous.
 */
export async function actorFromAuthorization(services: Services, ctx: ServiceContext, authorization: unknown): Promise<Actor | null> {
  if (authorization === undefined || authorization === null || authorization === '') return null;
  const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization.trim()) : null;
  if (!match?.[1]) throw new DomainError('UNAUTHENTICATED', 'Authorization must be "Bearer <api key or session token>"');
  return services.identity.authenticate(ctx, match[1]);
}

/**
 * What rate limits count a caller by: the hash of its bearer credential (API key or session
 * token), known without a database lookup; null when there is none.
 */
export function credentialOf(authorization: unknown): string | null {
  if (typeof authorization !== 'string' || authorization.length > 300) return null;
  const token = /^Bearer\s+(\S+)$/i.exec(authorization.trim())?.[1];
  return token ? hashApiKey(token).slice(0, 32) : null;
}
