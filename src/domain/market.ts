import type Decimal from 'decimal.js';

export interface Bar {
  open?: Decimal | null;
  high?: Decimal | null;
  low?: Decimal | null;
  close: Decimal;
  volume?: Decimal | null;
}

/**
 * Why a price bar cannot be stored, or null when it can: prices positive, high the
 * highest and low the lowest of the bar, volume not negative. The database enforces
 * the same rules with CHECK constraints; this names the broken one for the client.
 */
export function barProblem(bar: Bar): string | null {
  const { open, high, low, close, volume } = bar;
  for (const [name, v] of [['open', open], ['high', high], ['low', low], ['close', close]] as const) {
    if (v && !v.isFinite()) return `${name} is not a finite number`;
    if (v && v.lte(0)) return `${name} must be greater than 0, got ${v.toFixed()}`;
  }
  if (high && low && high.lt(low)) return `high ${high.toFixed()} is below low ${low.toFixed()}`;
  for (const [name, v] of [['open', open], ['close', close]] as const) {
    if (v && high && v.gt(high)) return `${name} ${v.toFixed()} is above high ${high.toFixed()}`;
    if (v && low && v.lt(low)) return `${name} ${v.toFixed()} is below low ${low.toFixed()}`;
  }
  if (volume && volume.lt(0)) return `volume must not be negative, got ${volume.toFixed()}`;
  return null;
}

/** Decimal places a NUMERIC(30, scale) column keeps: more would be silently rounded away. */
export function scaleProblem(name: string, value: Decimal, scale: number, integerDigits = 20): string | null {
  if (value.decimalPlaces() > scale) return `${name} has more than ${scale} decimal places`;
  if (value.abs().gte(new (value.constructor as typeof Decimal)(10).pow(integerDigits))) return `${name} is too large`;
  return null;
}
