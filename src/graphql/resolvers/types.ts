import type { AuditEntryResolvers, PortfolioResolvers } from '../../generated/graphql';
import { DomainError } from '../../domain/errors';

export const Portfolio: PortfolioResolvers = {
  owner: async (portfolio, _a, { loaders }) => {
    const owner = await loaders.user.load(portfolio.ownerId);
    if (!owner) throw new DomainError('NOT_FOUND', `owner of portfolio ${portfolio.id} not found`);
    return owner;
  },
};

export const AuditEntry: AuditEntryResolvers = {
  id: (row) => row.id.toString(),
  before: (row) => (row.before == null ? null : JSON.stringify(row.before)),
  after: (row) => (row.after == null ? null : JSON.stringify(row.after)),
};
