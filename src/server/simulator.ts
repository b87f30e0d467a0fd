import type { Logger } from '../logger';
import type { ServiceContext, Services } from '../services';
import type { Db } from '../services/db';
import { D } from '../domain/decimal';
import { DEMO_SECURITIES, prng } from '../db/demo-data';
import { asSystem } from '../db/principal';

/**
 * The demo's market: every `intervalMs` each demo security moves by a small random step
 * from its latest quote, ingested as a tick through the same service a price feed uses,
 * so that everything downstream (quotes, live NAV, alerts, the paper broker) reacts.
 */
export function startMarketSimulator(services: Services, db: Db, ctx: ServiceContext, log: Logger, intervalMs: number): () => void {
  const rand = prng(Date.now() % 2 ** 31);
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const quotes = await db.quote.findMany({ where: { security: { symbol: { in: DEMO_SECURITIES.map((s) => s.symbol) } } }, include: { security: true } });
      const at = new Date();
      const rows = quotes.map((q) => {
        // ±0.3% steps, rounded to the price's 4 decimal places.
        const step = new D(((rand() - 0.5) * 0.006).toFixed(6));
        return { symbol: q.security.symbol, at, close: new D(q.price.toFixed()).times(step.plus(1)).toDecimalPlaces(4) };
      });
      if (rows.length) await services.marketData.ingestPrices(ctx, rows);
    } catch (err) {
      log.warn({ err }, 'market simulator tick failed');
    } finally {
      busy = false;
    }
  };
  // A price feed, not a user: it runs in the system context.
  const timer = setInterval(() => void asSystem(tick), intervalMs);
  log.info({ intervalMs, securities: DEMO_SECURITIES.length }, 'market simulator started');
  return () => clearInterval(timer);
}
