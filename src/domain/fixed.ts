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
 * NUMERIC output) exactly, trailing zeros of the fraction dropped, without building a Decimal first. Up to 15
 * digits are gathered in a double, where every such integer is exact (BigInt's own string
 * parser was most of the NAV series' load).
 */
export function unitsOfText(text: string): Units {
  return unitsOfTextAt(text, 0, text.length);
}

/** unitsOfText(text.slice(start, end)), read in place: a caller scanning a long text slices nothing. */
export function unitsOfTextAt(text: string, start: number, end: number): Units {
  const first = text.charCodeAt(start) === 45 ? start + 1 : start;
  // NUMERIC(30, 10) prints ten decimals; trailing zeros only widen every later product.
  let n = end;
  const dot = text.indexOf('.', first + 1);
  if (dot >= 0 && dot < n && text.charCodeAt(n - 1) === 48) {
    while (text.charCodeAt(n - 1) === 48) n--;
    if (text.charCodeAt(n - 1) === 46) n--;
  }
  let point = -1;
  let v = 0;
  for (let k = first; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c >= 48 && c <= 57) v = v * 10 + (c - 48);
    else if (c === 46 && point < 0 && k > first && k < n - 1) point = k;
    else throw notPlainDecimal(text, start, end);
  }
  if (n === first) throw notPlainDecimal(text, start, end);
  const digits = n - first - (point < 0 ? 0 : 1);
  const magnitude = digits <= 15 ? BigInt(v) : BigInt(point < 0 ? text.slice(first, n) : text.slice(first, point) + text.slice(point + 1, n));
  return { m: first > start ? -magnitude : magnitude, scale: point < 0 ? 0 : n - point - 1 };
}

function notPlainDecimal(text: string, start: number, end: number): RangeError {
  return new RangeError(`not a plain decimal: ${text.slice(start, Math.min(end, start + 40))}`);
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

/** The number of decimal digits of a > 0. */
function digitCount(a: bigint): number {
  // The double nearest a gives the count or one off it (near a power of ten); one comparison
  // each way settles it, instead of a binary search over powers of ten or a toString.
  const f = Number(a);
  if (f < 1e300) {
    const d = Math.floor(Math.log10(f)) + 1;
    if (a >= pow10(d)) return d + 1;
    return a < pow10(d - 1) ? d - 1 : d;
  }
  let hi = 600;
  while (a >= pow10(hi)) hi *= 2;
  let lo = 299; // 10^lo ≤ a < 10^hi
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
  const k = digitCount(a) - D.precision;
  const q = roundedQuotient(a, k);
  return (m < 0n ? -q : q) * pow10(k);
}

/** 10^k / 2 (k ≥ 1). */
const halves: bigint[] = [];
function half(k: number): bigint {
  return (halves[k] ??= 5n * pow10(k - 1));
}

/**
 * a / 10^k rounded half-even (a ≥ 0, k ≥ 1). One division by half of 10^k: its quotient's
 * last bit says whether the remainder reached the half, and only then does a product tell a
 * tie from above it (fewer BigInt operations than quotient, product, remainder and its double).
 */
function roundedQuotient(a: bigint, k: number): bigint {
  const h = half(k);
  const q2 = a / h; // ⌊2a / 10^k⌋
  const q = q2 >> 1n;
  if ((q2 & 1n) === 0n) return q;
  if (q2 * h !== a) return q + 1n;
  return (q & 1n) === 0n ? q : q + 1n;
}

/**
 * m / 10^scale rounded as roundToPrecision does, at the smallest scale that holds the kept
 * digits, so that chained products keep ~40-digit integers instead of growing by the digits
 * the rounding zeroed.
 */
export function rounded(m: bigint, scale: number): Units {
  const a = m < 0n ? -m : m;
  if (a < LIMIT) return { m, scale };
  const k = digitCount(a) - D.precision;
  const q = roundedQuotient(a, k);
  const s = m < 0n ? -q : q;
  return k <= scale ? { m: s, scale: scale - k } : { m: s * pow10(k - scale), scale: 0 };
}

/** The sign of a − b. */
export function compare(a: Units, b: Units): number {
  const scale = Math.max(a.scale, b.scale);
  const x = atScale(a, scale);
  const y = atScale(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** a.times(b) in decimal.js, on exact operands. */
export function times(a: Units, b: Units): Units {
  return rounded(a.m * b.m, a.scale + b.scale);
}

/** a.plus(b) in decimal.js, on exact operands. */
export function plus(a: Units, b: Units): Units {
  const scale = Math.max(a.scale, b.scale);
  return rounded(atScale(a, scale) + atScale(b, scale), scale);
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
  const k = D.precision + 1 + digitCount(y) - digitCount(x); // x·10^k / y ≥ 10^precision
  const num = k >= 0 ? x * pow10(k) : x;
  const den = k >= 0 ? y : y * pow10(-k);
  const q = num / den;
  const r = rounded(q * 10n + (q * den === num ? 0n : 1n), k + 1 + a.scale - b.scale);
  const m = a.m < 0n !== b.m < 0n ? -r.m : r.m;
  return r.scale >= 0 ? { m, scale: r.scale } : { m: m * pow10(-r.scale), scale: 0 };
}

/** Guard digits of `ln`: its error bound is a few hundred units of the last of them. */
const LN_GUARD = 20;

/**
 * x.ln() in decimal.js (x > 0): the logarithm correctly rounded to D.precision digits, which is
 * what decimal.js returns (its series is truncated towards zero, so its error is one-sided,
 * and it recomputes with more digits when the rounding digits read 4999…). Here
 * 2·atanh((x − 1)/(x + 1)) in integers with LN_GUARD more digits and a bound on the
 * truncation error; when the bound straddles a rounding boundary, or x is outside [1/2, 2]
 * (|z| ≤ 1/3 keeps the series short and the bound simple), decimal.js computes it instead.
 */
export function ln(x: Units): Units {
  if (x.m <= 0n) throw new RangeError('fixed-point ln of a value ≤ 0');
  const one = pow10(x.scale);
  const dm = x.m - one;
  if (dm === 0n) return { m: 0n, scale: 0 };
  if (2n * x.m < one || x.m > 2n * one) return unitsOf(decimalOf(x.m, x.scale).ln());
  // x − 1 has `zeros` zeros after the decimal point: so many more digits keep the result's 40.
  const zeros = x.scale - digitCount(dm < 0n ? -dm : dm);
  const scale = D.precision + LN_GUARD + Math.max(0, zeros);
  const unit = pow10(scale);
  // Each truncating division errs by < 1 unit; |z²| ≤ 1/9 keeps the errors from growing, so the
  // sum errs by < 3 units per term and the tail (|term| ≤ 1 unit, ratio ≤ 1/9) by < 1.
  const z = (dm * unit) / (x.m + one);
  const z2 = (z * z) / unit;
  let term = z;
  let sum = z;
  let k = 1n;
  let terms = 1;
  while (term !== 0n) {
    term = (term * z2) / unit;
    k += 2n;
    sum += term / k;
    terms++;
  }
  const err = BigInt(8 * terms + 16);
  const lo = rounded(2n * sum - err, scale);
  const hi = rounded(2n * sum + err, scale);
  if (lo.m === hi.m && lo.scale === hi.scale) return lo;
  return unitsOf(decimalOf(x.m, x.scale).ln());
}
