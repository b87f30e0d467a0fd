import { dec } from '../../../src/domain/decimal';
import { DomainError } from '../../../src/domain/errors';
import { currencyAttribution, currencyLeg, fxReturn, legsFromValues } from '../../../src/domain/analytics/currency';

/*
 * Worked example (independent computation), a USD-based portfolio worth 1000 USD at the start:
 *   currency  start local  C→USD  start USD  weight | end local        C→USD          end USD
 *   USD       500          1      500        0.5    | 525   (+5%)     1    (0%)      525
 *   EUR       250          1.20   300        0.3    | 262.5 (+5%)     1.26 (+5%)     330.75
 *   GBP       160          1.25   200        0.2    | 156.8 (−2%)     1.30 (+4%)     203.84
 * Per currency (1 + R_base) = (1 + R_local)(1 + R_fx):
 *   USD: 0.05 + 0 + 0 = 0.05
 *   EUR: 0.05 + 0.05 + 0.0025 = 0.1025           (330.75 / 300 − 1)
 *   GBP: −0.02 + 0.04 + (−0.0008) = 0.0192        (203.84 / 200 − 1)
 * Totals: local = 0.5·0.05 + 0.3·0.05 + 0.2·(−0.02) = 0.036
 *         fx    = 0 + 0.3·0.05 + 0.2·0.04         = 0.023
 *         interaction = 0.3·0.0025 + 0.2·(−0.0008) = 0.00059
 *         sum = 0.05959 = 1059.59 / 1000 − 1 (end value 525 + 330.75 + 203.84)
 * A reported base return (TWR) of 0.0601 leaves (0.0601 − 0.05959) × 10000 = 5.1 bps unexplained.
 */
const values = [
  { currency: 'USD', startLocal: dec(500), endLocal: dec(525), startFx: dec(1), endFx: dec(1) },
  { currency: 'EUR', startLocal: dec(250), endLocal: dec('262.5'), startFx: dec('1.2'), endFx: dec('1.26') },
  { currency: 'GBP', startLocal: dec(160), endLocal: dec('156.8'), startFx: dec('1.25'), endFx: dec('1.3') },
];

describe('currency attribution', () => {
  it('decomposes one currency: (1 + R_base) = (1 + R_local)(1 + R_fx)', () => {
    const eur = currencyLeg({ currency: 'EUR', weight: dec(1), localReturn: dec('0.05'), fxReturn: fxReturn(dec('1.2'), dec('1.26')) });
    expect(eur.fxReturn.eq(dec('0.05'))).toBe(true);
    expect(eur.interaction.eq(dec('0.0025'))).toBe(true);
    expect(eur.baseReturn.eq(dec('0.1025'))).toBe(true);
    expect(eur.localReturn.plus(eur.fxReturn).plus(eur.interaction).eq(eur.baseReturn)).toBe(true);
  });

  it('reproduces the worked example per currency and in total', () => {
    const legs = legsFromValues(values);
    expect(legs.map((l) => [l.currency, l.weight.toString(), l.localReturn.toString(), l.fxReturn.toString()])).toEqual([
      ['USD', '0.5', '0.05', '0'],
      ['EUR', '0.3', '0.05', '0.05'],
      ['GBP', '0.2', '-0.02', '0.04'],
    ]);
    const r = currencyAttribution(legs);
    expect(r.currencies.map((c) => [c.currency, c.interaction.toString(), c.baseReturn.toString()])).toEqual([
      ['USD', '0', '0.05'],
      ['EUR', '0.0025', '0.1025'],
      ['GBP', '-0.0008', '0.0192'],
    ]);
    expect(r.localReturn.eq(dec('0.036'))).toBe(true);
    expect(r.fxReturn.eq(dec('0.023'))).toBe(true);
    expect(r.interaction.eq(dec('0.00059'))).toBe(true);
    expect(r.totalReturn.eq(dec('0.05959'))).toBe(true);
    expect(r.errorBps.isZero()).toBe(true);
  });

  it('reports the unexplained part of a reported base return in basis points', () => {
    const r = currencyAttribution(legsFromValues(values), dec('0.0601'));
    expect(r.totalReturn.eq(dec('0.0601'))).toBe(true);
    expect(r.errorBps.eq(dec('5.1'))).toBe(true);
    // the actual base return of the holdings: no error
    const actual = dec('1059.59').div(1000).minus(1);
    expect(currencyAttribution(legsFromValues(values), actual).errorBps.isZero()).toBe(true);
  });

  it('empty period: zeros, and the whole reported return is unexplained', () => {
    const r = currencyAttribution([]);
    expect([r.localReturn, r.fxReturn, r.interaction, r.totalReturn, r.errorBps].every((x) => x.isZero())).toBe(true);
    expect(currencyAttribution([], dec('0.001')).errorBps.eq(dec(10))).toBe(true);
  });

  it('a currency bought during the period has weight 0 and local return 0', () => {
    const legs = legsFromValues([
      values[0]!,
      { currency: 'JPY', startLocal: dec(0), endLocal: dec(10000), startFx: dec('0.0068'), endFx: dec('0.0070') },
    ]);
    expect(legs[1]?.weight.isZero()).toBe(true);
    expect(legs[1]?.localReturn.isZero()).toBe(true);
  });

  it('rejects bad input', () => {
    expect(() => fxReturn(dec(0), dec(1))).toThrow(DomainError);
    expect(() => currencyAttribution([{ currency: 'EUR', weight: dec('0.9'), localReturn: dec(0), fxReturn: dec(0) }])).toThrow(
      DomainError,
    );
    expect(() => legsFromValues([{ ...values[0]!, startLocal: dec(0) }])).toThrow(DomainError);
    expect(() => legsFromValues([{ ...values[0]!, endLocal: dec(-1) }])).toThrow(DomainError);
  });
});
