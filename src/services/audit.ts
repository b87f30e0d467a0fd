import type { Prisma } from '../generated/prisma/client';
import type { Db, Tx } from './db';
import type { ServiceContext } from './context';

export interface AuditEntryInput {
  action: string;
  entityType: string;
  entityId: string;
  portfolioId?: string | null;
  before?: unknown;
  after?: unknown;
}

/** JSON for audit columns: decimals and dates as strings, bigint ids as strings. */
function snapshot(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Prisma.InputJsonValue;
}

/** Written inside the service's transaction: the change and its record commit or roll back together. */
export async function writeAudit(tx: Tx, ctx: ServiceContext, entry: AuditEntryInput): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorUserId: ctx.actor?.userId ?? null,
      actorApiKeyId: ctx.actor?.apiKeyId ?? null,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      portfolioId: entry.portfolioId ?? null,
      before: snapshot(entry.before),
      after: snapshot(entry.after),
      requestId: ctx.meta.requestId,
      ip: ctx.meta.ip ?? null,
      userAgent: ctx.meta.userAgent ?? null,
    },
  });
}

/**
 * Refusals worth a security officer's attention (bad credentials, probing other owners'
 * ids). Written outside any transaction: the request that caused it is being refused
 * and rolled back, the record of the attempt must stay.
 */
export async function recordSecurityEvent(
  db: Db,
  ctx: ServiceContext,
  kind: string,
  detail: Record<string, unknown> = {},
  who: { userId?: string | null; apiKeyId?: string | null } = {},
): Promise<void> {
  await db.securityEvent.create({
    data: {
      kind,
      userId: who.userId ?? ctx.actor?.userId ?? null,
      apiKeyId: who.apiKeyId ?? ctx.actor?.apiKeyId ?? null,
      ip: ctx.meta.ip ?? null,
      userAgent: ctx.meta.userAgent ?? null,
      requestId: ctx.meta.requestId,
      detail: snapshot(detail),
    },
  });
}
