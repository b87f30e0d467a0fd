import type { FillResolvers, LotResolvers, MutationResolvers, PortfolioResolvers, RealizedGainResolvers, TransactionResolvers } from '../../generated/graphql';
import { toConnection } from '../connection';

export const LedgerMutation: Pick<MutationResolvers, 'recordTransaction' | 'updatePortfolio'> = {
  recordTransaction: (_p, { input }, { services, request }) => services.ledger.record(request, input),
  updatePortfolio: (_p, { id, input }, { services, request }) => services.portfolios.update(request, id, input),
};

export const LedgerPortfolio: Pick<PortfolioResolvers, 'lots' | 'transactions' | 'realizedGains'> = {
  lots: (portfolio, { openOnly }, { services, request }) => services.ledger.lots(request, portfolio.id, openOnly ?? true),
  transactions: async (portfolio, args, { services, request }) => toConnection(await services.ledger.transactions(request, portfolio.id, args)),
  realizedGains: (portfolio, { from, to }, { services, request }) => services.ledger.realizedGains(request, portfolio.id, from, to),
};

export const Transaction: TransactionResolvers = {
  date: (t) => t.tradeDate,
  symbol: (t) => t.security?.symbol ?? null,
};

export const Lot: LotResolvers = {
  symbol: (l) => l.security.symbol,
  costPerUnit: (l) => (l.qtyOpen.isZero() ? null : l.costBasis.div(l.qtyOpen).toDecimalPlaces(10)),
  transactionId: (l) => l.openTransactionId,
};

export const RealizedGain: RealizedGainResolvers = {
  symbol: (g) => g.security.symbol,
};

export const Fill: FillResolvers = {};
