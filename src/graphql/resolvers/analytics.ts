import type { MutationResolvers, PortfolioResolvers, QueryResolvers } from '../../generated/graphql';

/* Analytics: each resolver calls one service method (src/services/analytics.ts, benchmarks.ts). */

export const AnalyticsPortfolio: Pick<PortfolioResolvers, 'performance' | 'risk' | 'attribution' | 'currencyAttribution' | 'stressTest' | 'whatIf' | 'modelingSessions'> = {
  performance: (p, { from, to }, { services, request }) => services.analytics.performance(request, p.id, from, to),
  risk: (p, args, { services, request }) => services.analytics.risk(request, p.id, args),
  attribution: (p, { from, to, benchmark, groupBy }, { services, request }) => services.analytics.attribution(request, p.id, from, to, benchmark, groupBy ?? 'SECTOR'),
  currencyAttribution: (p, { from, to }, { services, request }) => services.analytics.currencyAttribution(request, p.id, from, to),
  stressTest: (p, { shocks, scenario }, { services, request }) => services.analytics.stressTest(request, p.id, shocks, scenario),
  whatIf: (p, { trades, lookbackDays }, { services, request }) => services.analytics.whatIf(request, p.id, trades, lookbackDays ?? 252),
  modelingSessions: (p, _a, { services, request }) => services.analytics.sessions(request, p.id),
};

export const AnalyticsQuery: Pick<QueryResolvers, 'benchmark' | 'benchmarks' | 'stressScenarios'> = {
  benchmark: (_p, { code }, { services, request }) => services.benchmarks.byCode(request, code),
  benchmarks: (_p, _a, { services, request }) => services.benchmarks.list(request),
  stressScenarios: (_p, _a, { services }) => services.analytics.scenarios(),
};

export const AnalyticsMutation: Pick<MutationResolvers, 'upsertBenchmark' | 'saveModelingSession'> = {
  upsertBenchmark: (_p, { input }, { services, request }) => services.benchmarks.upsert(request, input),
  saveModelingSession: (_p, { portfolioId, name, trades }, { services, request }) => services.analytics.saveSession(request, portfolioId, name, trades),
};
