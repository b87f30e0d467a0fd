import { D } from './decimal';

/*
 * Exact fixed-point in BigInt, for loops that would otherwise allocate one Decimal per
 * operation (attribution's position-days). A value is an integer count of 10^−scale units.
 *
 * Mirroring decimal.js: plus, minus and times in decimal.js give the exact result rounded to
 * D.precision significant digits (half-even). `roundToPrecision` applies that same rounding to
 * an exact BigInt result, so `roundToPrecision(a + b)` and `roundToPrecision(a × b)` give the
 * digits of a.plus(b) and a.times(b), whatever the scale (rounding to significant digits only
 * ever drops low-order digits, which stay representable at the same scale).
 */

const WORD = 10_000_000n;
const powers: bigint[] = [1n];

export function pow10(n: number): bigint {
  while (powers.length <= n) powers.push(powers[powers.length - 1]! * 10n);
  return powers[n]!;
}

/** value = m / 10^scale */
export interface Units {
  m: bigint;
  scale: number;
}

/**
 * A finite Decimal exactly, at its own number of decimal places (≥ 0), read from its
 * documented instance properties: `d`, the digits in base 1e7 words aligned on the decimal
 * point, `e` the base-10 exponent, `s` the sign.
 */
export function unitsOf(d: D): Units {
  const words = d.d;
  if (!words) throw new RangeError(`not a finite decimal: ${d.toString()}`);
  const n = words.length;
  let last = words[n - 1]!;
  let zeros = 0;
  while (last !== 0 && last % 10 === 0 && zeros < 7) {
    last /= 10;
    zeros++;
  }
  let m = 0n;
  for (let i = 0; i < n - 1; i++) m = m * WORD + BigInt(words[i]!);
  m = m * pow10(7 - zeros) + BigInt(last);
  let scale = 7 * (n - 1 - Math.floor(d.e / 7)) - zeros;
  if (scale < 0) {
    m *= pow10(-scale);
    scale = 0;
  }
  return { m: d.s < 0 ? -m : m, scale };
}

/**
 * Plain decimal text (an optional minus, digits, optionally a point and digits: PostgreSQL's
 * NUMERIC output) exactly, at the scale written, without building a Decimal first. Up to 15
 * digits are gathered in a double, where every such integer is exact (BigInt's own string
 * parser was most of the NAV series' load).
 */
export function unitsOfText(text: string): Units {
  const n = text.length;
  const first = text.charCodeAt(0) === 45 ? 1 : 0;
  let point = -1;
  let v = 0;
  for (let k = first; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c >= 48 && c <= 57) v = v * 10 + (c - 48);
    else if (c === 46 && point < 0 && k > first && k < n - 1) point = k;
    else throw new RangeError(`not a plain decimal: ${text.slice(0, 40)}`);
  }
  if (n === first) throw new RangeError(`not a plain decimal: ${text.slice(0, 40)}`);
  const digits = n - first - (point < 0 ? 0 : 1);
  const magnitude = digits <= 15 ? BigInt(v) : BigInt(point < 0 ? text.slice(first) : text.slice(first, point) + text.slice(point + 1));
  return { m: first ? -magnitude : magnitude, scale: point < 0 ? 0 : n - point - 1 };
}

/** m / 10^scale as a Decimal, exactly (the constructor does not round). */
export function decimalOf(m: bigint, scale: number): D {
  return new D(scale ? `${m}e-${scale}` : m.toString());
}

/** Thrown by `atScale` when a value has more decimals than the scale chosen for a computation. */
export class ScaleExceeded extends Error {
  constructor(readonly needed: number) {
    super(`fixed-point scale ${needed} needed`);
  }
}

/** u in units of 10^−scale (exact: throws ScaleExceeded when u has a larger scale). */
export function atScale(u: Units, scale: number): bigint {
  if (u.scale === scale) return u.m;
  if (u.scale > scale) throw new ScaleExceeded(u.scale);
  return u.m * pow10(scale - u.scale);
}

const LIMIT = pow10(D.precision);

/** The number of digits of a ≥ 10^precision. */
function digitCount(a: bigint): number {
  let hi = 2 * D.precision;
  while (a >= pow10(hi)) hi *= 2;
  let lo = D.precision; // 10^lo ≤ a < 10^hi
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (a >= pow10(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** m rounded to D.precision significant digits, half-even: the rounding of decimal.js's plus/minus/times. */
export function roundToPrecision(m: bigint): bigint {
  const a = m < 0n ? -m : m;
  if (a < LIMIT) return m;
  const p = pow10(digitCount(a) - D.precision);
  const r = a % p;
  if (r === 0n) return m;
  let q = a / p;
  const twice = 2n * r;
  if (twice > p || (twice === p && (q & 1n) === 1n)) q += 1n;
  return m < 0n ? -q * p : q * p;
}

/** a.times(b) in decimal.js, on exact operands. */
export function times(a: Units, b: Units): Units {
  return { m: roundToPrecision(a.m * b.m), scale: a.scale + b.scale };
}

/** a.plus(b) in decimal.js, on exact operands. */
export function plus(a: Units, b: Units): Units {
  const scale = Math.max(a.scale, b.scale);
  return { m: roundToPrecision(atScale(a, scale) + atScale(b, scale)), scale };
}

/** a.minus(b) in decimal.js, on exact operands. */
export function minus(a: Units, b: Units): Units {
  return plus(a, { m: -b.m, scale: b.scale });
}

/**
 * a.div(b) in decimal.js (b ≠ 0), whose division is correctly rounded: the quotient to
 * D.precision + 1 or + 2 digits, one more digit that is 1 when the remainder is not zero (so
 * that a dropped remainder is never taken for a tie), rounded half-even by roundToPrecision.
 * A zero quotient is +0 (decimal.js gives −0 for 0 divided by a negative).
 */
export function divide(a: Units, b: Units): Units {
  if (b.m === 0n) throw new RangeError('fixed-point division by zero');
  if (a.m === 0n) return { m: 0n, scale: 0 };
  const x = a.m < 0n ? -a.m : a.m;
  const y = b.m < 0n ? -b.m : b.m;
  const k = D.precision + 1 + y.toString().length - x.toString().length; // x·10^k / y ≥ 10^precision
  const num = k >= 0 ? x * pow10(k) : x;
  const den = k >= 0 ? y : y * pow10(-k);
  const q = num / den;
  const rounded = roundToPrecision(q * 10n + (q * den === num ? 0n : 1n));
  const m = a.m < 0n !== b.m < 0n ? -rounded : rounded;
  const scale = k + 1 + a.scale - b.scale;
  return scale >= 0 ? { m, scale } : { m: m * pow10(-scale), scale: 0 };
}
