import type { Logger } from '../logger';
import type { ServiceContext, Services } from '../services';
import { D } from '../domain/decimal';
import { DEMO_API_KEY, DEMO_SECURITIES, DEMO_USER, businessDays, demoFxRates, demoPriceBars } from '../db/demo-data';
import { seedDemoLedger } from './demo-ledger';

/**
 * Loads the demo dataset through the services (never raw SQL), so it obeys every rule a
 * client's data does. Runs only on a database without securities; returns whether it did.
 */
export async function seedDemo(services: Services, isEmpty: () => Promise<boolean>, log: Logger, today = new Date()): Promise<boolean> {
  const meta = { requestId: 'seed-demo' };
  const user = await services.identity.ensureKey({ actor: null, meta }, DEMO_API_KEY, DEMO_USER, 'demo key');
  if (!(await isEmpty())) return false;
  const ctx: ServiceContext = { actor: { userId: user.id, role: user.role, apiKeyId: null }, meta };
  const started = Date.now();

  for (const s of DEMO_SECURITIES) {
    await services.securities.upsert(ctx, s);
  }
  const end = today.toISOString().slice(0, 10);
  const start = new Date(today.getTime() - 2 * 365 * 86_400_000).toISOString().slice(0, 10);
  const days = businessDays(start, end);
  const bars = demoPriceBars(days).map((b) => ({ ...b, open: new D(b.open), high: new D(b.high), low: new D(b.low), close: new D(b.close), volume: new D(b.volume) }));
  const prices = await services.marketData.ingestPrices(ctx, bars);
  const fx = await services.marketData.ingestFxRates(ctx, demoFxRates(days).map((r) => ({ ...r, rate: new D(r.rate) })));
  if (prices.rejected || fx.rejected) throw new Error(`demo data rejected: ${JSON.stringify([...prices.errors, ...fx.errors].slice(0, 3))}`);

  await services.portfolios.create(ctx, { name: 'Global Growth', baseCurrency: 'USD', costBasisMethod: 'FIFO' });
  await services.portfolios.create(ctx, { name: 'Euro Income', baseCurrency: 'EUR', costBasisMethod: 'HIFO' });
  const ledger = await seedDemoLedger(services, ctx, days, demoPriceBars(days));
  log.info(ledger, 'demo trading history booked');
  log.info({ securities: DEMO_SECURITIES.length, priceBars: prices.accepted, fxRates: fx.accepted, ms: Date.now() - started }, 'demo data loaded');
  return true;
}
