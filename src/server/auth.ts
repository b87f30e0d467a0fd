import { DomainError } from '../domain/errors';
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
