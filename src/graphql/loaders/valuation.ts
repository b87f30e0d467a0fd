import DataLoader from 'dataloader';
import type { Portfolio } from '../../generated/prisma/client';
import type { ValuationResult } from '../../domain/valuation';
import type { ValuationService } from '../../services/valuation';

/**
 * One DataLoader per `asOf` within a request: every Portfolio.valuation (and exposure)
 * resolved in the same tick is valued in one batch, a fixed number of queries for any
 * number of portfolios. The portfolios reaching it were returned by access-checked reads.
 */
export function valuationLoaders() {
  const byAsOf = new Map<string, DataLoader<Portfolio, ValuationResult, string>>();
  return {
    load(service: ValuationService, portfolio: Portfolio, asOf?: string | null): Promise<ValuationResult> {
      const key = asOf ?? '';
      let loader = byAsOf.get(key);
      if (!loader) {
        loader = new DataLoader((ps) => service.valueMany(ps, asOf ?? null), { cacheKeyFn: (p) => p.id, maxBatchSize: 500 });
        byAsOf.set(key, loader);
      }
      return loader.load(portfolio);
    },
  };
}
