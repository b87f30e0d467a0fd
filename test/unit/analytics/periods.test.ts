import { dec } from '../../../src/domain/decimal';
import { DomainError } from '../../../src/domain/errors';
import { annualize, periodStart } from '../../../src/domain/analytics/periods';
import { expectClose } from './helpers';

describe('periodStart (a period starts at the close of from)', () => {
  it.each([
    ['2024-03-15', 'MTD', '2024-02-29'],
    ['2024-01-10', 'MTD', '2023-12-31'],
    ['2024-05-10', 'QTD', '2024-03-31'],
    ['2024-03-31', 'QTD', '2023-12-31'],
    ['2024-12-31', 'QTD', '2024-09-30'],
    ['2024-05-10', 'YTD', '2023-12-31'],
    ['2024-05-10', '1Y', '2023-05-10'],
    ['2024-02-29', '1Y', '2023-02-28'],
    ['2024-05-10', '3Y', '2021-05-10'],
    ['2024-05-10', '5Y', '2019-05-10'],
  ] as const)('%s %s → %s', (asOf, period, from) => {
    expect(periodStart(asOf, period)).toBe(from);
  });

  it('ITD needs the inception date', () => {
    expect(periodStart('2024-05-10', 'ITD', '2020-01-15')).toBe('2020-01-15');
    expect(() => periodStart('2024-05-10', 'ITD')).toThrow(DomainError);
    expect(() => periodStart('2024-05-10', 'ITD', '2024-05-11')).toThrow(DomainError);
  });

  it('rejects a malformed date', () => {
    expect(() => periodStart('2024-13-01', 'MTD')).toThrow(DomainError);
  });
});

describe('annualize', () => {
  it('leaves a period of one calendar year or less alone, even over 366 days', () => {
    expect(annualize(dec('0.21'), '2023-06-30', '2024-06-30').eq(dec('0.21'))).toBe(true); // 366 days
  });

  /*
   * 2021-12-31 → 2023-12-31 is 730 days: (1.21)^(365/730) − 1 = √1.21 − 1 = 0.1
   * 2020-12-31 → 2023-12-31 is 1095 days: (1.331)^(1/3) − 1 = 0.1
   */
  it('annualizes longer periods actual/365', () => {
    expectClose(annualize(dec('0.21'), '2021-12-31', '2023-12-31'), '0.1');
    expectClose(annualize(dec('0.331'), '2020-12-31', '2023-12-31'), '0.1');
    expect(annualize(dec(-1), '2020-12-31', '2023-12-31').eq(-1)).toBe(true);
  });
});
