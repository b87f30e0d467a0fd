import { dec } from '../../src/domain/decimal';
import { cashEffect, fillPriceProblem, grossValue, orderPriceProblem, paperExecutionPrice, volumeWeightedPrice, volumeWeightedPriceAfter } from '../../src/domain/ledger';

describe('cashEffect (API.md: cash moves with every transaction)', () => {
  it.each([
    ['BUY', { quantity: '10', price: '100', fee: '5' }, '-1005'], // −(10 × 100 + 5)
    ['SELL', { quantity: '10', price: '110', fee: '5' }, '1095'], // 10 × 110 − 5
    ['DIVIDEND', { amount: '12.5' }, '12.5'],
    ['INTEREST', { amount: '3.25' }, '3.25'],
    ['DEPOSIT', { amount: '1000' }, '1000'],
    ['WITHDRAWAL', { amount: '100' }, '-100'],
    ['FEE', { amount: '1.75' }, '-1.75'],
    ['SPLIT', {}, '0'],
  ] as const)('%s', (type, f: Record<string, string>, expected) => {
    const v = (k: string) => (f[k] ? dec(f[k]!) : null);
    expect(cashEffect({ type, quantity: v('quantity'), price: v('price'), fee: v('fee'), amount: v('amount') }).toFixed()).toBe(expected);
  });

  it('rounds quantity × price to 10 places, half-even', () => {
    // 0.5 × 0.00000000015 = 0.000000000075 → 0.0000000001 (half-even on the 10th place: 0.75 → 1)
    expect(grossValue(dec('0.5'), dec('0.00000000015')).toFixed()).toBe('0.0000000001');
    // 0.5 × 0.00000000005 = 0.000000000025 → 0 (0.25 → 0)
    expect(grossValue(dec('0.5'), dec('0.00000000005')).toFixed()).toBe('0');
  });
});

describe('volumeWeightedPrice', () => {
  it('30 @ 10 and 70 @ 11 → (300 + 770) / 100 = 10.7', () => {
    expect(volumeWeightedPrice([{ quantity: dec(30), price: dec(10) }, { quantity: dec(70), price: dec(11) }])!.toFixed()).toBe('10.7');
  });
  it('1 @ 1 and 2 @ 2 → 5/3 rounded to 10 places', () => {
    expect(volumeWeightedPrice([{ quantity: dec(1), price: dec(1) }, { quantity: dec(2), price: dec(2) }])!.toFixed()).toBe('1.6666666667');
  });
  it('null without fills', () => expect(volumeWeightedPrice([])).toBeNull());
  it('from running totals: 300 for 30, then 70 @ 11 → 10.7, the same as from every fill', () => {
    expect(volumeWeightedPriceAfter(dec(300), dec(30), { quantity: dec(70), price: dec(11) })!.toFixed()).toBe('10.7');
    expect(volumeWeightedPriceAfter(dec(1), dec(1), { quantity: dec(2), price: dec(2) })!.toFixed()).toBe('1.6666666667');
  });
});

describe('order prices', () => {
  it.each([
    ['MARKET', null, null, null],
    ['MARKET', '5', null, /limitPrice is not allowed/],
    ['LIMIT', null, null, /limitPrice is required/],
    ['LIMIT', '5', '4', /stopPrice is not allowed/],
    ['STOP', null, null, /stopPrice is required/],
    ['STOP_LIMIT', '5', null, /stopPrice is required/],
    ['STOP_LIMIT', '5', '4', null],
    ['LIMIT', '0', null, /limitPrice must be greater than 0/],
  ] as const)('%s limit %s stop %s', (type, limit, stop, problem) => {
    const got = orderPriceProblem(type, limit ? dec(limit) : null, stop ? dec(stop) : null);
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeNull();
  });
  it('a BUY fills at or below its limit, a SELL at or above', () => {
    expect(fillPriceProblem('BUY', dec(10), dec(10))).toBeNull();
    expect(fillPriceProblem('BUY', dec(10), dec('10.01'))).toMatch(/above the BUY limit/);
    expect(fillPriceProblem('SELL', dec(10), dec('9.99'))).toMatch(/below the SELL limit/);
    expect(fillPriceProblem('SELL', null, dec(1))).toBeNull();
  });
});

describe('paperExecutionPrice', () => {
  const p = (side: 'BUY' | 'SELL', type: 'MARKET' | 'LIMIT' | 'STOP' | 'STOP_LIMIT', price: string, limit?: string, stop?: string) =>
    paperExecutionPrice({ side, type, limitPrice: limit ? dec(limit) : null, stopPrice: stop ? dec(stop) : null }, dec(price))?.toFixed() ?? null;
  it('MARKET executes at the price', () => expect(p('BUY', 'MARKET', '101')).toBe('101'));
  it('LIMIT BUY at or below the limit, SELL at or above', () => {
    expect(p('BUY', 'LIMIT', '96', '95')).toBeNull();
    expect(p('BUY', 'LIMIT', '94.5', '95')).toBe('94.5');
    expect(p('SELL', 'LIMIT', '104', '105')).toBeNull();
    expect(p('SELL', 'LIMIT', '105', '105')).toBe('105');
  });
  it('STOP BUY triggers at or above the stop, SELL at or below', () => {
    expect(p('BUY', 'STOP', '109', undefined, '110')).toBeNull();
    expect(p('BUY', 'STOP', '111', undefined, '110')).toBe('111');
    expect(p('SELL', 'STOP', '91', undefined, '90')).toBeNull();
    expect(p('SELL', 'STOP', '89', undefined, '90')).toBe('89');
  });
  it('STOP_LIMIT needs the stop triggered and the limit satisfied', () => {
    expect(p('BUY', 'STOP_LIMIT', '111', '112', '110')).toBe('111');
    expect(p('BUY', 'STOP_LIMIT', '113', '112', '110')).toBeNull();
  });
});
