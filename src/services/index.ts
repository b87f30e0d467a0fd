import type { Db } from './db';
import type { EventBus } from '../events/bus';
import { AuditLogService } from './audit-log';
import { IdentityService, type IdentityOptions } from './identity';
import { SharingService } from './sharing';
import { MarketDataService } from './market-data';
import { ValuationService, type ValuationOptions } from './valuation';
import { PortfolioService } from './portfolios';
import { SecurityService } from './securities';
import { LedgerService } from './ledger';
import { TradingService } from './trading';
import { AlertService } from './alerts';
import { LiveService } from './live';
import { AnalyticsService } from './analytics';
import { BenchmarkService } from './benchmarks';
import { WebhookService, type WebhookOptions } from './webhooks';
import { OrderExpiryService } from './order-expiry';
import type { DayClose } from '../domain/trading-day';

export type { ServiceContext, Actor, RequestMeta } from './context';

/** The use cases, each bound to one database and the bus they publish on; built once per process. */
export interface ServiceOptions {
  identity?: Partial<IdentityOptions>;
  valuation?: ValuationOptions;
  webhooks?: Partial<WebhookOptions>;
  /** When DAY orders expire (ORDER_DAY_TIMEZONE, ORDER_DAY_CLOSE). */
  orderDayClose?: DayClose;
}

export function createServices(db: Db, bus: EventBus, options: ServiceOptions = {}) {
  const ledger = new LedgerService(db, bus);
  const valuation = new ValuationService(db, bus, options.valuation);
  const analytics = new AnalyticsService(db, bus, valuation);
  return {
    ledger,
    trading: new TradingService(db, bus, ledger, options.orderDayClose),
    orderExpiry: new OrderExpiryService(db, bus, options.orderDayClose),
    identity: new IdentityService(db, bus, options.identity),
    sharing: new SharingService(db, bus),
    portfolios: new PortfolioService(db),
    securities: new SecurityService(db, bus),
    auditLog: new AuditLogService(db),
    marketData: new MarketDataService(db, bus),
    valuation,
    alerts: new AlertService(db, bus, { allowPrivateWebhooks: options.webhooks?.allowPrivate }),
    webhooks: new WebhookService(db, options.webhooks),
    live: new LiveService(db, valuation),
    analytics,
    benchmarks: new BenchmarkService(db, bus),
  };
}

export type Services = ReturnType<typeof createServices>;
