import type Decimal from 'decimal.js';

/**
 * Alert rules on plain data (API.md, AlertType). A rule is *active* while its condition
 * holds. It fires at an evaluation where its condition holds, it has never fired or has been
 * seen cleared (inactive) at an evaluation since its last firing, and its cooldown has passed
 * since that firing (`alertStep`). So a rule that is true again inside its cooldown fires at
 * the first evaluation after the cooldown at which it still holds; one that never clears fires
 * once. Thresholds: prices and NAVs in their own currency, percentages as fractions (5% is 0.05).
 */

export type AlertType = 'PRICE_ABOVE' | 'PRICE_BELOW' | 'NAV_BELOW' | 'NAV_ABOVE' | 'NAV_CHANGE_PCT' | 'DRAWDOWN_PCT' | 'POSITION_WEIGHT_ABOVE';

export interface AlertRuleInput {
  type: AlertType;
  threshold: Decimal;
  securityId: string | null;
  symbol: string | null;
}

/** What a rule looks at: the portfolio's live NAV and the prices and weights of what it holds. */
export interface AlertSnapshot {
  nav: Decimal;
  /** NAV the change is measured from (the last stored daily NAV, else the first live one). */
  referenceNav: Decimal;
  /** Highest NAV seen (stored series and live). */
  peakNav: Decimal;
  price(securityId: string): Decimal | null;
  weight(securityId: string): Decimal | null;
}

export interface AlertEvaluation {
  active: boolean;
  /** The value compared with the threshold (null when it cannot be computed: no price, zero NAV). */
  value: Decimal | null;
}

export function evaluateAlert(rule: AlertRuleInput, s: AlertSnapshot): AlertEvaluation {
  const t = rule.threshold;
  switch (rule.type) {
    case 'PRICE_ABOVE':
    case 'PRICE_BELOW': {
      const p = rule.securityId ? s.price(rule.securityId) : null;
      if (!p) return { active: false, value: null };
      return { active: rule.type === 'PRICE_ABOVE' ? p.gt(t) : p.lt(t), value: p };
    }
    case 'NAV_ABOVE':
      return { active: s.nav.gt(t), value: s.nav };
    case 'NAV_BELOW':
      return { active: s.nav.lt(t), value: s.nav };
    case 'NAV_CHANGE_PCT': {
      if (s.referenceNav.isZero()) return { active: false, value: null };
      const pct = s.nav.minus(s.referenceNav).div(s.referenceNav.abs());
      return { active: pct.abs().gte(t.abs()), value: pct.toDecimalPlaces(10) };
    }
    case 'DRAWDOWN_PCT': {
      if (!s.peakNav.gt(0)) return { active: false, value: null };
      const dd = s.peakNav.minus(s.nav).div(s.peakNav);
      return { active: dd.gte(t), value: dd.toDecimalPlaces(10) };
    }
    case 'POSITION_WEIGHT_ABOVE': {
      const w = rule.securityId ? s.weight(rule.securityId) : null;
      if (!w) return { active: false, value: null };
      return { active: w.gt(t), value: w.toDecimalPlaces(10) };
    }
  }
}

/** Whether the cooldown after the last firing (ms since the epoch) has passed at `now`; no cooldown never holds a rule back. */
export function mayFire(lastFiredAt: number | null, cooldownSeconds: number, now: number): boolean {
  return lastFiredAt === null || cooldownSeconds <= 0 || now - lastFiredAt >= cooldownSeconds * 1000;
}

/** What a rule remembers between evaluations. */
export interface FiringState {
  /** When it last fired (ms since the epoch), null if never. */
  lastFiredAt: number | null;
  /** Never fired, or seen inactive at an evaluation since its last firing: it is armed. */
  cleared: boolean;
}

/**
 * One evaluation of a rule whose condition is `active` at `now`: `fire` (then it is no longer
 * cleared), `clear` (it fired and its condition no longer holds: armed again), or `none`.
 */
export function alertStep(s: FiringState, active: boolean, cooldownSeconds: number, now: number): 'fire' | 'clear' | 'none' {
  if (!active) return s.cleared ? 'none' : 'clear';
  return s.cleared && mayFire(s.lastFiredAt, cooldownSeconds, now) ? 'fire' : 'none';
}

export function alertMessage(rule: AlertRuleInput, value: Decimal): string {
  const v = value.toFixed();
  const t = rule.threshold.toFixed();
  switch (rule.type) {
    case 'PRICE_ABOVE':
      return `${rule.symbol} at ${v} is above ${t}`;
    case 'PRICE_BELOW':
      return `${rule.symbol} at ${v} is below ${t}`;
    case 'NAV_ABOVE':
      return `NAV ${v} is above ${t}`;
    case 'NAV_BELOW':
      return `NAV ${v} is below ${t}`;
    case 'NAV_CHANGE_PCT':
      return `NAV moved ${v} (threshold ${t})`;
    case 'DRAWDOWN_PCT':
      return `drawdown ${v} from peak reaches ${t}`;
    case 'POSITION_WEIGHT_ABOVE':
      return `${rule.symbol} weighs ${v}, above ${t}`;
  }
}
