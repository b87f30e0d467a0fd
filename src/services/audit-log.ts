import type { AuditLog, Prisma } from '../generated/prisma/client';
import type { Db } from './db';
import type { ServiceContext } from './context';
import { readableWhere, requireActor } from './access';
import { paginate, type Page, type PageArgs } from './pagination';
import { badInput } from './validate';

export class AuditLogService {
  constructor(private readonly db: Db) {}

  /** Newest first. ADMIN reads everything; others their own actions and the history of portfolios they may read. */
  async list(ctx: ServiceContext, args: PageArgs & { entityId?: string | null }): Promise<Page<AuditLog>> {
    const actor = requireActor(ctx);
    let scope: Prisma.AuditLogWhereInput = {};
    if (actor.role !== 'ADMIN') {
      const readableScope = readableWhere(actor);
      const portfolios: Prisma.AuditLogWhereInput = Object.keys(readableScope).length
        ? { portfolioId: { in: (await this.db.portfolio.findMany({ where: readableScope, select: { id: true } })).map((p) => p.id) } }
        : { portfolioId: { not: null } };
      scope = { OR: [{ actorUserId: actor.userId }, portfolios] };
    }
    const where: Prisma.AuditLogWhereInput = args.entityId ? { AND: [scope, { entityId: args.entityId }] } : scope;
    return paginate(
      args,
      (row) => row.id,
      (after, take) => {
        if (after !== undefined && !/^\d{1,19}$/.test(after)) throw badInput('after: not a cursor from this API');
        return this.db.auditLog.findMany({ where, orderBy: { id: 'desc' }, take, ...(after ? { cursor: { id: BigInt(after) }, skip: 1 } : {}) });
      },
      () => this.db.auditLog.count({ where }),
    );
  }
}
