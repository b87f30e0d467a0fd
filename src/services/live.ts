import type { Db } from './db';
import type { ValuationService } from './valuation';
import { D } from '../domain/decimal';
import type { FxQuote } from '../domain/fx';
import { asSystem } from '../db/principal';

/** One holding of a live portfolio, in the security's currency. */
export interface LivePosition {
  securityId: string;
  symbol: string;
  currency: string;
  quantity: D;
  costBasis: D;
  price: D | null;
  /** Epoch ms of the quote; 0 when unknown. */
  priceTs: number;
}

export interface LivePortfolioState {
  portfolioId: string;
  baseCurrency: string;
  positions: LivePosition[];
  cash: { currency: string; balance: D }[];
  /** The last stored daily NAV (NAV_CHANGE_PCT measures from it), null without a series. */
  referenceNav: D | null;
  /** The highest stored daily NAV (DRAWDOWN_PCT), null without a series. */
  peakNav: D | null;
}

/**
 * What the realtime engine loads, a portfolio at a time and only when one gains its first
 * subscriber or alert rule (or after a booking): positions and cash through the valuation
 * service, the quotes' instants, and the stored NAV series' last and highest values.
 * Nothing here runs per price tick. The engine serves every owner's subscribers and rules, so
 * it loads in the system context, whoever's subscription or booking asked for the load.
 */
export class LiveService {
  constructor(
    private readonly db: Db,
    private readonly valuation: ValuationService,
  ) {}

  load(portfolioIds: readonly string[]): Promise<LivePortfolioState[]> {
    return asSystem(() => this.loadAll(portfolioIds));
  }

  private async loadAll(portfolioIds: readonly string[]): Promise<LivePortfolioState[]> {
    if (!portfolioIds.length) return [];
    const portfolios = await this.db.portfolio.findMany({ where: { id: { in: [...portfolioIds] } } });
    if (!portfolios.length) return [];
    const values = await this.valuation.valueMany(portfolios);
    const sids = [...new Set(values.flatMap((v) => v.holdings.map((h) => h.securityId)))];
    const quotes = sids.length ? await this.db.quote.findMany({ where: { securityId: { in: sids } }, select: { securityId: true, price: true, ts: true } }) : [];
    const quoteOf = new Map(quotes.map((q) => [q.securityId, q]));
    const ids = portfolios.map((p) => p.id);
    const series = await this.db.$queryRaw<{ portfolio_id: string; last: string | null; peak: string | null }[]>`
      SELECT portfolio_id::text AS portfolio_id,
             (array_agg(nav ORDER BY asof_date DESC))[1]::text AS last, max(nav)::text AS peak
      FROM portfolio_daily_values WHERE portfolio_id = ANY(${ids}::uuid[]) GROUP BY portfolio_id`;
    const seriesOf = new Map(series.map((s) => [s.portfolio_id, s]));
    return portfolios.map((p, i) => {
      const v = values[i]!;
      const s = seriesOf.get(p.id);
      return {
        portfolioId: p.id,
        baseCurrency: p.baseCurrency,
        positions: v.holdings.map((h) => {
          const q = quoteOf.get(h.securityId);
          return {
            securityId: h.securityId,
            symbol: h.symbol,
            currency: h.currency,
            quantity: h.quantity,
            costBasis: h.costBasis,
            price: q ? new D(q.price.toFixed()) : h.price,
            priceTs: q ? q.ts.getTime() : 0,
          };
        }),
        cash: v.cash.map((c) => ({ currency: c.currency, balance: c.balance })),
        referenceNav: s?.last ? new D(s.last) : null,
        peakNav: s?.peak ? new D(s.peak) : null,
      };
    });
  }

  /** The newest rate of every stored pair: live NAV converts at the latest rates. */
  async latestFxRates(): Promise<FxQuote[]> {
    const rows = await this.db.$queryRaw<{ base: string; quote: string; date: string; rate: string }[]>`
      SELECT DISTINCT ON (base, quote) base, quote, to_char(date, 'YYYY-MM-DD') AS date, rate::text AS rate
      FROM fx_rates ORDER BY base, quote, date DESC`;
    return rows.map((r) => ({ base: r.base, quote: r.quote, date: r.date, rate: new D(r.rate) }));
  }
}
