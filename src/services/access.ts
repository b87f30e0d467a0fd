import { Prisma, type Portfolio } from '../generated/prisma/client';
import { DomainError } from '../domain/errors';
import type { Db, Tx } from './db';
import type { Actor, ServiceContext } from './context';
import { recordSecurityEvent } from './audit';
import { isUuid } from './validate';
import { asSystem } from '../db/principal';

/*
 * The one place that decides who may see and change a portfolio. Every resolver and
 * subscription goes through it. Another owner's portfolio reads exactly like one that
 * does not exist; the attempt is recorded as a security event.
 */

export function requireActor(ctx: ServiceContext): Actor {
  if (!ctx.actor) throw new DomainError('UNAUTHENTICATED', 'authentication required: send Authorization: Bearer <api key>');
  return ctx.actor;
}

export function requireRole(ctx: ServiceContext, ...roles: Actor['role'][]): Actor {
  const actor = requireActor(ctx);
  if (!roles.includes(actor.role)) throw new DomainError('FORBIDDEN', `requires role ${roles.join(' or ')}`);
  return actor;
}

/** Portfolios the actor may read: ADMIN and MANAGER all, USER their own, VIEWER their own and those shared with them. */
export function readableWhere(actor: Actor): Prisma.PortfolioWhereInput {
  switch (actor.role) {
    case 'ADMIN':
    case 'MANAGER':
      return {};
    case 'USER':
      return { ownerId: actor.userId };
    case 'VIEWER':
      return { OR: [{ ownerId: actor.userId }, { shares: { some: { userId: actor.userId } } }] };
  }
}

/** Who reads a portfolio besides ADMINs and MANAGERs: its owner and the VIEWERs it is shared with. */
export interface PortfolioAudience {
  portfolioId: string;
  ownerId: string;
  viewerIds: ReadonlySet<string>;
}

/** readableWhere as a test on a portfolio's audience (decisions made in memory, per event). */
export function canRead(actor: Actor, a: PortfolioAudience): boolean {
  switch (actor.role) {
    case 'ADMIN':
    case 'MANAGER':
      return true;
    case 'USER':
      return a.ownerId === actor.userId;
    case 'VIEWER':
      return a.ownerId === actor.userId || a.viewerIds.has(actor.userId);
  }
}

function canWrite(actor: Actor, portfolio: Pick<Portfolio, 'ownerId'>): boolean {
  if (actor.role === 'ADMIN') return true;
  if (actor.role === 'VIEWER') return false;
  return portfolio.ownerId === actor.userId;
}

/** canWrite as a condition on `portfolios p`. */
export function writableSql(actor: Actor): Prisma.Sql {
  if (actor.role === 'ADMIN') return Prisma.sql`TRUE`;
  if (actor.role === 'VIEWER') return Prisma.sql`FALSE`;
  return Prisma.sql`p.owner_id = ${actor.userId}::uuid`;
}

/**
 * A refusal that must leave a security event. Thrown inside a transaction, it is
 * recorded by `inTransaction` after the rollback, so that the record survives it.
 */
export class RefusedAccess extends DomainError {
  constructor(
    message: string,
    readonly event: { kind: string; detail: Record<string, unknown> },
  ) {
    super('NOT_FOUND', message);
  }
}

async function lookup(db: Db | Tx, actor: Actor, id: string): Promise<{ portfolio: Portfolio | null; foreign: boolean }> {
  if (!isUuid(id)) return { portfolio: null, foreign: false };
  const portfolio = await db.portfolio.findFirst({ where: { AND: [{ id }, readableWhere(actor)] } });
  // Whether the id is someone else's is a question about every owner's rows: asked for the system.
  return { portfolio, foreign: !portfolio && (await asSystem(() => db.portfolio.count({ where: { id } }))) > 0 };
}

function foreignEvent(id: string) {
  return { kind: 'portfolio.foreign_access', detail: { portfolioId: id } };
}

/** For reads outside a transaction: the portfolio if the actor may read it, else null. */
export async function findReadablePortfolio(db: Db, ctx: ServiceContext, id: string): Promise<Portfolio | null> {
  const { portfolio, foreign } = await lookup(db, requireActor(ctx), id);
  if (foreign) await recordSecurityEvent(db, ctx, foreignEvent(id).kind, foreignEvent(id).detail);
  return portfolio;
}

export async function getReadablePortfolio(db: Db | Tx, ctx: ServiceContext, id: string): Promise<Portfolio> {
  const { portfolio, foreign } = await lookup(db, requireActor(ctx), id);
  if (!portfolio) throw foreign ? new RefusedAccess(notFoundMessage(id), foreignEvent(id)) : new DomainError('NOT_FOUND', notFoundMessage(id));
  return portfolio;
}

/**
 * The portfolio the actor is about to change. With `lock`, the row is locked FOR UPDATE
 * so that concurrent changes to one portfolio's holdings run one after the other.
 */
export async function getWritablePortfolio(tx: Tx, ctx: ServiceContext, id: string, lock = false): Promise<Portfolio> {
  if (lock && isUuid(id)) {
    const locked = await lockWritablePortfolio(tx, ctx, Prisma.sql`${id}::uuid`);
    if (locked) return locked;
  }
  const portfolio = await getReadablePortfolio(tx, ctx, id);
  if (!canWrite(requireActor(ctx), portfolio)) throw new DomainError('FORBIDDEN', `portfolio ${id} is read-only for you`);
  if (lock) await tx.$queryRaw`SELECT id FROM portfolios WHERE id = ${id}::uuid FOR UPDATE`;
  return portfolio;
}

/**
 * getWritablePortfolio(…, lock = true) in one round trip, for the hot paths of bookings: the
 * access check and the row lock in one statement. `id` is SQL for the portfolio's id (a
 * subquery from the order, say). Null when the portfolio does not exist or the actor may not
 * change it: the caller then asks getWritablePortfolio, which tells the two apart and
 * records a foreign access.
 */
export async function lockWritablePortfolio(tx: Tx, ctx: ServiceContext, id: Prisma.Sql): Promise<Portfolio | null> {
  const rows = await tx.$queryRaw<Portfolio[]>`
    SELECT p.id, p.owner_id AS "ownerId", p.name, p.base_currency AS "baseCurrency", p.cost_basis_method::text AS "costBasisMethod",
           p.allow_short AS "allowShort", p.nav_stale_from AS "navStaleFrom", p.created_at AS "createdAt", p.updated_at AS "updatedAt"
    FROM portfolios p WHERE p.id = (${id}) AND ${writableSql(requireActor(ctx))} FOR UPDATE`;
  return rows[0] ?? null;
}

function notFoundMessage(id: string): string {
  return `portfolio ${id} not found`;
}
