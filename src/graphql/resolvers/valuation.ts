import type { MutationResolvers, PortfolioResolvers, QueryResolvers } from '../../generated/graphql';
import { exposureOf } from '../../domain/exposure';

/* Market data, valuation, exposure and the NAV series: each resolver calls one service or loader. */

export const MarketDataMutation: Pick<MutationResolvers, 'ingestPrices' | 'ingestFxRates'> = {
  ingestPrices: (_p, { input }, { services, request }) => services.marketData.ingestPrices(request, input),
  ingestFxRates: (_p, { input }, { services, request }) => services.marketData.ingestFxRates(request, input),
};

export const MarketDataQuery: Pick<QueryResolvers, 'fxRate'> = {
  fxRate: (_p, { base, quote, date }, { services, request }) => services.marketData.fxRate(request, base, quote, date),
};

export const ValuationPortfolio: Pick<PortfolioResolvers, 'valuation' | 'exposure' | 'navHistory'> = {
  valuation: (portfolio, { asOf }, { services, loaders }) => loaders.valuation.load(services.valuation, portfolio, asOf),
  exposure: async (portfolio, { asOf }, { services, loaders }) => exposureOf(await loaders.valuation.load(services.valuation, portfolio, asOf)),
  navHistory: (portfolio, { from, to }, { services, request }) => services.valuation.navHistory(request, portfolio.id, from, to),
};
