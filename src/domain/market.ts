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

/** 10^n per Decimal constructor, built once: a file import checks millions of values. */
const powersOfTen = new WeakMap<typeof Decimal, Map<number, Decimal>>();
function tenToThe(ctor: typeof Decimal, n: number): Decimal {
  let byN = powersOfTen.get(ctor);
  if (!byN) powersOfTen.set(ctor, (byN = new Map()));
  let p = byN.get(n);
  if (!p) byN.set(n, (p = new ctor(10).pow(n)));
  return p;
}

/** Decimal places a NUMERIC(30, scale) column keeps: more would be silently rounded away. */
export function scaleProblem(name: string, value: Decimal, scale: number, integerDigits = 20): string | null {
  if (value.decimalPlaces() > scale) return `${name} has more than ${scale} decimal places`;
  // |value| ≥ 10^n, without allocating: a finite value's exponent e says |value| ∈ [10^e, 10^(e+1)).
  if (value.isFinite() ? !value.isZero() && value.e >= integerDigits : value.abs().gte(tenToThe(value.constructor as typeof Decimal, integerDigits))) return `${name} is too large`;
  return null;
}
