import type { Portfolio, User } from '../generated/prisma/client';
import { DomainError } from '../domain/errors';
import type { Db } from './db';
import type { EventBus } from '../events/bus';
import type { ServiceContext } from './context';
import { getWritablePortfolio, requireActor } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { isUuid } from './validate';

/**
 * Read-only access for VIEWERs: whoever may write a portfolio (its owner, an ADMIN) shares
 * it with a VIEWER, who then reads it like their own (access.ts, readableWhere). Audited.
 */
export class SharingService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  async share(ctx: ServiceContext, portfolioId: string, userId: string): Promise<Portfolio> {
    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const portfolio = await getWritablePortfolio(tx, ctx, portfolioId);
      const user = isUuid(userId) ? await tx.user.findUnique({ where: { id: userId } }) : null;
      if (!user) throw new DomainError('NOT_FOUND', `user ${userId} not found`);
      if (user.role !== 'VIEWER') throw new DomainError('BAD_USER_INPUT', `portfolios are shared with VIEWERs; user ${userId} is a ${user.role}`);
      const existing = await tx.portfolioShare.findUnique({ where: { portfolioId_userId: { portfolioId, userId } } });
      if (existing) return portfolio;
      const share = await tx.portfolioShare.create({ data: { portfolioId, userId } });
      await writeAudit(tx, ctx, { action: 'portfolio.share', entityType: 'Portfolio', entityId: portfolioId, portfolioId, after: share });
      afterCommit(() => this.bus.publish({ type: 'portfolio.shared', portfolioId, userId }));
      return portfolio;
    });
  }

  async unshare(ctx: ServiceContext, portfolioId: string, userId: string): Promise<Portfolio> {
    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const portfolio = await getWritablePortfolio(tx, ctx, portfolioId);
      const existing = isUuid(userId) ? await tx.portfolioShare.findUnique({ where: { portfolioId_userId: { portfolioId, userId } } }) : null;
      if (!existing) return portfolio;
      await tx.portfolioShare.delete({ where: { portfolioId_userId: { portfolioId, userId } } });
      await writeAudit(tx, ctx, { action: 'portfolio.unshare', entityType: 'Portfolio', entityId: portfolioId, portfolioId, before: existing });
      afterCommit(() => this.bus.publish({ type: 'portfolio.unshared', portfolioId, userId }));
      return portfolio;
    });
  }

  /** The VIEWERs a portfolio is shared with; only those who may write it see the list. */
  async sharedWith(ctx: ServiceContext, portfolio: Portfolio): Promise<User[]> {
    const actor = requireActor(ctx);
    if (actor.role !== 'ADMIN' && portfolio.ownerId !== actor.userId) throw new DomainError('FORBIDDEN', 'only the owner sees whom a portfolio is shared with');
    const shares = await this.db.portfolioShare.findMany({ where: { portfolioId: portfolio.id }, include: { user: true }, orderBy: { createdAt: 'asc' } });
    return shares.map((s) => s.user);
  }
}
