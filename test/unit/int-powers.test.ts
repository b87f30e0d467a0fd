import { D } from '../../src/domain/decimal';
import { IntPowers } from '../../src/domain/int-powers';

/* Powers sharing one squaring chain against decimal.js's own pow: the same digits. */

let seed = 4242;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
const digits = (n: number) => Array.from({ length: n }, () => String(next() % 10)).join('');

describe('IntPowers', () => {
  it('gives q.pow(t) digit for digit, for discount factors and near-1 bases, t up to 5,000', () => {
    const bases = [new D(2), new D('0.5'), new D('1.1'), new D('0.99')];
    for (let i = 0; i < 300; i++) {
      bases.push(new D(`0.${digits(40)}`).plus('0.5'));
      bases.push(new D(((next() % 8000) - 4000) / 1000).div(365).neg().exp());
      bases.push(new D(`1.${'0'.repeat(i % 30)}${digits(10)}`));
      bases.push(new D(`0.${'9'.repeat(i % 30)}${digits(10)}`));
    }
    for (const q of bases) {
      const powers = new IntPowers(q);
      for (const t of [1, 2, 3, 7, 91, 4095, 4096, 1 + (next() % 5000), 1 + (next() % 5000)]) {
        expect(powers.pow(t).toString()).toBe(q.pow(t).toString());
      }
    }
  });

  it('mirrors the case where the last kept word of a truncated product is zero', () => {
    // Found by search: here decimal.js's intPow ends on a truncated product whose last word is 0.
    for (const [q, t] of [['1.0000000000000000000002162532', 3], ['1.0000000000000000000002162532', 7], ['0.99999999999999997321995044', 4095]] as const) {
      expect(new IntPowers(new D(q)).pow(t).toString()).toBe(new D(q).pow(t).toString());
    }
  });

  it('q = 1 and t = 1 are q itself; other exponents are refused', () => {
    expect(new IntPowers(new D(1)).pow(1000).toString()).toBe('1');
    expect(new IntPowers(new D('0.3')).pow(1).toString()).toBe('0.3');
    expect(() => new IntPowers(new D(2)).pow(0)).toThrow(RangeError);
    expect(() => new IntPowers(new D(2)).pow(1.5)).toThrow(RangeError);
  });
});
