import type { Role } from '../generated/prisma/client';

/** Who is asking: resolved from an API key (or session token) once per request. */
export interface Actor {
  userId: string;
  role: Role;
  apiKeyId: string | null;
  /** Set when the credential is a session token from `login` (then apiKeyId is null). */
  sessionId?: string | null;
}

/** Where the request came from, recorded in audit and security events. */
export interface RequestMeta {
  requestId: string;
  ip?: string;
  userAgent?: string;
}

export interface ServiceContext {
  actor: Actor | null;
  meta: RequestMeta;
}
