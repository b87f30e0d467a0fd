import type { CostBasisMethod, Portfolio } from '../generated/prisma/client';
import { DomainError } from '../domain/errors';
import type { Db } from './db';
import { isUniqueViolation } from './db';
import type { ServiceContext } from './context';
import { findReadablePortfolio, getWritablePortfolio, readableWhere, requireActor } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { paginate, type Page, type PageArgs } from './pagination';
import { currencyCode, text } from './validate';

export interface CreatePortfolioInput {
  name: string;
  baseCurrency: string;
  costBasisMethod?: CostBasisMethod | null;
  allowShort?: boolean | null;
}

export interface UpdatePortfolioInput {
  name?: string | null;
  costBasisMethod?: CostBasisMethod | null;
  allowShort?: boolean | null;
}

export class PortfolioService {
  constructor(private readonly db: Db) {}

  async create(ctx: ServiceContext, input: CreatePortfolioInput): Promise<Portfolio> {
    const actor = requireActor(ctx);
    if (actor.role === 'VIEWER') throw new DomainError('FORBIDDEN', 'a VIEWER cannot create portfolios');
    const data = {
      ownerId: actor.userId,
      name: text(input.name, 'name', 120),
      baseCurrency: currencyCode(input.baseCurrency, 'baseCurrency'),
      costBasisMethod: input.costBasisMethod ?? 'FIFO',
      allowShort: input.allowShort ?? false,
    };
    try {
      return await inTransaction(this.db, ctx, async (tx) => {
        const portfolio = await tx.portfolio.create({ data });
        await writeAudit(tx, ctx, { action: 'portfolio.create', entityType: 'Portfolio', entityId: portfolio.id, portfolioId: portfolio.id, after: portfolio });
        return portfolio;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('CONFLICT', `you already have a portfolio named "${data.name}"`);
      throw err;
    }
  }

  /**
   * Renames a portfolio or changes its cost-basis method or short-selling rule. A new
   * cost-basis method applies to later sells only: lots already relieved stay as booked.
   */
  async update(ctx: ServiceContext, id: string, input: UpdatePortfolioInput): Promise<Portfolio> {
    const data = {
      ...(input.name != null ? { name: text(input.name, 'name', 120) } : {}),
      ...(input.costBasisMethod != null ? { costBasisMethod: input.costBasisMethod } : {}),
      ...(input.allowShort != null ? { allowShort: input.allowShort } : {}),
    };
    try {
      return await inTransaction(this.db, ctx, async (tx) => {
        const before = await getWritablePortfolio(tx, ctx, id, true);
        if (Object.keys(data).length === 0) return before;
        const portfolio = await tx.portfolio.update({ where: { id: before.id }, data });
        const changed = (Object.keys(data) as (keyof typeof data)[]).filter((k) => before[k] !== portfolio[k]);
        if (changed.length) {
          await writeAudit(tx, ctx, {
            action: 'portfolio.update',
            entityType: 'Portfolio',
            entityId: portfolio.id,
            portfolioId: portfolio.id,
            before: Object.fromEntries(changed.map((k) => [k, before[k]])),
            after: Object.fromEntries(changed.map((k) => [k, portfolio[k]])),
          });
        }
        return portfolio;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('CONFLICT', `you already have a portfolio named "${data.name}"`);
      throw err;
    }
  }

  find(ctx: ServiceContext, id: string): Promise<Portfolio | null> {
    return findReadablePortfolio(this.db, ctx, id);
  }

  /** Oldest first; the id breaks ties between portfolios created in the same millisecond. */
  list(ctx: ServiceContext, args: PageArgs): Promise<Page<Portfolio>> {
    const where = readableWhere(requireActor(ctx));
    return paginate(
      args,
      (p) => p.id,
      (after, take) =>
        this.db.portfolio.findMany({
          where,
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          take,
          ...(after ? { cursor: { id: after }, skip: 1 } : {}),
        }),
      () => this.db.portfolio.count({ where }),
    );
  }
}
