import { D } from '../../src/domain/decimal';
import { ScaleExceeded, atScale, compare, decimalOf, divide, ln, minus, plus, rounded, roundToPrecision, times, unitsOf } from '../../src/domain/fixed';

/* Fixed-point against decimal.js itself: the same digits for the same operations. */

// Deterministic pseudo-random decimals of 1–60 significant digits, exponents −50 … +30, both signs.
let seed = 12345;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
function randomDecimal(): D {
  const digits = 1 + (next() % 60);
  let m = String(1 + (next() % 9));
  for (let i = 1; i < digits; i++) m += String(next() % 10);
  if (next() % 4 === 0) m = m.replace(/\d{1,5}$/, (x) => '5'.padEnd(x.length, '0')); // ties
  const e = (next() % 81) - 50;
  return new D(`${next() % 2 ? '-' : ''}${m}e${e}`);
}

describe('fixed-point', () => {
  it('reads any finite Decimal exactly, at its own decimal places', () => {
    for (const v of ['0', '1', '-1', '123.45', '0.001', '1e45', '-67.1234', '1.23456789012345678901234567890123456789', '10000000', '0.10000000', '-5e-50']) {
      const u = unitsOf(new D(v));
      expect(decimalOf(u.m, u.scale).eq(v)).toBe(true);
      expect(u.scale).toBe(new D(v).decimalPlaces());
    }
    for (let i = 0; i < 2000; i++) {
      const d = randomDecimal();
      const u = unitsOf(d);
      expect(decimalOf(u.m, u.scale).toString()).toBe(d.toString());
      expect(u.scale).toBe(d.decimalPlaces());
    }
  });

  it('times and plus give the digits of decimal.js (40 significant digits, half-even)', () => {
    for (let i = 0; i < 5000; i++) {
      const a = randomDecimal().toSignificantDigits(40);
      const b = randomDecimal().toSignificantDigits(40);
      const p = times(unitsOf(a), unitsOf(b));
      expect(decimalOf(p.m, p.scale).toString()).toBe(a.times(b).toString());
      const s = plus(unitsOf(a), unitsOf(b));
      expect(decimalOf(s.m, s.scale).toString()).toBe(a.plus(b).toString());
    }
  });

  it('rounds at the 40th digit only, half to even', () => {
    const ten40 = 10n ** 40n;
    expect(roundToPrecision(ten40 - 1n)).toBe(ten40 - 1n);
    // 41 digits: the last one goes.
    expect(roundToPrecision(ten40 + 5n)).toBe(ten40); // tie, 0 is even
    expect(roundToPrecision(ten40 + 15n)).toBe(ten40 + 20n); // tie, 1 → 2
    expect(roundToPrecision(-(ten40 + 16n))).toBe(-(ten40 + 20n));
    expect(roundToPrecision(ten40 + 14n)).toBe(ten40 + 10n);
    expect(roundToPrecision(ten40 * 10n + 150n)).toBe(ten40 * 10n + 200n); // 42 digits, tie at the 41st
  });

  it('refuses to lose decimals when putting a value on a smaller scale', () => {
    expect(atScale(unitsOf(new D('1.25')), 4)).toBe(12500n);
    expect(() => atScale(unitsOf(new D('1.25')), 1)).toThrow(ScaleExceeded);
  });
  it('divides and subtracts like decimal.js: correctly rounded, ties to even, signs, exact quotients', () => {
    const cases: [D, D][] = [];
    for (let i = 0; i < 5000; i++) cases.push([randomDecimal(), randomDecimal()]);
    // Quotients that end exactly on a half at the 41st digit, or terminate within 40: ties and exact ones.
    for (let i = 0; i < 1000; i++) cases.push([randomDecimal(), new D(['2', '-4', '0.8', '5', '-0.25', '1.6e-7', '3'][i % 7]!)]);
    cases.push([new D('12345678901234567890123456789012345678905'), new D(10)], [new D('12345678901234567890123456789012345678915'), new D(10)]);
    for (const [a, b] of cases) {
      if (b.isZero()) continue;
      const q = divide(unitsOf(a), unitsOf(b));
      const expected = a.div(b);
      expect(decimalOf(q.m, q.scale).toString()).toBe(expected.isZero() ? '0' : expected.toString());
      const d = minus(unitsOf(a), unitsOf(b));
      expect(decimalOf(d.m, d.scale).toString()).toBe(a.minus(b).toString());
    }
    expect(() => divide(unitsOf(new D(1)), unitsOf(new D(0)))).toThrow(RangeError);
  });
  it('rounded keeps the digits of roundToPrecision at the smallest scale, also across powers of ten', () => {
    for (let n = 38; n < 120; n++) {
      const p = 10n ** BigInt(n);
      for (const m of [p - 1n, p, p + 1n, 5n * p - 1n, 5n * p + 5n, -(p * 3n + 7n)]) {
        const r = rounded(m, 45);
        expect(decimalOf(r.m, r.scale).eq(decimalOf(roundToPrecision(m), 45))).toBe(true);
        expect(r.m.toString().replace('-', '').length).toBeLessThanOrEqual(r.scale === 0 ? Infinity : D.precision + 1);
      }
    }
    for (let i = 0; i < 500; i++) {
      const a = randomDecimal();
      const b = randomDecimal();
      expect(compare(unitsOf(a), unitsOf(b))).toBe(a.cmp(b));
    }
  });

  it('ln gives the digits of decimal.js’s ln: daily-return arguments, ones very near 1, and outside [1/2, 2]', () => {
    const args: D[] = [];
    for (let i = 0; i < 1500; i++) {
      const r = randomDecimal();
      // 1 + r with |r| up to 0.4, down to 1e−30
      const small = r.abs().gt(1) ? new D(1).div(r) : r;
      args.push(new D(1).plus(small.times('0.4')));
    }
    args.push(...['1.0000000000000000000000000000000000000001', '0.9999999999999999999999999999999999999999', '0.5', '2', '1.5', '3', '0.1', '1e-30', '123456.789'].map((x) => new D(x)));
    for (const x of args) {
      const u = ln(unitsOf(x));
      expect(decimalOf(u.m, u.scale).toString()).toBe(x.ln().toString());
    }
    expect(ln(unitsOf(new D(1)))).toEqual({ m: 0n, scale: 0 });
    expect(() => ln(unitsOf(new D(0)))).toThrow(RangeError);
  });
});
