import { dec, type D } from '../../../src/domain/decimal';
import type { NavPoint } from '../../../src/domain/analytics/types';

/** |actual − expected| ≤ tol, with a readable failure message. */
export function expectClose(actual: D | null | undefined, expected: string | D, tol: string = '1e-30'): void {
  if (actual === null || actual === undefined) throw new Error(`expected ${expected.toString()}, got ${String(actual)}`);
  const diff = actual.minus(dec(expected)).abs();
  if (diff.gt(dec(tol))) {
    throw new Error(`expected ${expected.toString()} ± ${tol}, got ${actual.toString()} (off by ${diff.toString()})`);
  }
}

export function nav(date: string, value: string, netFlow: string = '0'): NavPoint {
  return { date, nav: dec(value), netFlow: dec(netFlow) };
}

export const ds = (...xs: string[]): D[] => xs.map((x) => dec(x));
