import type { MutationResolvers } from '../../generated/graphql';

export const Mutation: MutationResolvers = {
  createPortfolio: (_p, { input }, { services, request }) => services.portfolios.create(request, input),
  upsertSecurity: (_p, { input }, { services, request }) => services.securities.upsert(request, input),
  createUser: (_p, { input }, { services, request }) => services.identity.createUser(request, input),
  createApiKey: (_p, args, { services, request }) => services.identity.createApiKey(request, args),
  revokeApiKey: (_p, { id }, { services, request }) => services.identity.revokeApiKey(request, id),
};
