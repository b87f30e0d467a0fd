import type { MutationResolvers, OrderResolvers, PortfolioResolvers, QueryResolvers } from '../../generated/graphql';
import { toConnection } from '../connection';

export const TradingQuery: Pick<QueryResolvers, 'order'> = {
  order: (_p, { id }, { services, request }) => services.trading.order(request, id),
};

export const TradingMutation: Pick<MutationResolvers, 'placeOrder' | 'cancelOrder' | 'recordFill'> = {
  placeOrder: (_p, { input }, { services, request }) => services.trading.placeOrder(request, input),
  cancelOrder: (_p, { id }, { services, request }) => services.trading.cancelOrder(request, id),
  recordFill: (_p, { input }, { services, request }) => services.trading.recordFill(request, input),
};

export const TradingPortfolio: Pick<PortfolioResolvers, 'orders'> = {
  orders: async (portfolio, args, { services, request }) => toConnection(await services.trading.orders(request, portfolio.id, args)),
};

export const Order: OrderResolvers = {
  symbol: (o) => o.security.symbol,
  fills: (o, _a, { loaders }) => loaders.fills.load(o.id),
};
