import type { AlertEventResolvers, AlertRuleResolvers, MutationResolvers, PortfolioResolvers, SubscriptionResolvers } from '../../generated/graphql';
import { DomainError } from '../../domain/errors';
import type { AlertTriggered, NavUpdate, OrderUpdated, PriceTick, Realtime } from '../../realtime';
import type { GraphQLContext } from '../context';
import { toConnection } from '../connection';
import { toGraphQLError } from '../errors';

const MAX_SYMBOLS = 100;

function realtimeOf(ctx: GraphQLContext): Realtime {
  if (!ctx.realtime) throw new DomainError('BAD_USER_INPUT', 'subscriptions run over graphql-ws on /graphql');
  return ctx.realtime;
}

/** Subscribe functions: access is checked here, on every subscribe; a refusal is a coded error for that operation only. */
function guarded<A>(fn: (args: A, ctx: GraphQLContext) => Promise<AsyncIterable<unknown>>) {
  return async (_p: unknown, args: A, ctx: GraphQLContext) => {
    try {
      return await fn(args, ctx);
    } catch (err) {
      throw toGraphQLError(err);
    }
  };
}

// graphql-js calls `resolve` with each event as the root; the events are the engine's shared objects.
export const Subscription = {
  navUpdated: {
    subscribe: guarded<{ portfolioId: string }>(async ({ portfolioId }, ctx) => {
      const p = await ctx.services.alerts.readablePortfolio(ctx.request, portfolioId);
      return realtimeOf(ctx).navUpdates(p.id);
    }),
    resolve: (u: NavUpdate) => u,
  },
  orderUpdated: {
    subscribe: guarded<{ portfolioId: string }>(async ({ portfolioId }, ctx) => {
      const p = await ctx.services.alerts.readablePortfolio(ctx.request, portfolioId);
      return realtimeOf(ctx).orderUpdates(p.id);
    }),
    resolve: async (e: OrderUpdated, _a: unknown, { services, request }: GraphQLContext) => {
      const order = await services.trading.order(request, e.orderId);
      if (!order) throw toGraphQLError(new DomainError('NOT_FOUND', `order ${e.orderId} not found`));
      return order;
    },
  },
  alertTriggered: {
    subscribe: guarded<{ portfolioId?: string | null }>(async ({ portfolioId }, ctx) => {
      if (portfolioId != null) {
        const p = await ctx.services.alerts.readablePortfolio(ctx.request, portfolioId);
        // Ended at once if it is unshared from this user (src/server/ws-principal.ts).
        return realtimeOf(ctx).alertUpdates((a) => a.portfolioId === p.id);
      }
      // Decided per event, on who reads the portfolio then: one created or shared later is covered, one unshared is not.
      return realtimeOf(ctx).alertUpdates(ctx.services.alerts.readsAudience(ctx.request));
    }),
    resolve: async (e: AlertTriggered, _a: unknown, { services, request }: GraphQLContext) => {
      const event = await services.alerts.event(request, e.alertEventId);
      if (!event) throw toGraphQLError(new DomainError('NOT_FOUND', `alert event ${e.alertEventId} not found`));
      return event;
    },
  },
  priceUpdated: {
    subscribe: guarded<{ symbols: string[] }>(async ({ symbols }, ctx) => {
      if (!ctx.request.actor) throw new DomainError('UNAUTHENTICATED', 'authentication required');
      if (!symbols.length || symbols.length > MAX_SYMBOLS) throw new DomainError('BAD_USER_INPUT', `symbols: give 1 to ${MAX_SYMBOLS} symbols`);
      return realtimeOf(ctx).priceUpdates(symbols.map((s) => s.trim().toUpperCase()));
    }),
    resolve: (t: PriceTick) => t,
  },
} as unknown as SubscriptionResolvers;

export const RealtimePortfolio: Pick<PortfolioResolvers, 'alertRules' | 'alertEvents'> = {
  alertRules: (portfolio, _a, { services }) => services.alerts.rulesOf(portfolio),
  alertEvents: async (portfolio, args, { services }) => toConnection(await services.alerts.eventsOf(portfolio, args)),
};

export const RealtimeMutation: Pick<MutationResolvers, 'createAlertRule' | 'acknowledgeAlert'> = {
  createAlertRule: (_p, { input }, { services, request }) => services.alerts.createRule(request, input),
  acknowledgeAlert: (_p, { id }, { services, request }) => services.alerts.acknowledge(request, id),
};

export const AlertRule: AlertRuleResolvers = {
  symbol: (r) => r.security?.symbol ?? null,
};

export const AlertEvent: AlertEventResolvers = {
  deliveries: (e, _a, { loaders }) => loaders.alertDeliveries.load(e.id),
};
