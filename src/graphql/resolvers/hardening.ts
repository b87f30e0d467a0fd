import type { MutationResolvers } from '../../generated/graphql';

/** Sign-in and sharing: thin, the services decide. */
export const HardeningMutation: MutationResolvers = {
  login: (_p, args, { services, request }) => services.identity.login(request, args),
  logout: (_p, _a, { services, request }) => services.identity.logout(request),
};
