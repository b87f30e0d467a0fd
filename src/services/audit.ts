import { Prisma } from '../generated/prisma/client';
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

/** JSON text for audit columns: decimals and dates as strings, bigint ids as strings. */
function snapshotText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function snapshot(value: unknown): Prisma.InputJsonValue | undefined {
  const text = snapshotText(value);
  return text === undefined ? undefined : (JSON.parse(text) as Prisma.InputJsonValue);
}

function auditRow(ctx: ServiceContext, entry: AuditEntryInput) {
  return {
    actorUserId: ctx.actor?.userId ?? null,
    actorApiKeyId: ctx.actor?.apiKeyId ?? null,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    portfolioId: entry.portfolioId ?? null,
    requestId: ctx.meta.requestId,
    ip: ctx.meta.ip ?? null,
    userAgent: ctx.meta.userAgent ?? null,
  };
}

/** Written inside the service's transaction: the change and its record commit or roll back together. */
export async function writeAudit(tx: Tx, ctx: ServiceContext, entry: AuditEntryInput): Promise<void> {
  await tx.auditLog.create({ data: { ...auditRow(ctx, entry), before: snapshot(entry.before), after: snapshot(entry.after) } });
}

/**
 * The same audit row as a data-modifying CTE (`audit AS (INSERT …)`), for a hot path that
 * writes everything in one statement: it still commits or rolls back with the change.
 * `gated.from` is the booking's gate (see LedgerService.book), or empty.
 */
export function auditCte(ctx: ServiceContext, gated: { from: Prisma.Sql }, entry: AuditEntryInput): Prisma.Sql {
  const r = auditRow(ctx, entry);
  return Prisma.sql`audit AS (
    INSERT INTO audit_log (actor_user_id, actor_api_key_id, action, entity_type, entity_id, portfolio_id, before, after, request_id, ip, user_agent)
    SELECT ${r.actorUserId}::uuid, ${r.actorApiKeyId}::uuid, ${r.action}, ${r.entityType}, ${r.entityId}, ${r.portfolioId}::uuid,
           ${snapshotText(entry.before) ?? null}::jsonb, ${snapshotText(entry.after) ?? null}::jsonb, ${r.requestId}, ${r.ip}, ${r.userAgent} ${gated.from})`;
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
