import { createHash, randomBytes } from 'node:crypto';
import type { ApiKey, Role, User } from '../generated/prisma/client';
import type { EventBus } from '../events/bus';
import { DomainError } from '../domain/errors';
import type { Db } from './db';
import { isUniqueViolation } from './db';
import type { Actor, ServiceContext } from './context';
import { requireActor, requireRole } from './access';
import { recordSecurityEvent, writeAudit } from './audit';
import { inTransaction } from './transaction';
import { hashPassword, verifyPassword } from './passwords';
import { badInput, email as validEmail, isUuid, optionalText, text } from './validate';
import { asSystem } from '../db/principal';

const KEY_PREFIX = 'fg_';
/** Session tokens from `login` look different from API keys, so a credential names its kind. */
const SESSION_PREFIX = 'fgs_';
// A key's last use is written at most this often, so that a busy key does not write on every request.
const LAST_USED_RESOLUTION_MS = 60_000;

/** API keys carry 192 bits of randomness, so a fast hash is enough to keep them useless if the table leaks. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function newApiKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

function newSessionToken(): string {
  return SESSION_PREFIX + randomBytes(32).toString('base64url');
}

export interface IdentityOptions {
  /** Lifetime of a session token from `login`. */
  sessionTtlMinutes: number;
  /** Failed sign-ins in a row that lock the account… */
  loginMaxAttempts: number;
  /** …for this long. */
  loginLockoutMinutes: number;
}

export const DEFAULT_IDENTITY_OPTIONS: IdentityOptions = { sessionTtlMinutes: 60, loginMaxAttempts: 5, loginLockoutMinutes: 15 };

export interface CreatedSession {
  token: string;
  expiresAt: Date;
  user: User;
}

// Verified against when there is no real hash (unknown email, no password set, locked
// account), so that every refusal costs one scrypt and timing does not tell them apart.
let dummyHash: Promise<string> | undefined;
function decoyHash(): Promise<string> {
  return (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));
}

const LOGIN_REFUSED = 'invalid email or password, or the account is temporarily locked';

export interface CreatedApiKey {
  id: string;
  name: string;
  key: string;
  prefix: string;
  expiresAt: Date | null;
}

export class IdentityService {
  private readonly options: IdentityOptions;

  constructor(
    private readonly db: Db,
    private readonly bus?: EventBus,
    options: Partial<IdentityOptions> = {},
  ) {
    this.options = { ...DEFAULT_IDENTITY_OPTIONS, ...options };
  }

  /**
   * The actor behind a bearer credential, or UNAUTHENTICATED. Every refusal is a security
   * event naming why (unknown, revoked, expired key; inactive user).
   */
  authenticate(ctx: ServiceContext, key: string): Promise<Actor> {
    // Before the credential is resolved there is no user to act for: an identity lookup, for the system.
    return asSystem(() => this.resolveCredential(ctx, key));
  }

  private async resolveCredential(ctx: ServiceContext, key: string): Promise<Actor> {
    if (key.startsWith(SESSION_PREFIX)) return this.authenticateSession(ctx, key);
    const row = key.length <= 200 ? await this.db.apiKey.findUnique({ where: { keyHash: hashApiKey(key) }, include: { user: true } }) : null;
    const now = new Date();
    const refusal = !row
      ? 'auth.unknown_key'
      : row.revokedAt
        ? 'auth.revoked_key'
        : row.expiresAt && row.expiresAt <= now
          ? 'auth.expired_key'
          : !row.user.isActive
            ? 'auth.inactive_user'
            : null;
    if (refusal || !row) {
      await recordSecurityEvent(this.db, ctx, refusal ?? 'auth.unknown_key', { keyPrefix: key.slice(0, 10) }, { userId: row?.userId, apiKeyId: row?.id });
      throw new DomainError('UNAUTHENTICATED', 'invalid API key');
    }
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: now } });
    }
    return { userId: row.userId, role: row.user.role, apiKeyId: row.id };
  }

  private async authenticateSession(ctx: ServiceContext, token: string): Promise<Actor> {
    const row = token.length <= 200 ? await this.db.session.findUnique({ where: { tokenHash: hashApiKey(token) }, include: { user: true } }) : null;
    const refusal = !row
      ? 'auth.unknown_session'
      : row.revokedAt
        ? 'auth.revoked_session'
        : row.expiresAt <= new Date()
          ? 'auth.expired_session'
          : !row.user.isActive
            ? 'auth.inactive_user'
            : null;
    if (refusal || !row) {
      await recordSecurityEvent(this.db, ctx, refusal ?? 'auth.unknown_session', { tokenPrefix: token.slice(0, 8) }, { userId: row?.userId });
      throw new DomainError('UNAUTHENTICATED', 'invalid or expired session token');
    }
    return { userId: row.userId, role: row.user.role, apiKeyId: null, sessionId: row.id };
  }

  /**
   * Email and password for a session token (`fgs_…`, SESSION_TTL_MINUTES). Every refusal
   * reads the same and costs one scrypt, whether the email is unknown, the password wrong
   * or the account locked. LOGIN_MAX_ATTEMPTS failures in a row lock the account until
   * `locked_until`; each failure and each lockout is a security event.
   */
  login(ctx: ServiceContext, input: { email: string; password: string }): Promise<CreatedSession> {
    // Nobody is signed in yet: the lookup by email and the session it opens are the system's.
    return asSystem(() => this.signIn(ctx, input));
  }

  private async signIn(ctx: ServiceContext, input: { email: string; password: string }): Promise<CreatedSession> {
    const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : '';
    const password = typeof input.password === 'string' && input.password.length <= 256 ? input.password : '';
    const user = email && email.length <= 320 ? await this.db.user.findUnique({ where: { email } }) : null;
    const now = new Date();
    const locked = !!user?.lockedUntil && user.lockedUntil > now;
    const usable = !!user && user.isActive && !!user.passwordHash && !locked;
    const matches = await verifyPassword(password, usable ? user.passwordHash! : await decoyHash());
    if (!user) {
      await recordSecurityEvent(this.db, ctx, 'auth.login_failed', { reason: 'unknown_email', email: email.slice(0, 320) });
      throw new DomainError('UNAUTHENTICATED', LOGIN_REFUSED);
    }
    if (!usable || !matches) {
      const reason = locked ? 'locked' : !user.isActive ? 'inactive_user' : !user.passwordHash ? 'no_password' : 'wrong_password';
      await recordSecurityEvent(this.db, ctx, 'auth.login_failed', { reason, email }, { userId: user.id });
      // A locked account does not count further failures: the lock runs out at the time set.
      if (!locked) await this.countFailure(ctx, user.id, now);
      throw new DomainError('UNAUTHENTICATED', LOGIN_REFUSED);
    }
    const token = newSessionToken();
    const expiresAt = new Date(now.getTime() + this.options.sessionTtlMinutes * 60_000);
    return inTransaction(this.db, ctx, async (tx) => {
      const updated = await tx.user.update({ where: { id: user.id }, data: { failedLoginAttempts: 0, lockedUntil: null, lastLoginAt: now } });
      const session = await tx.session.create({ data: { userId: user.id, tokenHash: hashApiKey(token), expiresAt } });
      await writeAudit(tx, { ...ctx, actor: { userId: user.id, role: user.role, apiKeyId: null, sessionId: session.id } }, {
        action: 'session.create',
        entityType: 'Session',
        entityId: session.id,
        after: { ...session, tokenHash: undefined },
      });
      return { token, expiresAt, user: updated };
    });
  }

  /** One more failure, counted atomically; the one that reaches the limit locks the account. */
  private async countFailure(ctx: ServiceContext, userId: string, now: Date): Promise<void> {
    const { failedLoginAttempts } = await this.db.user.update({ where: { id: userId }, data: { failedLoginAttempts: { increment: 1 } }, select: { failedLoginAttempts: true } });
    if (failedLoginAttempts < this.options.loginMaxAttempts) return;
    const lockedUntil = new Date(now.getTime() + this.options.loginLockoutMinutes * 60_000);
    const { count } = await this.db.user.updateMany({
      where: { id: userId, failedLoginAttempts: { gte: this.options.loginMaxAttempts } },
      data: { failedLoginAttempts: 0, lockedUntil },
    });
    if (count) await recordSecurityEvent(this.db, ctx, 'auth.lockout', { attempts: failedLoginAttempts, lockedUntil: lockedUntil.toISOString() }, { userId });
  }

  /** Ends the caller's session: its token is refused from now on. False when the caller used an API key. */
  async logout(ctx: ServiceContext): Promise<boolean> {
    const actor = requireActor(ctx);
    const sessionId = actor.sessionId;
    if (!sessionId) return false;
    const ended = await inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const row = await tx.session.findUnique({ where: { id: sessionId } });
      if (!row || row.revokedAt) return false;
      const revoked = await tx.session.update({ where: { id: sessionId }, data: { revokedAt: new Date() } });
      await writeAudit(tx, ctx, { action: 'session.revoke', entityType: 'Session', entityId: sessionId, before: { ...row, tokenHash: undefined }, after: { ...revoked, tokenHash: undefined } });
      afterCommit(() => this.bus?.publish({ type: 'credential.revoked', sessionId }));
      return true;
    });
    return ended;
  }

  /** Whether a session still authenticates (not ended, not expired, user active). */
  async isSessionValid(sessionId: string): Promise<boolean> {
    const row = await this.db.session.findUnique({ where: { id: sessionId }, include: { user: true } });
    return !!row && !row.revokedAt && row.expiresAt > new Date() && row.user.isActive;
  }

  /**
   * Of these credentials (API key and session ids), the ones that no longer authenticate.
   * Two queries however many sockets ask: open sockets are re-checked in one batch.
   */
  invalidCredentials(ids: { apiKeyIds: string[]; sessionIds: string[] }): Promise<{ apiKeyIds: Set<string>; sessionIds: Set<string> }> {
    // Every open socket's credential at once, whoever owns it: for the system.
    return asSystem(() => this.findInvalidCredentials(ids));
  }

  private async findInvalidCredentials(ids: { apiKeyIds: string[]; sessionIds: string[] }): Promise<{ apiKeyIds: Set<string>; sessionIds: Set<string> }> {
    const now = new Date();
    const keys = ids.apiKeyIds.length
      ? await this.db.apiKey.findMany({ where: { id: { in: ids.apiKeyIds }, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }], user: { isActive: true } }, select: { id: true } })
      : [];
    const sessions = ids.sessionIds.length
      ? await this.db.session.findMany({ where: { id: { in: ids.sessionIds }, revokedAt: null, expiresAt: { gt: now }, user: { isActive: true } }, select: { id: true } })
      : [];
    const validKeys = new Set(keys.map((k) => k.id));
    const validSessions = new Set(sessions.map((s) => s.id));
    return { apiKeyIds: new Set(ids.apiKeyIds.filter((id) => !validKeys.has(id))), sessionIds: new Set(ids.sessionIds.filter((id) => !validSessions.has(id))) };
  }

  /** Whether a key still authenticates: long-lived sockets re-check it to drop revoked keys. */
  async isKeyValid(apiKeyId: string): Promise<boolean> {
    const row = await this.db.apiKey.findUnique({ where: { id: apiKeyId }, include: { user: true } });
    return !!row && !row.revokedAt && (!row.expiresAt || row.expiresAt > new Date()) && row.user.isActive;
  }

  async me(ctx: ServiceContext): Promise<User | null> {
    return ctx.actor ? this.db.user.findUnique({ where: { id: ctx.actor.userId } }) : null;
  }

  async createUser(ctx: ServiceContext, input: { email: string; role: Role; name?: string | null; password?: string | null }): Promise<User> {
    requireRole(ctx, 'ADMIN');
    const email = validEmail(input.email);
    const name = optionalText(input.name, 'name');
    if (input.password != null && (input.password.length < 12 || input.password.length > 256)) throw badInput('password must be 12 to 256 characters');
    const passwordHash = input.password != null ? await hashPassword(input.password) : null;
    try {
      return await inTransaction(this.db, ctx, async (tx) => {
        const user = await tx.user.create({ data: { email, name, role: input.role, passwordHash } });
        await writeAudit(tx, ctx, { action: 'user.create', entityType: 'User', entityId: user.id, after: { ...user, passwordHash: undefined } });
        return user;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('CONFLICT', `a user with email ${email} already exists`);
      throw err;
    }
  }

  async createApiKey(ctx: ServiceContext, input: { name: string; userId?: string | null; expiresInDays?: number | null }): Promise<CreatedApiKey> {
    const actor = requireActor(ctx);
    const name = text(input.name, 'name', 100);
    const userId = input.userId ?? actor.userId;
    if (userId !== actor.userId) requireRole(ctx, 'ADMIN');
    if (input.expiresInDays != null && (!Number.isInteger(input.expiresInDays) || input.expiresInDays < 1 || input.expiresInDays > 3650)) {
      throw badInput('expiresInDays must be a whole number from 1 to 3650');
    }
    const expiresAt = input.expiresInDays != null ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
    return inTransaction(this.db, ctx, async (tx) => {
      if (!isUuid(userId) || !(await tx.user.findUnique({ where: { id: userId } }))) throw new DomainError('NOT_FOUND', `user ${userId} not found`);
      const key = newApiKey();
      const row = await tx.apiKey.create({ data: { userId, name, prefix: key.slice(0, 10), keyHash: hashApiKey(key), expiresAt } });
      await writeAudit(tx, ctx, { action: 'api_key.create', entityType: 'ApiKey', entityId: row.id, after: { ...row, keyHash: undefined } });
      return { id: row.id, name: row.name, key, prefix: row.prefix, expiresAt: row.expiresAt };
    });
  }

  async revokeApiKey(ctx: ServiceContext, id: string): Promise<ApiKey> {
    const actor = requireActor(ctx);
    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const row = isUuid(id) ? await tx.apiKey.findUnique({ where: { id } }) : null;
      // Someone else's key reads as missing, like someone else's portfolio.
      if (!row || (row.userId !== actor.userId && actor.role !== 'ADMIN')) throw new DomainError('NOT_FOUND', `API key ${id} not found`);
      if (row.revokedAt) return row;
      const revoked = await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
      await writeAudit(tx, ctx, { action: 'api_key.revoke', entityType: 'ApiKey', entityId: id, before: { ...row, keyHash: undefined }, after: { ...revoked, keyHash: undefined } });
      afterCommit(() => this.bus?.publish({ type: 'credential.revoked', apiKeyId: id }));
      return revoked;
    });
  }

  /**
   * First-time setup (BOOTSTRAP_API_KEY, the demo key): an active user of `role` owns exactly
   * this key. Server processes starting together race to create the same rows; the loser's
   * unique violation means the winner has committed them, so it runs once more and finds them.
   * It runs for the system: no user acts before it.
   */
  ensureKey(ctx: ServiceContext, key: string, owner: { email: string; role: Role; name: string }, keyName: string): Promise<User> {
    return asSystem(() => this.ensureKeyRetried(ctx, key, owner, keyName));
  }

  private async ensureKeyRetried(ctx: ServiceContext, key: string, owner: { email: string; role: Role; name: string }, keyName: string): Promise<User> {
    try {
      return await this.ensureKeyOnce(ctx, key, owner, keyName);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return this.ensureKeyOnce(ctx, key, owner, keyName);
    }
  }

  private ensureKeyOnce(ctx: ServiceContext, key: string, owner: { email: string; role: Role; name: string }, keyName: string): Promise<User> {
    return inTransaction(this.db, ctx, async (tx) => {
      const user =
        (await tx.user.findUnique({ where: { email: owner.email } })) ??
        (await tx.user.create({ data: { email: owner.email, role: owner.role, name: owner.name } }));
      const existing = await tx.apiKey.findUnique({ where: { keyHash: hashApiKey(key) } });
      if (!existing) {
        const row = await tx.apiKey.create({ data: { userId: user.id, name: keyName, prefix: key.slice(0, 10), keyHash: hashApiKey(key) } });
        await writeAudit(tx, { ...ctx, actor: { userId: user.id, role: user.role, apiKeyId: row.id } }, {
          action: 'api_key.bootstrap',
          entityType: 'ApiKey',
          entityId: row.id,
          after: { ...row, keyHash: undefined },
        });
      }
      return user;
    });
  }
}
