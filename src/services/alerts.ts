import { randomUUID } from 'node:crypto';
import type { AlertEvent, AlertRule, AlertType, Portfolio } from '../generated/prisma/client';
import type Decimal from 'decimal.js';
import { DomainError } from '../domain/errors';
import { mayFire } from '../domain/alerts';
import type { EventBus } from '../events/bus';
import type { Db } from './db';
import type { ServiceContext } from './context';
import { canRead, findReadablePortfolio, getReadablePortfolio, getWritablePortfolio, readableWhere, requireActor, type PortfolioAudience } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { paginate, type Page, type PageArgs } from './pagination';
import { badInput, isUuid, symbol as validSymbol } from './validate';
import { validateWebhookUrl, WebhookService } from './webhooks';
import { asSystem } from '../db/principal';

export interface AlertRuleInput {
  portfolioId: string;
  type: AlertType;
  threshold: Decimal;
  symbol?: string | null;
  cooldownSeconds?: number | null;
  webhookUrl?: string | null;
}

export type AlertRuleRow = AlertRule & { security: { symbol: string } | null };

export interface ActiveRule {
  id: string;
  portfolioId: string;
  type: AlertType;
  threshold: string;
  securityId: string | null;
  symbol: string | null;
  cooldownSeconds: number;
  triggered: boolean;
  lastTriggeredAt: Date | null;
}

const SYMBOL_RULES: ReadonlySet<AlertType> = new Set(['PRICE_ABOVE', 'PRICE_BELOW', 'POSITION_WEIGHT_ABOVE']);
const MAX_RULES_PER_PORTFOLIO = 100;

/**
 * Alert rules and their firings. A firing is one row of alert_events whose dedupe_key names
 * the rule and the event that made it true: every server process evaluating the same event
 * computes the same key, and the unique index lets exactly one insert win.
 */
export class AlertService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    /** allowPrivateWebhooks: WEBHOOK_ALLOW_PRIVATE (src/services/webhooks.ts). */
    private readonly options: { allowPrivateWebhooks?: boolean } = {},
  ) {}

  async createRule(ctx: ServiceContext, input: AlertRuleInput): Promise<AlertRuleRow> {
    if (!input.threshold.isFinite()) throw badInput('threshold must be a finite decimal');
    const cooldown = input.cooldownSeconds ?? 0;
    if (!Number.isInteger(cooldown) || cooldown < 0 || cooldown > 30 * 86400) throw badInput('cooldownSeconds must be an integer from 0 to 2592000');
    const webhookUrl = input.webhookUrl != null && input.webhookUrl !== '' ? validateWebhookUrl(input.webhookUrl, { allowPrivate: this.options.allowPrivateWebhooks ?? false }) : null;
    if (SYMBOL_RULES.has(input.type) && !input.symbol) throw badInput(`${input.type} needs a symbol`);
    if (['NAV_CHANGE_PCT', 'DRAWDOWN_PCT', 'POSITION_WEIGHT_ABOVE'].includes(input.type) && (input.threshold.lte(0) || input.threshold.gt(1000)))
      throw badInput(`${input.type} takes a positive fraction as threshold (5% is 0.05)`);
    return inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const portfolio = await getWritablePortfolio(tx, ctx, input.portfolioId);
      let securityId: string | null = null;
      if (input.symbol) {
        const sec = await tx.security.findUnique({ where: { symbol: validSymbol(input.symbol).toUpperCase() } });
        if (!sec) throw badInput(`unknown symbol ${input.symbol}`);
        securityId = sec.id;
      }
      if ((await tx.alertRule.count({ where: { portfolioId: portfolio.id, isActive: true } })) >= MAX_RULES_PER_PORTFOLIO)
        throw badInput(`at most ${MAX_RULES_PER_PORTFOLIO} active alert rules per portfolio`);
      const rule = await tx.alertRule.create({
        data: { portfolioId: portfolio.id, type: input.type, threshold: input.threshold.toFixed(), securityId, cooldownSeconds: cooldown, webhookUrl },
        include: { security: { select: { symbol: true } } },
      });
      await writeAudit(tx, ctx, { action: 'alertRule.create', entityType: 'AlertRule', entityId: rule.id, portfolioId: portfolio.id, after: rule });
      afterCommit(() => this.bus.publish({ type: 'alert.rules.changed', portfolioId: portfolio.id, ruleId: rule.id }));
      return rule;
    });
  }

  async acknowledge(ctx: ServiceContext, id: string): Promise<AlertEvent> {
    const actor = requireActor(ctx);
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', `alert event ${id} not found`);
    return inTransaction(this.db, ctx, async (tx) => {
      const event = await tx.alertEvent.findUnique({ where: { id } });
      if (!event) throw new DomainError('NOT_FOUND', `alert event ${id} not found`);
      await getReadablePortfolio(tx, ctx, event.portfolioId).catch(() => {
        throw new DomainError('NOT_FOUND', `alert event ${id} not found`);
      });
      if (event.acknowledgedAt) return event;
      const updated = await tx.alertEvent.update({ where: { id }, data: { acknowledgedAt: new Date(), acknowledgedBy: actor.userId } });
      await writeAudit(tx, ctx, { action: 'alertEvent.acknowledge', entityType: 'AlertEvent', entityId: id, portfolioId: event.portfolioId, before: event, after: updated });
      return updated;
    });
  }

  /** Rules of a portfolio the caller was allowed to read. */
  rulesOf(portfolio: Pick<Portfolio, 'id'>): Promise<AlertRuleRow[]> {
    return this.db.alertRule.findMany({ where: { portfolioId: portfolio.id }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], include: { security: { select: { symbol: true } } } });
  }

  /** Firings, oldest first, so that `after: <last cursor seen>` returns what a client missed. */
  eventsOf(portfolio: Pick<Portfolio, 'id'>, args: PageArgs): Promise<Page<AlertEvent>> {
    const where = { portfolioId: portfolio.id };
    return paginate(
      args,
      (e) => e.id,
      async (after, take) => {
        if (after && !isUuid(after)) throw badInput('after is not a cursor from this API');
        return this.db.alertEvent.findMany({ where, orderBy: [{ triggeredAt: 'asc' }, { id: 'asc' }], take, ...(after ? { cursor: { id: after }, skip: 1 } : {}) });
      },
      () => this.db.alertEvent.count({ where }),
    );
  }

  /** One firing, when the caller may read its portfolio (subscriptions re-check per event). */
  async event(ctx: ServiceContext, id: string): Promise<AlertEvent | null> {
    const actor = requireActor(ctx);
    return this.db.alertEvent.findFirst({ where: { id, portfolio: readableWhere(actor) } });
  }

  /** The portfolio for a subscription: NOT_FOUND for unknown and foreign alike (the latter recorded). */
  async readablePortfolio(ctx: ServiceContext, id: string): Promise<Portfolio> {
    const p = await findReadablePortfolio(this.db, ctx, id);
    if (!p) throw new DomainError('NOT_FOUND', `portfolio ${id} not found`);
    return p;
  }

  /** Whether the actor reads a portfolio, as a test on its audience (alertTriggered without a portfolio, per event). */
  readsAudience(ctx: ServiceContext): (a: PortfolioAudience) => boolean {
    const actor = requireActor(ctx);
    return (a) => canRead(actor, a);
  }

  /**
   * A portfolio's owner and the VIEWERs it is shared with (null if it does not exist), for the
   * realtime engine's per-event decisions: asked for the system, it is every reader's question.
   */
  async audienceOf(portfolioId: string): Promise<PortfolioAudience | null> {
    const p = await asSystem(() => this.db.portfolio.findUnique({ where: { id: portfolioId }, select: { ownerId: true, shares: { select: { userId: true } } } }));
    return p && { portfolioId, ownerId: p.ownerId, viewerIds: new Set(p.shares.map((s) => s.userId)) };
  }

  // ------------------------------------------------------------------ for the alert engine
  // It watches every owner's rules: these run in the system context.

  async activeRules(where: { portfolioId?: string; ruleId?: string } = {}): Promise<ActiveRule[]> {
    const rows = await asSystem(() => this.db.alertRule.findMany({
      where: { isActive: true, ...(where.portfolioId ? { portfolioId: where.portfolioId } : {}), ...(where.ruleId ? { id: where.ruleId } : {}) },
      include: { security: { select: { symbol: true } } },
    }));
    return rows.map((r) => ({
      id: r.id,
      portfolioId: r.portfolioId,
      type: r.type,
      threshold: r.threshold.toFixed(),
      securityId: r.securityId,
      symbol: r.security?.symbol ?? null,
      cooldownSeconds: r.cooldownSeconds,
      triggered: r.triggered,
      lastTriggeredAt: r.lastTriggeredAt,
    }));
  }

  /**
   * Persists one firing (and its webhook delivery row); a second process (or a replay) with
   * the same dedupe key inserts nothing, and neither does a firing within the rule's cooldown
   * of the last one recorded (the processes' clocks may disagree on when it ends, and each
   * would fire on a different event: the rule's row, locked, decides). Publishes
   * `alert.triggered` after commit only when this call wrote the row.
   */
  async recordFiring(f: { ruleId: string; portfolioId: string; type: AlertType; value: string; message: string; dedupeKey: string; at: Date }): Promise<string | null> {
    const system: ServiceContext = { actor: null, meta: { requestId: `alert:${f.dedupeKey}` } };
    return asSystem(() => inTransaction(this.db, system, async (tx, afterCommit) => {
      const [rule] = await tx.$queryRaw<{ cooldown_seconds: number; last_triggered_at: Date | null }[]>`
        SELECT cooldown_seconds, last_triggered_at FROM alert_rules WHERE id = ${f.ruleId}::uuid AND is_active FOR UPDATE`;
      if (!rule || !mayFire(rule.last_triggered_at?.getTime() ?? null, Number(rule.cooldown_seconds), f.at.getTime())) return null;
      const [row] = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO alert_events (id, rule_id, portfolio_id, type, value, message, dedupe_key, triggered_at)
        VALUES (${randomUUID()}::uuid, ${f.ruleId}::uuid, ${f.portfolioId}::uuid, ${f.type}::"AlertType", ${f.value}::numeric, ${f.message}, ${f.dedupeKey}, ${f.at})
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id::text AS id`;
      if (!row) return null;
      await tx.$executeRaw`UPDATE alert_rules SET triggered = true, last_triggered_at = ${f.at} WHERE id = ${f.ruleId}::uuid`;
      // Its webhook delivery, if the rule has a URL: written with the event, so exactly once too.
      await WebhookService.enqueue(tx, row.id, f.ruleId);
      await writeAudit(tx, system, { action: 'alert.trigger', entityType: 'AlertEvent', entityId: row.id, portfolioId: f.portfolioId, after: { ruleId: f.ruleId, value: f.value, dedupeKey: f.dedupeKey } });
      afterCommit(() => this.bus.publish({ type: 'alert.triggered', portfolioId: f.portfolioId, alertEventId: row.id }));
      return row.id;
    }));
  }

  /**
   * The rule's condition no longer held `at`: it may fire again. A firing recorded after `at`
   * (this write and that one are not ordered: both are fire-and-forget) is not undone.
   */
  async markCleared(ruleId: string, at: Date): Promise<void> {
    await asSystem(() => this.db.$executeRaw`UPDATE alert_rules SET triggered = false WHERE id = ${ruleId}::uuid AND triggered AND (last_triggered_at IS NULL OR last_triggered_at <= ${at})`);
  }
}
