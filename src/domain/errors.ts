/**
 * An error a client caused by what it asked for, raised by src/domain and by the
 * services alike. `code` is the GraphQL `extensions.code` the error maps to (see
 * ARCHITECTURE.md, Conventions): BAD_USER_INPUT for invalid arguments (non-positive
 * quantity, selling more than is held, bad dates…), CONFLICT for a request that
 * clashes with the current state, NOT_FOUND for what does not exist or may not be
 * seen, FORBIDDEN for what may be seen but not done, UNAUTHENTICATED for a missing
 * or invalid credential.
 *
 * Anything else thrown from src/domain (a plain Error) is a bug or corrupt
 * stored data, not something the client can fix.
 */
export type DomainErrorCode = 'BAD_USER_INPUT' | 'CONFLICT' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED';

export class DomainError extends Error {
  constructor(
    public readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
