import { D, ZERO, ONE, dec, sum } from '../decimal';
import { DomainError } from '../errors';

/**
 * Currency attribution of a base-currency return, per currency C and in total:
 *   1 + R_base = (1 + R_local)(1 + R_fx)
 *   R_base = R_local + R_fx + R_local·R_fx          (the last term is the interaction)
 * R_local is the return in C, R_fx the return of C against the portfolio's base
 * currency B. FX rates here are always "units of B for 1 unit of C" (the C→B
 * rate of ARCHITECTURE.md; use the inverse of a B→C row).
 *
 * Totals weight each currency by its beginning-of-period base-currency weight:
 *   local = Σ w·R_local, fx = Σ w·R_fx, interaction = Σ w·R_local·R_fx.
 * errorBps = (reported base return − (local + fx + interaction)) × 10 000:
 * what this buy-and-hold decomposition does not explain (intra-period trading,
 * flows, a reported TWR …). Without a reported return it is 0.
 */

export interface CurrencyLegInput {
  currency: string;
  /** Beginning-of-period weight in base currency; the weights sum to 1. */
  weight: D;
  localReturn: D;
  fxReturn: D;
}

export interface CurrencyLegResult extends CurrencyLegInput {
  interaction: D;
  /** (1 + local)(1 + fx) − 1 */
  baseReturn: D;
}

export interface CurrencyAttributionResult {
  localReturn: D;
  fxReturn: D;
  interaction: D;
  /** The reported base return when given, else local + fx + interaction. */
  totalReturn: D;
  errorBps: D;
  currencies: CurrencyLegResult[];
}

const BPS = dec(10000);
const WEIGHT_TOLERANCE = dec('1e-20');

/** Return of currency C against the base: endRate / startRate − 1 (rates in base units per unit of C). */
export function fxReturn(startRate: D, endRate: D): D {
  if (!startRate.gt(0) || !endRate.gt(0)) {
    throw new DomainError('BAD_USER_INPUT', 'FX rates must be positive');
  }
  return endRate.div(startRate).minus(ONE);
}

export function currencyLeg(leg: CurrencyLegInput): CurrencyLegResult {
  const interaction = leg.localReturn.times(leg.fxReturn);
  return {
    ...leg,
    interaction,
    baseReturn: ONE.plus(leg.localReturn).times(ONE.plus(leg.fxReturn)).minus(ONE),
  };
}

export interface CurrencyValues {
  currency: string;
  /** Value of the currency's holdings, in that currency, at the start and end of the period. */
  startLocal: D;
  endLocal: D;
  /** C→B rates at the start and end. */
  startFx: D;
  endFx: D;
}

/**
 * Legs from start/end values (buy and hold): weight = start value in base /
 * total start value in base; R_local = end/start − 1. A currency with no
 * starting value gets weight 0 and local return 0.
 */
export function legsFromValues(values: readonly CurrencyValues[]): CurrencyLegInput[] {
  for (const v of values) {
    if (v.startLocal.lt(0) || v.endLocal.lt(0)) {
      throw new DomainError('BAD_USER_INPUT', `negative value in ${v.currency}: currency attribution needs long values`);
    }
  }
  const startBase = values.map((v) => v.startLocal.times(v.startFx));
  const total = sum(startBase);
  if (values.length > 0 && !total.gt(0)) {
    throw new DomainError('BAD_USER_INPUT', 'the starting value is zero: no currency weights');
  }
  return values.map((v, i) => ({
    currency: v.currency,
    weight: (startBase[i] as D).div(total),
    localReturn: v.startLocal.isZero() ? ZERO : v.endLocal.div(v.startLocal).minus(ONE),
    fxReturn: fxReturn(v.startFx, v.endFx),
  }));
}

export function currencyAttribution(
  legs: readonly CurrencyLegInput[],
  reportedBaseReturn?: D,
): CurrencyAttributionResult {
  const seen = new Set<string>();
  for (const l of legs) {
    if (seen.has(l.currency)) throw new DomainError('BAD_USER_INPUT', `currency ${l.currency} appears twice`);
    seen.add(l.currency);
  }
  const totalWeight = sum(legs.map((l) => l.weight));
  if (legs.length > 0 && totalWeight.minus(ONE).abs().gt(WEIGHT_TOLERANCE)) {
    throw new DomainError('BAD_USER_INPUT', `currency weights sum to ${totalWeight.toString()}, not 1`);
  }
  const currencies = legs.map(currencyLeg);
  const localReturn = sum(currencies.map((c) => c.weight.times(c.localReturn)));
  const fx = sum(currencies.map((c) => c.weight.times(c.fxReturn)));
  const interaction = sum(currencies.map((c) => c.weight.times(c.interaction)));
  const explained = localReturn.plus(fx).plus(interaction);
  const totalReturn = reportedBaseReturn ?? explained;
  return {
    localReturn,
    fxReturn: fx,
    interaction,
    totalReturn,
    errorBps: totalReturn.minus(explained).times(BPS),
    currencies,
  };
}
