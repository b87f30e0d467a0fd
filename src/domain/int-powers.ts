import { D } from './decimal';

/*
 * q^t for many integer exponents t of one base q, digit for digit what q.pow(t) gives in
 * decimal.js, sharing one chain of squarings between the exponents (XIRR's NPV raises one
 * discount factor to every flow's day offset: ~12 squarings each, the same ones every time).
 *
 * decimal.js's pow with a small integer exponent is exponentiation by squaring (its
 * `intPow`): with rounding off, every product is exact and then truncated to K words of 7
 * digits (K = ceil(precision / 7 + 4)); the squares x_{j+1} = trunc(x_j²) do not depend on t,
 * the result r = trunc(r × x_j) for each set bit j, from the lowest. If some r product was
 * truncated and r's last kept word is zero, that word becomes 1 (so that the final rounding
 * sees the dropped digits); then r is rounded to the precision (half-even). Here the products
 * are exact in a wide clone of D, truncating to K words is ROUND_DOWN to the significant
 * digits those words hold (the first word holds mod(e, 7) + 1 of them).
 */

const WORDS = Math.ceil(D.precision / 7 + 4);
// Two truncated operands of WORDS words each: their product has at most 2 × 7 × WORDS digits.
const Wide = D.clone({ precision: 2 * 7 * WORDS + 7, rounding: D.ROUND_DOWN });

/** Digits kept by truncating x's words to WORDS words. */
function keptDigits(x: D): number {
  return (((x.e % 7) + 7) % 7) + 1 + 7 * (WORDS - 1);
}

/** x truncated to WORDS words, and whether that dropped anything. */
function truncated(x: D): { value: D; dropped: boolean } {
  const value = x.toSignificantDigits(keptDigits(x), D.ROUND_DOWN);
  return { value, dropped: !value.eq(x) };
}

export class IntPowers {
  private readonly squares: D[];

  constructor(private readonly q: D) {
    this.squares = [new Wide(q)];
  }

  /** q.pow(t) for an integer t ≥ 1 (q finite and non-zero). */
  pow(t: number): D {
    if (!Number.isSafeInteger(t) || t < 1) throw new RangeError(`IntPowers: exponent ${t} is not a positive integer`);
    if (this.q.eq(1) || t === 1) return new D(this.q).toSignificantDigits(D.precision);
    let r: D | null = null;
    let lastDropped = false;
    for (let j = 0, n = t; n > 0; j++, n = Math.floor(n / 2)) {
      if (n % 2) {
        const x = this.square(j);
        if (r === null) {
          r = x;
          lastDropped = false;
        } else {
          const p = truncated(r.times(x));
          r = p.value;
          lastDropped = p.dropped;
        }
      }
    }
    let result = r!;
    // decimal.js increments the last kept word when some product was truncated and that word
    // is zero. Untruncated, the last product is exact and ends in a non-zero word; truncated,
    // a zero last word is a value of fewer than WORDS words.
    if (lastDropped && result.d.length < WORDS) result = result.plus(new Wide(`1e${result.e - keptDigits(result) + 1}`));
    return new D(result).toSignificantDigits(D.precision);
  }

  private square(j: number): D {
    while (this.squares.length <= j) {
      const x = this.squares[this.squares.length - 1]!;
      this.squares.push(truncated(x.times(x)).value);
    }
    return this.squares[j]!;
  }
}
