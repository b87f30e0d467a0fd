import { createHash, randomBytes } from 'node:crypto';
import type { ApiKey, Role, User } from '../generated/prisma/client';
import { DomainError } from '../domain/errors';
import type { Db } from './db';
import { isUniqueViolation } from './db';
import type { Actor, ServiceContext } from './context';
import { requireActor, requireRole } from './access';
import { recordSecurityEvent, writeAudit } from './audit';
import { inTransaction } from './transaction';
import { hashPassword } from './passwords';
import { badInput, email as validEmail, isUuid, optionalText, text } from './validate';

const KEY_PREFIX = 'fg_';
// A key's last use is written at most this often, so that a busy key does not write on every request.
const LAST_USED_RESOLUTION_MS = 60_000;

/** API keys carry 192 bits of randomness, so a fast hash is enough to keep them useless if the table leaks. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function newApiKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

export interface CreatedApiKey {
  id: string;
  name: string;
  key: string;
  prefix: string;
  expiresAt: Date | null;
}

export class IdentityService {
  constructor(private readonly db: Db) {}

  /**
   * The actor behind a bearer credential, or UNAUTHENTICATED. Every refusal is a security
   * event naming why (unknown, revoked, expired key; inactive user).
   */
  async authenticate(ctx: ServiceContext, key: string): Promise<Actor> {
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
    return inTransaction(this.db, ctx, async (tx) => {
      const row = isUuid(id) ? await tx.apiKey.findUnique({ where: { id } }) : null;
      // Someone else's key reads as missing, like someone else's portfolio.
      if (!row || (row.userId !== actor.userId && actor.role !== 'ADMIN')) throw new DomainError('NOT_FOUND', `API key ${id} not found`);
      if (row.revokedAt) return row;
      const revoked = await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
      await writeAudit(tx, ctx, { action: 'api_key.revoke', entityType: 'ApiKey', entityId: id, before: { ...row, keyHash: undefined }, after: { ...revoked, keyHash: undefined } });
      return revoked;
    });
  }

  /** First-time setup (BOOTSTRAP_API_KEY, the demo key): an active user of `role` owns exactly this key. */
  async ensureKey(ctx: ServiceContext, key: string, owner: { email: string; role: Role; name: string }, keyName: string): Promise<User> {
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
