import { D } from '../domain/decimal';
import { alertMessage, alertStep, evaluateAlert, type AlertRuleInput, type FiringState } from '../domain/alerts';
import type { EventBus } from '../events/bus';
import type { ActiveRule, AlertService } from '../services/alerts';
import { eventKey, type LivePortfolio, type NavEngine } from './nav-engine';

interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface RuleState extends AlertRuleInput, FiringState {
  id: string;
  portfolioId: string;
  cooldownSeconds: number;
  /** Its condition held at the last evaluation. */
  active: boolean;
  /** Never fired nor evaluated: its first evaluation has a key every process agrees on. */
  fresh: boolean;
}

const PRICE_TYPES = new Set(['PRICE_ABOVE', 'PRICE_BELOW']);

/**
 * Evaluates every active rule on each revaluation of its portfolio (NAV rules, weights) and
 * on each price event of its security (price rules), one event at a time: bursts are not
 * coalesced here, so every process sees the same sequence of conditions. A rule fires when its
 * condition holds, it has cleared since its last firing and its cooldown has passed
 * (src/domain/alerts.ts, alertStep); the firing is persisted with the dedupe key
 * `<rule>:<event>`, the same in every process, so exactly one row is written. Whether the
 * cooldown has passed is decided on each process's clock, which may disagree near its end:
 * recordFiring checks it again on the rule's row, under its lock, so that a second process
 * firing on a later event within the cooldown writes nothing. Rules fire at evaluations
 * only (a NAV change, a price tick), never on a timer: a timer's firing would have no key
 * the processes agree on. Persistence is fire-and-forget: nothing here blocks the event's publisher.
 */
export class AlertEngine {
  private readonly rules = new Map<string, RuleState>();
  private readonly byPortfolio = new Map<string, Set<RuleState>>();
  private readonly bySecurity = new Map<string, Set<RuleState>>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly alerts: AlertService,
    private readonly nav: NavEngine,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.nav.onRevalued((p, key) => this.onRevalued(p, key));
    this.unsubscribe.push(
      this.bus.subscribe('prices.ingested', (e) => {
        const key = eventKey(e);
        for (const t of e.prices) for (const r of this.bySecurity.get(t.securityId) ?? []) if (PRICE_TYPES.has(r.type)) this.evaluate(r, null, key, new D(t.price));
      }),
      this.bus.subscribe('alert.rules.changed', (e) => void this.reload(e.ruleId).catch((err: unknown) => this.log.error({ err }, 'alerts: reloading a rule failed'))),
      // A rule created through another process may be among the lost events (rules are only ever created).
      this.bus.subscribe('events.missed', () => void this.addMissing().catch((err: unknown) => this.log.error({ err }, 'alerts: reloading rules failed'))),
    );
    for (const r of await this.alerts.activeRules()) this.add(r);
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private async reload(ruleId: string): Promise<void> {
    const old = this.rules.get(ruleId);
    if (old) this.remove(old);
    for (const r of await this.alerts.activeRules({ ruleId })) this.add(r);
  }

  private async addMissing(): Promise<void> {
    for (const r of await this.alerts.activeRules()) if (!this.rules.has(r.id)) this.add(r);
  }

  private add(r: ActiveRule): void {
    const s: RuleState = {
      id: r.id,
      portfolioId: r.portfolioId,
      type: r.type,
      threshold: new D(r.threshold),
      securityId: r.securityId,
      symbol: r.symbol,
      cooldownSeconds: r.cooldownSeconds,
      active: r.triggered,
      lastFiredAt: r.lastTriggeredAt?.getTime() ?? null,
      // `triggered` is kept as "fired and not cleared since" (recordFiring sets it, markCleared unsets it).
      cleared: !r.triggered,
      fresh: !r.triggered && !r.lastTriggeredAt,
    };
    this.rules.set(s.id, s);
    setAdd(this.byPortfolio, s.portfolioId, s);
    if (s.securityId) setAdd(this.bySecurity, s.securityId, s);
    const p = this.nav.retain(s.portfolioId);
    if (p.loaded) this.evaluate(s, p, `initial`);
    else if (PRICE_TYPES.has(s.type) && s.securityId && this.nav.priceOf(s.securityId)) this.evaluate(s, null, 'initial', this.nav.priceOf(s.securityId)!);
  }

  private remove(s: RuleState): void {
    this.rules.delete(s.id);
    this.byPortfolio.get(s.portfolioId)?.delete(s);
    if (s.securityId) this.bySecurity.get(s.securityId)?.delete(s);
    this.nav.releaseRule(s.portfolioId);
  }

  private onRevalued(p: LivePortfolio, key: string): void {
    for (const r of this.byPortfolio.get(p.id) ?? []) if (!PRICE_TYPES.has(r.type)) this.evaluate(r, p, key);
  }

  private evaluate(r: RuleState, p: LivePortfolio | null, key: string, price?: D): void {
    const { active, value } = evaluateAlert(r, {
      nav: p?.nav ?? new D(0),
      referenceNav: p?.referenceNav ?? new D(0),
      peakNav: p?.peakNav ?? new D(0),
      price: (sid) => (price && sid === r.securityId ? price : this.nav.priceOf(sid)),
      weight: (sid) => p?.weight(sid) ?? null,
    });
    const dedupeKey = `${r.id}:${r.fresh ? 'initial' : key}`;
    r.fresh = false;
    r.active = active && !!value;
    const now = Date.now();
    const step = alertStep(r, r.active, r.cooldownSeconds, now);
    if (step === 'clear') {
      r.cleared = true;
      void this.alerts.markCleared(r.id, new Date(now)).catch((err: unknown) => this.log.warn({ err }, 'alerts: clearing a rule failed'));
    }
    if (step !== 'fire' || !value) return;
    r.cleared = false;
    r.lastFiredAt = now;
    void this.alerts
      .recordFiring({ ruleId: r.id, portfolioId: r.portfolioId, type: r.type, value: value.toFixed(), message: alertMessage(r, value), dedupeKey, at: new Date(now) })
      .catch((err: unknown) => this.log.error({ err, ruleId: r.id }, 'alerts: persisting a firing failed'));
  }
}

function setAdd<K, V>(map: Map<K, Set<V>>, k: K, v: V): void {
  let s = map.get(k);
  if (!s) map.set(k, (s = new Set()));
  s.add(v);
}
