import { D, dec } from '../../src/domain/decimal';
import { DomainError } from '../../src/domain/errors';
import { addYears, daysBetween, toEpochDay } from '../../src/domain/dates';
import {
  allocateProRata,
  applySplit,
  coverShorts,
  CostBasisMethod,
  holdingDays,
  isLongTerm,
  Lot,
  relieveLots,
  restateBySplits,
} from '../../src/domain/lots';

/** Turns every Decimal into its exact string so toEqual compares exact values. */
function plain(value: unknown): unknown {
  if (D.isDecimal(value)) return (value as D).toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function lot(id: string, qty: string, costBasis: string, acquiredOn: string, qtyOriginal = qty): Lot {
  return { id, qtyOriginal: dec(qtyOriginal), qtyOpen: dec(qty), costBasis: dec(costBasis), acquiredOn };
}

function sumStrings(values: D[]): string {
  return values.reduce((a, v) => a.plus(v), dec(0)).toString();
}

function expectDomainError(fn: () => unknown, code: DomainError['code'], message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DomainError);
  expect((caught as DomainError).code).toBe(code);
  if (typeof message === 'string') expect((caught as DomainError).message).toBe(message);
  else expect((caught as DomainError).message).toMatch(message);
}

/*
 * The classic cost-basis worked example (the IRS Publication 550 "Identifying the
 * shares sold" / Investopedia FIFO-LIFO-HIFO-average style):
 *
 *   lot A  100 sh @ 10 = 1000  bought 2023-01-05
 *   lot B  100 sh @ 12 = 1200  bought 2023-03-01
 *   lot C  100 sh @ 11 = 1100  bought 2023-06-01
 *   sell   150 sh @ 15 = 2250  on     2024-02-01 (no fee)
 *
 * Holding periods to 2024-02-01:
 *   A: 2023-01-05 → 2024-01-05 = 365 days (2023 not leap) + 27 (Jan 5 → Feb 1) = 392, long-term
 *   B: 2023-03-01 → 2024-03-01 = 366 days (spans 2024-02-29) − 29 (Feb 1 → Mar 1 2024) = 337, short-term
 *   C: 2023-06-01 → 2024-06-01 = 366 − 121 (Feb 1 → Jun 1 2024: 29+31+30+31) = 245, short-term
 *
 * Proceeds are split pro rata by quantity: a 100-share part gets 2250 × 100/150 = 1500,
 * a 50-share part 2250 × 50/150 = 750.
 */
describe('relieveLots — the 3-lot worked example, sell 150 @ 15', () => {
  const lots = (): Lot[] => [
    lot('A', '100', '1000', '2023-01-05'),
    lot('B', '100', '1200', '2023-03-01'),
    lot('C', '100', '1100', '2023-06-01'),
  ];
  const sell = (method: CostBasisMethod) =>
    relieveLots(lots(), { quantity: dec(150), proceeds: dec(2250), soldOn: '2024-02-01', method, allowShort: false });

  it('FIFO: cost = 100×10 + 50×12 = 1600, gain = 2250 − 1600 = 650', () => {
    const r = sell('FIFO');
    expect(plain(r)).toEqual({
      updates: [
        { lotId: 'A', qtyOpen: '0', costBasis: '0', closedOn: '2024-02-01' },
        // B keeps 50 of 100 shares: 1200 − 600 = 600
        { lotId: 'B', qtyOpen: '50', costBasis: '600', closedOn: null },
      ],
      gains: [
        // A: 1500 − 1000 = 500
        { lotId: 'A', quantity: '100', proceeds: '1500', cost: '1000', gain: '500', acquiredOn: '2023-01-05', soldOn: '2024-02-01', holdingDays: 392, longTerm: true },
        // B: 750 − 50×12 = 150
        { lotId: 'B', quantity: '50', proceeds: '750', cost: '600', gain: '150', acquiredOn: '2023-03-01', soldOn: '2024-02-01', holdingDays: 337, longTerm: false },
      ],
    });
    expect(sumStrings(r.gains.map((g) => g.cost))).toBe('1600');
    expect(sumStrings(r.gains.map((g) => g.gain))).toBe('650');
  });

  it('LIFO: cost = 100×11 + 50×12 = 1700, gain = 550', () => {
    const r = sell('LIFO');
    expect(plain(r)).toEqual({
      updates: [
        { lotId: 'C', qtyOpen: '0', costBasis: '0', closedOn: '2024-02-01' },
        { lotId: 'B', qtyOpen: '50', costBasis: '600', closedOn: null },
      ],
      gains: [
        // C: 1500 − 1100 = 400
        { lotId: 'C', quantity: '100', proceeds: '1500', cost: '1100', gain: '400', acquiredOn: '2023-06-01', soldOn: '2024-02-01', holdingDays: 245, longTerm: false },
        // B: 750 − 600 = 150
        { lotId: 'B', quantity: '50', proceeds: '750', cost: '600', gain: '150', acquiredOn: '2023-03-01', soldOn: '2024-02-01', holdingDays: 337, longTerm: false },
      ],
    });
    expect(sumStrings(r.gains.map((g) => g.cost))).toBe('1700');
    expect(sumStrings(r.gains.map((g) => g.gain))).toBe('550');
  });

  it('HIFO: cost = 100×12 + 50×11 = 1750, gain = 500', () => {
    const r = sell('HIFO');
    expect(plain(r)).toEqual({
      updates: [
        { lotId: 'B', qtyOpen: '0', costBasis: '0', closedOn: '2024-02-01' },
        // C keeps 50: 1100 − 550 = 550
        { lotId: 'C', qtyOpen: '50', costBasis: '550', closedOn: null },
      ],
      gains: [
        // B: 1500 − 1200 = 300
        { lotId: 'B', quantity: '100', proceeds: '1500', cost: '1200', gain: '300', acquiredOn: '2023-03-01', soldOn: '2024-02-01', holdingDays: 337, longTerm: false },
        // C: 750 − 550 = 200
        { lotId: 'C', quantity: '50', proceeds: '750', cost: '550', gain: '200', acquiredOn: '2023-06-01', soldOn: '2024-02-01', holdingDays: 245, longTerm: false },
      ],
    });
    expect(sumStrings(r.gains.map((g) => g.cost))).toBe('1750');
    expect(sumStrings(r.gains.map((g) => g.gain))).toBe('500');
  });

  it('AVERAGE: pooled 3300/300 = 11 per share, cost = 150 × 11 = 1650, gain = 600; remaining lots re-based to 11', () => {
    const r = sell('AVERAGE');
    expect(plain(r)).toEqual({
      updates: [
        // relieved in FIFO order: A fully, B 50 of 100
        { lotId: 'A', qtyOpen: '0', costBasis: '0', closedOn: '2024-02-01' },
        { lotId: 'B', qtyOpen: '50', costBasis: '550', closedOn: null }, // 50 × 11
        // C untouched in quantity but re-based: 100 × 11 = 1100 (already 11/share → unchanged, no update)
      ],
      gains: [
        { lotId: 'A', quantity: '100', proceeds: '1500', cost: '1100', gain: '400', acquiredOn: '2023-01-05', soldOn: '2024-02-01', holdingDays: 392, longTerm: true },
        { lotId: 'B', quantity: '50', proceeds: '750', cost: '550', gain: '200', acquiredOn: '2023-03-01', soldOn: '2024-02-01', holdingDays: 337, longTerm: false },
      ],
    });
    expect(sumStrings(r.gains.map((g) => g.cost))).toBe('1650');
    expect(sumStrings(r.gains.map((g) => g.gain))).toBe('600');
  });

  it('AVERAGE re-bases lots that were not relieved when their per-unit cost differs from the pool', () => {
    // A 100 @ 10 = 1000, B 100 @ 14 = 1400 → pool 2400 / 200 = 12 per share.
    // Sell 50 @ 15 = 750: cost = 50 × 12 = 600, gain 150, relieved from A (FIFO).
    // Remaining 150 shares hold 2400 − 600 = 1800 = 12/share: A 50 × 12 = 600, B 100 × 12 = 1200.
    const r = relieveLots([lot('A', '100', '1000', '2023-01-05'), lot('B', '100', '1400', '2023-03-01')], {
      quantity: dec(50),
      proceeds: dec(750),
      soldOn: '2024-02-01',
      method: 'AVERAGE',
      allowShort: false,
    });
    expect(plain(r.updates)).toEqual([
      { lotId: 'A', qtyOpen: '50', costBasis: '600', closedOn: null },
      { lotId: 'B', qtyOpen: '100', costBasis: '1200', closedOn: null },
    ]);
    expect(plain(r.gains.map((g) => [g.lotId, g.quantity, g.proceeds, g.cost, g.gain]))).toEqual([['A', '50', '750', '600', '150']]);
  });

  it('does not mutate its input lots', () => {
    const input = lots();
    const before = plain(input);
    relieveLots(input, { quantity: dec(150), proceeds: dec(2250), soldOn: '2024-02-01', method: 'FIFO', allowShort: false });
    expect(plain(input)).toEqual(before);
  });
});

/*
 * Same economics with a 2-for-1 split after the second buy:
 *   A 100 @ 10 (2023-01-05), B 100 @ 12 (2023-03-01)
 *   split 2:1           → A 200 @ 5 = 1000, B 200 @ 6 = 1200 (total cost unchanged)
 *   C 200 @ 5.5 = 1100 (2023-06-01, bought post-split; = 100 @ 11 pre-split)
 *   sell 300 @ 7.5 = 2250 on 2024-02-01 (= 150 @ 15 pre-split)
 * Costs must equal the unsplit example:
 *   FIFO    200×5   + 100×6   = 1600
 *   LIFO    200×5.5 + 100×6   = 1700
 *   HIFO    200×6   + 100×5.5 = 1750
 *   AVERAGE 300 × (3300/600 = 5.5) = 1650
 */
describe('relieveLots after a 2-for-1 split', () => {
  const lots = (): Lot[] => {
    const split = applySplit([lot('A', '100', '1000', '2023-01-05'), lot('B', '100', '1200', '2023-03-01')], dec(2));
    return [...split, lot('C', '200', '1100', '2023-06-01')];
  };

  it('the split doubles quantities and keeps total cost', () => {
    expect(plain(lots())).toEqual([
      { id: 'A', qtyOriginal: '200', qtyOpen: '200', costBasis: '1000', acquiredOn: '2023-01-05' },
      { id: 'B', qtyOriginal: '200', qtyOpen: '200', costBasis: '1200', acquiredOn: '2023-03-01' },
      { id: 'C', qtyOriginal: '200', qtyOpen: '200', costBasis: '1100', acquiredOn: '2023-06-01' },
    ]);
  });

  it.each([
    ['FIFO', '1600', '650', [['A', '200', '1500', '1000'], ['B', '100', '750', '600']]],
    ['LIFO', '1700', '550', [['C', '200', '1500', '1100'], ['B', '100', '750', '600']]],
    ['HIFO', '1750', '500', [['B', '200', '1500', '1200'], ['C', '100', '750', '550']]],
    ['AVERAGE', '1650', '600', [['A', '200', '1500', '1100'], ['B', '100', '750', '550']]],
  ] as const)('%s: cost %s, gain %s', (method, cost, gain, rows) => {
    const r = relieveLots(lots(), { quantity: dec(300), proceeds: dec(2250), soldOn: '2024-02-01', method, allowShort: false });
    expect(plain(r.gains.map((g) => [g.lotId, g.quantity, g.proceeds, g.cost]))).toEqual(rows);
    expect(sumStrings(r.gains.map((g) => g.cost))).toBe(cost);
    expect(sumStrings(r.gains.map((g) => g.gain))).toBe(gain);
  });
});

describe('applySplit', () => {
  it('multiplies qtyOpen and qtyOriginal of open lots, long and short, keeps costBasis, leaves closed lots alone', () => {
    const out = applySplit(
      [
        lot('part', '50', '600', '2023-01-05', '100'), // partially relieved long: 12/share → 6/share
        lot('short', '-40', '-2000', '2023-02-01'), // short sold at 50/share → 25/share
        lot('closed', '0', '0', '2022-01-01', '10'),
      ],
      dec(2),
    );
    expect(plain(out)).toEqual([
      { id: 'part', qtyOriginal: '200', qtyOpen: '100', costBasis: '600', acquiredOn: '2023-01-05' },
      { id: 'short', qtyOriginal: '-80', qtyOpen: '-80', costBasis: '-2000', acquiredOn: '2023-02-01' },
      { id: 'closed', qtyOriginal: '10', qtyOpen: '0', costBasis: '0', acquiredOn: '2022-01-01' },
    ]);
  });

  it('a 1-for-3 reverse split rounds quantities to 10 places', () => {
    // 100 × 0.3333333333 = 33.33333333 exactly; 10 × (1/3 at 40 digits) rounds to 3.3333333333
    expect(plain(applySplit([lot('x', '100', '1000', '2023-01-05')], dec('0.3333333333'))[0])).toMatchObject({ qtyOpen: '33.33333333' });
    expect(plain(applySplit([lot('x', '10', '1000', '2023-01-05')], dec(1).div(3))[0])).toMatchObject({ qtyOpen: '3.3333333333', costBasis: '1000' });
  });

  it.each(['0', '-2'])('rejects ratio %s', (ratio) => {
    expectDomainError(() => applySplit([lot('x', '100', '1000', '2023-01-05')], dec(ratio)), 'BAD_USER_INPUT', `split ratio must be greater than 0, got ${ratio}`);
  });

  it('rejects a NaN ratio', () => {
    expectDomainError(() => applySplit([], dec(NaN)), 'BAD_USER_INPUT', 'split ratio must be a finite decimal');
  });
});

describe('restateBySplits', () => {
  it('applies the splits one after the other, rounding after each as applySplit does, not their product once', () => {
    // 3.3333333333 × 1.5 = 4.99999999995 → 5, × 3 = 15; × 4.5 at once would be 14.99999999985 → 14.9999999998.
    const bought = lot('new', '3.3333333333', '29.9999999997', '2024-02-01');
    expect(plain(restateBySplits(bought, [dec('1.5'), dec(3)]))).toEqual({ id: 'new', qtyOriginal: '15', qtyOpen: '15', costBasis: '29.9999999997', acquiredOn: '2024-02-01' });
    expect(plain(applySplit([bought], dec('4.5'))[0])).toMatchObject({ qtyOpen: '14.9999999998' });
    expect(plain(restateBySplits(bought, []))).toEqual(plain(bought));
  });
});

describe('proceeds and cost split exactly', () => {
  it('100 over three 1-share lots: 33.3333333333 + 33.3333333333 + 33.3333333334 = 100', () => {
    const r = relieveLots(
      [lot('a', '1', '10', '2024-01-02'), lot('b', '1', '10', '2024-01-03'), lot('c', '1', '10', '2024-01-04')],
      { quantity: dec(3), proceeds: dec(100), soldOn: '2024-02-01', method: 'FIFO', allowShort: false },
    );
    expect(plain(r.gains.map((g) => g.proceeds))).toEqual(['33.3333333333', '33.3333333333', '33.3333333334']);
    expect(sumStrings(r.gains.map((g) => g.proceeds))).toBe('100');
    expect(plain(r.gains.map((g) => g.gain))).toEqual(['23.3333333333', '23.3333333333', '23.3333333334']);
  });

  it('200 over three equal lots: half-even parts 66.6666666667 ×2, residual 66.6666666666 on the last', () => {
    const r = relieveLots(
      [lot('a', '1', '0', '2024-01-02'), lot('b', '1', '0', '2024-01-03'), lot('c', '1', '0', '2024-01-04')],
      { quantity: dec(3), proceeds: dec(200), soldOn: '2024-02-01', method: 'FIFO', allowShort: false },
    );
    expect(plain(r.gains.map((g) => g.proceeds))).toEqual(['66.6666666667', '66.6666666667', '66.6666666666']);
    expect(sumStrings(r.gains.map((g) => g.proceeds))).toBe('200');
  });

  it('relieving 1 of 3 shares costing 100 takes 33.3333333333 and leaves exactly 66.6666666667', () => {
    const r = relieveLots([lot('a', '3', '100', '2024-01-02')], {
      quantity: dec(1),
      proceeds: dec(40),
      soldOn: '2024-02-01',
      method: 'FIFO',
      allowShort: false,
    });
    expect(plain(r.gains[0])).toMatchObject({ cost: '33.3333333333', gain: '6.6666666667' });
    expect(plain(r.updates)).toEqual([{ lotId: 'a', qtyOpen: '2', costBasis: '66.6666666667', closedOn: null }]);
  });

  it('AVERAGE keeps the pool total exact when the average does not terminate', () => {
    // pool: 1 @ 10 + 2 @ 11 = 32 for 3 shares (10.666…/share). Sell 1: cost = 32/3 → 10.6666666667.
    // Remaining 2 shares keep 32 − 10.6666666667 = 21.3333333333, all on lot b (lot a closed).
    const r = relieveLots([lot('a', '1', '10', '2024-01-02'), lot('b', '2', '22', '2024-01-03')], {
      quantity: dec(1),
      proceeds: dec(12),
      soldOn: '2024-02-01',
      method: 'AVERAGE',
      allowShort: false,
    });
    expect(plain(r.gains.map((g) => [g.lotId, g.cost, g.gain]))).toEqual([['a', '10.6666666667', '1.3333333333']]);
    expect(plain(r.updates)).toEqual([
      { lotId: 'a', qtyOpen: '0', costBasis: '0', closedOn: '2024-02-01' },
      { lotId: 'b', qtyOpen: '2', costBasis: '21.3333333333', closedOn: null },
    ]);
  });

  it('allocateProRata never lets a dust residual go negative', () => {
    // 2e-10 split 6:6:6:2 → exact 0.6, 0.6, 0.6, 0.2 (×1e-10); half-even rounding of the first
    // three gives 1e-10 each = 3e-10 > total, so the shortfall is taken back from the third part.
    const parts = allocateProRata(dec('0.0000000002'), [dec(6), dec(6), dec(6), dec(2)]);
    expect(plain(parts)).toEqual(['1e-10', '1e-10', '0', '0'].map((s) => dec(s).toString()));
    expect(sumStrings(parts)).toBe(dec('0.0000000002').toString());
  });

  it('allocateProRata splits a negative total with the same magnitudes', () => {
    expect(plain(allocateProRata(dec(-100), [dec(1), dec(1), dec(1)]))).toEqual(['-33.3333333333', '-33.3333333333', '-33.3333333334']);
  });
});

/*
 * Fees: buy 10 @ 100 with a 5 fee → lot cost 10×100 + 5 = 1005 (100.5/share).
 * Sell 4 @ 120 with a 3 fee → proceeds net of fee 4×120 − 3 = 477.
 * Cost of 4 shares = 1005 × 4/10 = 402; gain = 477 − 402 = 75; 6 shares keep 603.
 */
describe('fees', () => {
  it('buy fee is in the lot cost, sell fee is out of the proceeds', () => {
    const bought = coverShorts([], { quantity: dec(10), cost: dec(10).times(100).plus(5), boughtOn: '2024-01-02', method: 'FIFO' });
    expect(plain(bought)).toEqual({ updates: [], gains: [], longOpened: { quantity: '10', cost: '1005' } });

    const r = relieveLots([lot('L', '10', bought.longOpened!.cost.toString(), '2024-01-02')], {
      quantity: dec(4),
      proceeds: dec(4).times(120).minus(3),
      soldOn: '2024-03-01',
      method: 'FIFO',
      allowShort: false,
    });
    expect(plain(r)).toEqual({
      updates: [{ lotId: 'L', qtyOpen: '6', costBasis: '603', closedOn: null }],
      gains: [{ lotId: 'L', quantity: '4', proceeds: '477', cost: '402', gain: '75', acquiredOn: '2024-01-02', soldOn: '2024-03-01', holdingDays: 59, longTerm: false }],
    });
  });

  it('a sale whose fee eats all proceeds gives proceeds 0 and a loss of the full cost', () => {
    const r = relieveLots([lot('L', '1', '7', '2024-01-02')], { quantity: dec(1), proceeds: dec(0), soldOn: '2024-01-02', method: 'FIFO', allowShort: false });
    expect(plain(r.gains[0])).toMatchObject({ proceeds: '0', cost: '7', gain: '-7', holdingDays: 0, longTerm: false });
  });
});

/*
 * Short open and cover:
 *   long L 100 @ 10 = 1000 bought 2024-01-02
 *   sell 150 @ 20 = 3000 on 2024-03-01, allowShort
 *     → L relieved 100: proceeds 3000 × 100/150 = 2000, cost 1000, gain 1000 (59 days)
 *     → short opened −50 with proceeds 3000 × 50/150 = 1000 (costBasis −1000, i.e. 20/share)
 *   buy 80 @ 15 = 1200 on 2024-04-15
 *     → covers S 50: cost 1200 × 50/80 = 750, gain = 1000 − 750 = 250,
 *       held 2024-03-01 → 2024-04-15 = 31 + 14 = 45 days, short-term
 *     → 30 left open a long lot costing 1200 × 30/80 = 450
 */
describe('short open and cover', () => {
  it('sell beyond the holding with allowShort opens a short for the remainder', () => {
    const r = relieveLots([lot('L', '100', '1000', '2024-01-02')], {
      quantity: dec(150),
      proceeds: dec(3000),
      soldOn: '2024-03-01',
      method: 'FIFO',
      allowShort: true,
    });
    expect(plain(r)).toEqual({
      updates: [{ lotId: 'L', qtyOpen: '0', costBasis: '0', closedOn: '2024-03-01' }],
      gains: [{ lotId: 'L', quantity: '100', proceeds: '2000', cost: '1000', gain: '1000', acquiredOn: '2024-01-02', soldOn: '2024-03-01', holdingDays: 59, longTerm: false }],
      shortOpened: { quantity: '-50', proceeds: '1000', costBasis: '-1000' },
    });
  });

  it('selling with nothing held and allowShort opens a short for everything, leaving existing shorts alone', () => {
    const r = relieveLots([lot('S0', '-10', '-200', '2024-01-02')], {
      quantity: dec(5),
      proceeds: dec(95),
      soldOn: '2024-03-01',
      method: 'FIFO',
      allowShort: true,
    });
    expect(plain(r)).toEqual({ updates: [], gains: [], shortOpened: { quantity: '-5', proceeds: '95', costBasis: '-95' } });
  });

  it('a buy covers the short first and opens a long lot with the rest', () => {
    const r = coverShorts([lot('L', '0', '0', '2024-01-02', '100'), lot('S', '-50', '-1000', '2024-03-01')], {
      quantity: dec(80),
      cost: dec(1200),
      boughtOn: '2024-04-15',
      method: 'FIFO',
    });
    expect(plain(r)).toEqual({
      updates: [{ lotId: 'S', qtyOpen: '0', costBasis: '0', closedOn: '2024-04-15' }],
      gains: [{ lotId: 'S', quantity: '50', proceeds: '1000', cost: '750', gain: '250', acquiredOn: '2024-03-01', soldOn: '2024-04-15', holdingDays: 45, longTerm: false }],
      longOpened: { quantity: '30', cost: '450' },
    });
  });

  /*
   * Two shorts, partial cover, buy 40 @ 18 + fee 4 = 724 on 2024-03-01:
   *   SA −30 sold @ 20 = 600 (2024-01-10), SB −20 sold @ 25 = 500 (2024-02-10)
   * FIFO: SA 30 → cost 724×30/40 = 543, gain 600 − 543 = 57;
   *       SB 10 → cost 724 − 543 = 181, proceeds 500×10/20 = 250, gain 69; SB keeps −10 / −250.
   * LIFO: SB 20 → cost 724×20/40 = 362, gain 500 − 362 = 138;
   *       SA 20 → cost 362, proceeds 600×20/30 = 400, gain 38; SA keeps −10 / −200.
   * HIFO (highest short price first = SB @ 25) relieves like LIFO here.
   * AVERAGE: pool 1100 / 50 = 22/share; FIFO order SA 30 (660), SB 10 (220); gains 660 − 543 = 117, 220 − 181 = 39;
   *       SB keeps −10 at 22 = −220.
   */
  const shorts = (): Lot[] => [lot('SA', '-30', '-600', '2024-01-10'), lot('SB', '-20', '-500', '2024-02-10')];
  const cover = (method: CostBasisMethod) => coverShorts(shorts(), { quantity: dec(40), cost: dec(40).times(18).plus(4), boughtOn: '2024-03-01', method });

  it('FIFO partial cover', () => {
    expect(plain(cover('FIFO'))).toEqual({
      updates: [
        { lotId: 'SA', qtyOpen: '0', costBasis: '0', closedOn: '2024-03-01' },
        { lotId: 'SB', qtyOpen: '-10', costBasis: '-250', closedOn: null },
      ],
      gains: [
        { lotId: 'SA', quantity: '30', proceeds: '600', cost: '543', gain: '57', acquiredOn: '2024-01-10', soldOn: '2024-03-01', holdingDays: 51, longTerm: false },
        { lotId: 'SB', quantity: '10', proceeds: '250', cost: '181', gain: '69', acquiredOn: '2024-02-10', soldOn: '2024-03-01', holdingDays: 20, longTerm: false },
      ],
    });
  });

  it.each(['LIFO', 'HIFO'] as const)('%s partial cover', (method) => {
    const r = cover(method);
    expect(plain(r.gains.map((g) => [g.lotId, g.quantity, g.proceeds, g.cost, g.gain]))).toEqual([
      ['SB', '20', '500', '362', '138'],
      ['SA', '20', '400', '362', '38'],
    ]);
    expect(plain(r.updates)).toEqual([
      { lotId: 'SB', qtyOpen: '0', costBasis: '0', closedOn: '2024-03-01' },
      { lotId: 'SA', qtyOpen: '-10', costBasis: '-200', closedOn: null },
    ]);
    expect(r.longOpened).toBeUndefined();
  });

  it('AVERAGE partial cover uses the pooled short price of 22', () => {
    const r = cover('AVERAGE');
    expect(plain(r.gains.map((g) => [g.lotId, g.quantity, g.proceeds, g.cost, g.gain]))).toEqual([
      ['SA', '30', '660', '543', '117'],
      ['SB', '10', '220', '181', '39'],
    ]);
    expect(plain(r.updates)).toEqual([
      { lotId: 'SA', qtyOpen: '0', costBasis: '0', closedOn: '2024-03-01' },
      { lotId: 'SB', qtyOpen: '-10', costBasis: '-220', closedOn: null },
    ]);
  });

  it('a short covered more than a year later is still short-term', () => {
    const r = coverShorts([lot('S', '-1', '-50', '2022-01-03')], { quantity: dec(1), cost: dec(40), boughtOn: '2024-01-03', method: 'FIFO' });
    expect(r.gains[0]).toMatchObject({ holdingDays: 730, longTerm: false });
  });

  it('validates buy quantity and cost', () => {
    expectDomainError(() => coverShorts([], { quantity: dec(0), cost: dec(1), boughtOn: '2024-01-03', method: 'FIFO' }), 'BAD_USER_INPUT', 'quantity must be greater than 0, got 0');
    expectDomainError(() => coverShorts([], { quantity: dec(1), cost: dec(-1), boughtOn: '2024-01-03', method: 'FIFO' }), 'BAD_USER_INPUT', 'cost must not be negative, got -1');
  });
});

describe('oversell and input validation', () => {
  const lots = (): Lot[] => [lot('A', '100', '1000', '2023-01-05'), lot('B', '100', '1200', '2023-03-01'), lot('C', '100', '1100', '2023-06-01')];
  const base = { proceeds: dec(100), soldOn: '2024-02-01', method: 'FIFO' as const, allowShort: false };

  it('selling 320 of 300 without allowShort names the shortfall', () => {
    expectDomainError(
      () => relieveLots(lots(), { ...base, quantity: dec(320) }),
      'BAD_USER_INPUT',
      'insufficient quantity: holding 300, selling 320, short by 20',
    );
  });

  it('short lots and lots acquired after the sale date do not count as held', () => {
    const withOthers = [...lots(), lot('S', '-5', '-50', '2023-01-01'), lot('later', '50', '500', '2024-02-02')];
    expectDomainError(
      () => relieveLots(withOthers, { ...base, quantity: dec('300.5') }),
      'BAD_USER_INPUT',
      'insufficient quantity: holding 300, selling 300.5, short by 0.5',
    );
  });

  it.each(['0', '-5'])('rejects quantity %s', (q) => {
    expectDomainError(() => relieveLots(lots(), { ...base, quantity: dec(q) }), 'BAD_USER_INPUT', `quantity must be greater than 0, got ${q}`);
  });

  it('rejects negative proceeds', () => {
    expectDomainError(() => relieveLots(lots(), { ...base, quantity: dec(1), proceeds: dec('-0.01') }), 'BAD_USER_INPUT', 'proceeds must not be negative, got -0.01');
  });

  it('rejects an unknown method and an invalid sale date', () => {
    expectDomainError(
      () => relieveLots(lots(), { ...base, quantity: dec(1), method: 'RANDOM' as CostBasisMethod }),
      'BAD_USER_INPUT',
      'method must be one of FIFO, LIFO, HIFO, AVERAGE, got RANDOM',
    );
    expectDomainError(() => relieveLots(lots(), { ...base, quantity: dec(1), soldOn: '2023-02-29' }), 'BAD_USER_INPUT', 'soldOn must be a calendar date YYYY-MM-DD, got "2023-02-29"');
  });
});

describe('lot ordering ties', () => {
  // Same acquisition day: FIFO takes the lot given first, LIFO the lot given last.
  const sameDay = (): Lot[] => [lot('first', '10', '100', '2024-01-02'), lot('second', '10', '120', '2024-01-02')];
  it.each([
    ['FIFO', 'first'],
    ['LIFO', 'second'],
  ] as const)('%s relieves %s', (method, id) => {
    const r = relieveLots(sameDay(), { quantity: dec(5), proceeds: dec(60), soldOn: '2024-02-01', method, allowShort: false });
    expect(r.gains.map((g) => g.lotId)).toEqual([id]);
  });

  it('HIFO compares per-unit cost, not total cost, and breaks ties oldest first', () => {
    // big: 100 sh for 1100 = 11/share; small: 10 sh for 120 = 12/share; tie: 10 sh for 110 = 11/share, older than big
    const r = relieveLots(
      [lot('big', '100', '1100', '2023-05-01'), lot('small', '10', '120', '2023-06-01'), lot('tie', '10', '110', '2023-04-01')],
      { quantity: dec(25), proceeds: dec(250), soldOn: '2024-02-01', method: 'HIFO', allowShort: false },
    );
    expect(plain(r.gains.map((g) => [g.lotId, g.quantity, g.cost]))).toEqual([
      ['small', '10', '120'],
      ['tie', '10', '110'],
      ['big', '5', '55'],
    ]);
  });
});

describe('holding period', () => {
  it('counts actual calendar days', () => {
    expect(toEpochDay('1970-01-01')).toBe(0);
    expect(toEpochDay('2000-03-01')).toBe(11017);
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2); // 29 Feb 2024 exists
    expect(daysBetween('2023-02-28', '2023-03-01')).toBe(1);
    expect(holdingDays('2023-01-10', '2024-01-10')).toBe(365);
    expect(holdingDays('2024-01-10', '2024-01-10')).toBe(0);
  });

  it('long-term means sold after the anniversary (IRS Pub. 550): 2023-01-10 → 2024-01-10 short, 2024-01-11 long', () => {
    expect(isLongTerm('2023-01-10', '2024-01-10')).toBe(false);
    expect(isLongTerm('2023-01-10', '2024-01-11')).toBe(true);
    const sell = (soldOn: string) =>
      relieveLots([lot('x', '1', '10', '2023-01-10')], { quantity: dec(1), proceeds: dec(11), soldOn, method: 'FIFO', allowShort: false }).gains[0];
    expect(sell('2024-01-10')).toMatchObject({ holdingDays: 365, longTerm: false });
    expect(sell('2024-01-11')).toMatchObject({ holdingDays: 366, longTerm: true });
  });

  it('handles 29 February', () => {
    expect(addYears('2024-02-29', 1)).toBe('2025-02-28');
    expect(addYears('2024-02-29', 4)).toBe('2028-02-29');
    // bought on 29 Feb: anniversary is 28 Feb, long-term from 1 March
    expect(holdingDays('2024-02-29', '2025-02-28')).toBe(365);
    expect(isLongTerm('2024-02-29', '2025-02-28')).toBe(false);
    expect(holdingDays('2024-02-29', '2025-03-01')).toBe(366);
    expect(isLongTerm('2024-02-29', '2025-03-01')).toBe(true);
    // the year spans 29 Feb 2024: 366 days and still not more than a year
    expect(holdingDays('2023-03-01', '2024-03-01')).toBe(366);
    expect(isLongTerm('2023-03-01', '2024-03-01')).toBe(false);
    expect(isLongTerm('2023-03-01', '2024-03-02')).toBe(true);
    // bought 28 Feb 2023: anniversary 28 Feb 2024, so 29 Feb 2024 is already long-term
    expect(isLongTerm('2023-02-28', '2024-02-28')).toBe(false);
    expect(isLongTerm('2023-02-28', '2024-02-29')).toBe(true);
  });

  it('rejects a sale before the acquisition and malformed dates', () => {
    expectDomainError(() => holdingDays('2024-01-10', '2024-01-09'), 'BAD_USER_INPUT', 'soldOn 2024-01-09 is before acquiredOn 2024-01-10');
    expectDomainError(() => holdingDays('2024-1-10', '2024-01-19'), 'BAD_USER_INPUT', /acquiredOn must be a calendar date/);
    expectDomainError(() => holdingDays('2024-01-10', '2024-13-01'), 'BAD_USER_INPUT', /soldOn must be a calendar date/);
  });
});
