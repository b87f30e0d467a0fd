import type { MutationResolvers, PortfolioResolvers } from '../../generated/graphql';

/** Sign-in and sharing: thin, the services decide. */
export const HardeningMutation: MutationResolvers = {
  login: (_p, args, { services, request }) => services.identity.login(request, args),
  logout: (_p, _a, { services, request }) => services.identity.logout(request),
  sharePortfolio: (_p, { portfolioId, userId }, { services, request }) => services.sharing.share(request, portfolioId, userId),
  unsharePortfolio: (_p, { portfolioId, userId }, { services, request }) => services.sharing.unshare(request, portfolioId, userId),
};

export const SharingPortfolio: PortfolioResolvers = {
  sharedWith: (portfolio, _a, { services, request }) => services.sharing.sharedWith(request, portfolio),
};
