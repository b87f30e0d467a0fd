import { dec } from '../../../src/domain/decimal';
import { xirr } from '../../../src/domain/analytics/xirr';
import { expectClose } from './helpers';

const cf = (date: string, amount: string) => ({ date, amount: dec(amount) });

describe('xirr', () => {
  /*
   * Microsoft's documented XIRR example (support.microsoft.com, "XIRR function"):
   *   −10000 @ 2008-01-01, 2750 @ 2008-03-01, 4250 @ 2008-10-30, 3250 @ 2009-02-15, 2750 @ 2009-04-01
   *   Excel: 0.373362535 (37.34%)
   *   mpmath findroot at 50 digits: 0.37336253351883151030845541191455482417…
   */
  it('reproduces the Excel documentation example', () => {
    const r = xirr([
      cf('2008-01-01', '-10000'),
      cf('2008-03-01', '2750'),
      cf('2008-10-30', '4250'),
      cf('2009-02-15', '3250'),
      cf('2009-04-01', '2750'),
    ]);
    expect(r.ok).toBe(true);
    if (r.ok) expectClose(r.rate, '0.37336253351883151030845541191455482417', '1e-28');
  });

  it('is exact for whole 365-day years: −1000, +1210 after 730 days → 0.1', () => {
    const r = xirr([cf('2021-01-01', '-1000'), cf('2023-01-01', '1210')]); // 2021, 2022: 365 + 365 days
    expect(r.ok && r.rate.minus('0.1').abs().lt('1e-30')).toBe(true);
  });

  it('does not care about flow order or the overall sign, and sums same-day flows', () => {
    const a = xirr([cf('2023-01-01', '1210'), cf('2021-01-01', '-600'), cf('2021-01-01', '-400')]);
    const b = xirr([cf('2021-01-01', '1000'), cf('2023-01-01', '-1210')]);
    expect(a.ok && b.ok && a.rate.minus(b.rate).abs().lt('1e-30')).toBe(true);
  });

  it('finds a total loss close to −100% and huge gains without diverging', () => {
    const loss = xirr([cf('2023-01-01', '-1000'), cf('2024-01-01', '0.001')]); // 365 days: 1e-6 − 1
    expect(loss.ok).toBe(true);
    if (loss.ok) expectClose(loss.rate, '-0.999999', '1e-28');
    const gain = xirr([cf('2024-01-01', '-1'), cf('2024-01-02', '2')]); // 2^365 − 1
    expect(gain.ok).toBe(true);
    if (gain.ok) expectClose(gain.rate.div(dec(2).pow(365)), '1', '1e-25');
  });

  it('returns a clear error result when there is no sign change', () => {
    const r = xirr([cf('2024-01-01', '100'), cf('2024-06-01', '50')]);
    expect(r).toMatchObject({ ok: false, reason: 'NO_SIGN_CHANGE' });
  });

  it('returns errors for no flows and zero duration', () => {
    expect(xirr([])).toMatchObject({ ok: false, reason: 'NO_CASHFLOWS' });
    expect(xirr([cf('2024-01-01', '-1'), cf('2024-01-01', '2')])).toMatchObject({ ok: false, reason: 'ZERO_DURATION' });
  });

  /*
   * +1, −1, +1 one year apart: NPV = 1 − q + q² with q = 1/(1+r) > 0, which is > 0 for every q
   * (discriminant 1 − 4 < 0): signs differ but no IRR exists.
   */
  it('reports NO_ROOT_BRACKETED when the flows change sign but NPV never does', () => {
    const r = xirr([cf('2021-01-01', '1'), cf('2022-01-01', '-1'), cf('2023-01-01', '1')]);
    expect(r).toMatchObject({ ok: false, reason: 'NO_ROOT_BRACKETED' });
  });
});
