import { D, keepText, textOf } from '../../src/domain/decimal';
import { canonicalDecimal, compareCanonical } from '../../src/domain/decimal-text';

/* The importer's text checks must agree with decimal.js on every value they accept. */

describe('canonicalDecimal', () => {
  test.each([
    ['50.1234', '50.1234'],
    ['050.10', '50.1'],
    ['0.5', '0.5'],
    ['000', '0'],
    ['7.000', '7'],
    ['0.0000000001', '0.0000000001'],
    ['12345678901234567890.5', '12345678901234567890.5'],
    ['00012345678901234567890', '12345678901234567890'],
    ['1.10000000000000', '1.1'],
  ])('%s → %s (decimal.js toFixed: the same)', (text, canonical) => {
    expect(canonicalDecimal(text, 20, 10)).toBe(canonical);
    expect(new D(text).toFixed()).toBe(canonical);
  });

  test.each(['', '+5', '-5', '.5', '5.', '1e5', 'NaN', 'Infinity', ' 5', '5 ', '1,5', '0x10', '123456789012345678901', '0.00000000001', '١٢'])('%j is left to decimal.js', (text) => {
    expect(canonicalDecimal(text, 20, 10)).toBeNull();
  });

  test('volume limits: 26 integer digits, 4 places', () => {
    expect(canonicalDecimal('12345678901234567890123456.1234', 26, 4)).toBe('12345678901234567890123456.1234');
    expect(canonicalDecimal('123456789012345678901234567', 26, 4)).toBeNull();
    expect(canonicalDecimal('1.12345', 26, 4)).toBeNull();
  });
});

describe('compareCanonical', () => {
  test('agrees with Decimal.cmp on random values of mixed lengths', () => {
    // A fixed-seed generator: the same cases on every run.
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const digits = (n: number) => Array.from({ length: n }, () => rnd(10)).join('');
    const value = () => {
      const int = digits(1 + rnd(4)).replace(/^0+(?=\d)/, '');
      const frac = rnd(3) ? digits(rnd(5)).replace(/0+$/, '') : '';
      return frac ? `${int}.${frac}` : int;
    };
    for (let i = 0; i < 5000; i++) {
      const a = value();
      const b = rnd(4) ? value() : a;
      expect([a, b, compareCanonical(a, b)]).toEqual([a, b, new D(a).cmp(new D(b))]);
    }
  });

  test.each([
    ['5', '5.1', -1],
    ['15.2', '15.19', 1],
    ['9.99', '10', -1],
    ['0.5', '0.49999', 1],
    ['100', '100', 0],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareCanonical(a, b)).toBe(expected);
  });
});

describe('textOf', () => {
  test("gives toFixed()'s text, kept or not", () => {
    const kept = new D('12.3400000000').div(3);
    const other = new D('-0.000000000001');
    keepText(kept);
    expect(textOf(kept)).toBe(kept.toFixed());
    expect(textOf(other)).toBe('-0.000000000001');
    expect(textOf(new D('1e25'))).toBe('10000000000000000000000000');
  });

  test('a kept Decimal looks like any other: equal, same keys and JSON, kept twice without error', () => {
    const kept = new D('1.5');
    keepText(kept);
    keepText(kept);
    const plain = new D('1.5');
    expect(kept).toEqual(plain);
    expect(Object.keys(kept)).toEqual(Object.keys(plain));
    expect(JSON.stringify({ kept })).toBe(JSON.stringify({ kept: plain }));
    expect({ ...kept }).toEqual({ ...plain });
  });
});
