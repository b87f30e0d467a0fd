import Decimal from 'decimal.js';

/**
 * One Decimal constructor for the whole code base. 40 significant digits keep
 * intermediate products of NUMERIC(30,10) columns exact; ROUND_HALF_EVEN is the
 * banker's rounding that accounting expects when a result must be rounded.
 */
export const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type D = Decimal;

export const ZERO = new D(0);
export const ONE = new D(1);

export type DecimalLike = Decimal.Value;

export function dec(value: DecimalLike): Decimal {
  return new D(value);
}

/*
 * The text of Decimals that are served again and again (a cached valuation's ~8,000 values),
 * so that serializing them is a lookup rather than a toFixed() each time. A Decimal never
 * changes, so its text never goes stale; the entry goes when the Decimal does.
 */
const texts = new WeakMap<Decimal, string>();

export function keepText(d: Decimal): void {
  texts.set(d, d.toFixed());
}

/** d.toFixed(), from keepText's memory when it has it. */
export function textOf(d: Decimal): string {
  return texts.get(d) ?? d.toFixed();
}

export function sum(values: Iterable<Decimal>): Decimal {
  let total: Decimal = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}
