import type { Security } from '../generated/prisma/client';
import type { Db } from './db';
import type { ServiceContext } from './context';
import { requireActor, requireRole } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { markBenchmarkSumsStale } from './benchmark-sums';
import type { EventBus } from '../events/bus';
import { countryCode, currencyCode, optionalText, symbol as validSymbol, text } from './validate';

export interface SecurityInput {
  symbol: string;
  name: string;
  currency: string;
  securityType?: string | null;
  sector?: string | null;
  industry?: string | null;
  country?: string | null;
  assetClass?: string | null;
  exchange?: string | null;
}

export class SecurityService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  /** The security master is shared by all portfolios, so only ADMIN and MANAGER change it. */
  async upsert(ctx: ServiceContext, input: SecurityInput): Promise<Security> {
    requireRole(ctx, 'ADMIN', 'MANAGER');
    const data = {
      name: text(input.name, 'name'),
      currency: currencyCode(input.currency),
      securityType: optionalText(input.securityType, 'securityType', 40),
      sector: optionalText(input.sector, 'sector', 80),
      industry: optionalText(input.industry, 'industry', 80),
      country: input.country ? countryCode(input.country) : null,
      assetClass: optionalText(input.assetClass, 'assetClass', 40),
      exchange: optionalText(input.exchange, 'exchange', 40),
    };
    const sym = validSymbol(input.symbol);
    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const before = await tx.security.findUnique({ where: { symbol: sym } });
      const security = await tx.security.upsert({ where: { symbol: sym }, create: { symbol: sym, ...data }, update: data });
      await writeAudit(tx, ctx, { action: before ? 'security.update' : 'security.create', entityType: 'Security', entityId: security.id, before, after: security });
      const changed = before ? (Object.keys(data) as (keyof typeof data)[]).filter((k) => before[k] !== security[k]) : [];
      // A new classification or currency regroups attribution and benchmark sums over all past days.
      if (changed.some((k) => k === 'sector' || k === 'assetClass' || k === 'country' || k === 'currency')) await markBenchmarkSumsStale(tx, { securityId: security.id });
      // A new security is in no cache yet; an edited one is in every process's (valuations show its name too).
      if (changed.length) afterCommit(() => this.bus.publish({ type: 'security.changed', securityId: security.id, symbol: security.symbol, changed }));
      return security;
    });
  }

  async bySymbol(ctx: ServiceContext, symbol: string): Promise<Security | null> {
    requireActor(ctx);
    const sym = symbol.trim().toUpperCase();
    return sym.length > 32 ? null : this.db.security.findUnique({ where: { symbol: sym } });
  }
}
