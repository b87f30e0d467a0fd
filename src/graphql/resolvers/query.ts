import type { QueryResolvers } from '../../generated/graphql';
import { toConnection } from '../connection';

export const Query: QueryResolvers = {
  me: (_p, _a, { services, request }) => services.identity.me(request),
  portfolio: (_p, { id }, { services, request }) => services.portfolios.find(request, id),
  portfolios: async (_p, args, { services, request }) => toConnection(await services.portfolios.list(request, args)),
  security: (_p, { symbol }, { services, request }) => services.securities.bySymbol(request, symbol),
  auditLog: async (_p, args, { services, request }) => toConnection(await services.auditLog.list(request, args)),
};
