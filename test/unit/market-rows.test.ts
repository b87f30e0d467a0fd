import { D } from '../../src/domain/decimal';
import { validateFxRows, validatePriceRows, type PriceRowInput } from '../../src/services/market-data';

/*
 * The row checks that ingestPrices, ingestFxRates and the file importer share, at their
 * boundaries, with the clock fixed. "No future dates beyond a day": a daily bar or rate dated
 * tomorrow (UTC) is taken at any hour, the day after never; a tick at most 24 h after now.
 */
const now = Date.parse('2024-06-10T12:00:00.000Z');
const ids = new Map([['AAA', 'id-aaa']]);
const bar = (over: Partial<Record<keyof PriceRowInput, string>>): PriceRowInput => {
  const r: Record<string, unknown> = { symbol: 'AAA', date: '2024-06-10', close: '10' };
  for (const [k, v] of Object.entries(over)) r[k] = v;
  for (const k of ['open', 'high', 'low', 'close', 'volume']) if (typeof r[k] === 'string') r[k] = new D(r[k] as string);
  if (typeof r.at === 'string') r.at = new Date(r.at);
  return r as unknown as PriceRowInput;
};
const verdicts = (rows: PriceRowInput[]) => {
  const { valid, errors } = validatePriceRows(rows, ids, now);
  return { valid: valid.length, errors: errors.map((e) => [e.index, e.message]) };
};

describe('price rows', () => {
  test('dates: tomorrow (UTC) is taken at any hour of today, the day after never; a tick up to 24 h ahead', () => {
    for (const clock of ['2024-06-10T00:00:00.000Z', '2024-06-10T12:00:00.000Z', '2024-06-10T23:59:59.999Z']) {
      const at = Date.parse(clock);
      const { valid, errors } = validatePriceRows([bar({ date: '2024-06-11' }), bar({ date: '2024-06-12' })], ids, at);
      expect([clock, valid.length, errors]).toEqual([clock, 1, [{ index: 1, message: '2024-06-12 is in the future' }]]);
      const fx = validateFxRows([{ base: 'EUR', quote: 'USD', date: '2024-06-11', rate: new D('1.1') }, { base: 'EUR', quote: 'USD', date: '2024-06-12', rate: new D('1.1') }], at);
      expect([clock, fx.valid.length, fx.errors]).toEqual([clock, 1, [{ index: 1, message: '2024-06-12 is in the future' }]]);
    }
    const limit = new Date(now + 86_400_000).toISOString();
    const past = new Date(now + 86_400_001).toISOString();
    expect(verdicts([bar({ date: undefined, at: limit }), bar({ date: undefined, at: past })])).toEqual({ valid: 1, errors: [[1, `${past} is in the future`]] });
  });

  test('OHLC: every contradiction is named; a bar touching its high and low is fine', () => {
    const r = verdicts([
      bar({ open: '10', high: '10', low: '10', close: '10' }),
      bar({ open: '11', high: '10', low: '9', close: '10' }), // open above high
      bar({ open: '10', high: '11', low: '9', close: '8' }), // close below low
      bar({ high: '9', low: '11' }), // high below low (close given alone: 10)
      bar({ low: '-1', close: '1' }), // a price ≤ 0
      bar({ date: '2024-06-07', close: '10', volume: '0' }), // no trades: allowed (another day: a repeated bar collapses to the last)
      bar({ close: '10', volume: '-0.0001' }),
    ]);
    expect(r).toEqual({
      valid: 2,
      errors: [
        [1, 'open 11 is above high 10'],
        [2, 'close 8 is below low 9'],
        [3, 'high 9 is below low 11'],
        [4, 'low must be greater than 0, got -1'],
        [6, 'volume must not be negative, got -0.0001'],
      ],
    });
  });

  test('precision: more decimals than the column keeps, or too many digits, are refused rather than rounded', () => {
    expect(verdicts([bar({ close: '1.00000000001' }), bar({ close: '123456789012345678901' }), bar({ close: '10', volume: '1.00001' })]).errors).toEqual([
      [0, 'close has more than 10 decimal places'],
      [1, 'close is too large'],
      [2, 'volume has more than 4 decimal places'],
    ]);
  });

  test('unknown symbol, both date and at, neither; indexes offset for a file\'s later batches', () => {
    const { errors } = validatePriceRows([bar({ symbol: 'ZZZ' }), bar({ at: '2024-06-10T10:00:00Z' }), bar({ date: undefined })], ids, now, 1000);
    expect(errors).toEqual([
      { index: 1000, message: 'unknown symbol "ZZZ"' },
      { index: 1001, message: 'give either date (a daily bar) or at (a tick), not both' },
      { index: 1002, message: 'date or at is required' },
    ]);
  });
});

describe('FX rows', () => {
  const fx = (date: string, rate: string, base = 'EUR', quote = 'USD') => ({ base, quote, date, rate: new D(rate) });
  test('a rate of zero, a negative one, NaN, Infinity, the same currency, tomorrow and the day after', () => {
    const { valid, errors } = validateFxRows([fx('2024-06-10', '0'), fx('2024-06-10', '-1.1'), fx('2024-06-10', 'NaN'), fx('2024-06-10', 'Infinity'), fx('2024-06-10', '1', 'USD', 'USD'), fx('2024-06-11', '1.1'), fx('2024-06-12', '1.1'), fx('2024-06-10', '1.0000000000001')], now);
    expect(valid.map((v) => v.date)).toEqual(['2024-06-11']);
    expect(errors.map((e) => [e.index, e.message])).toEqual([
      [0, 'rate must be greater than 0, got 0'],
      [1, 'rate must be greater than 0, got -1.1'],
      [2, 'rate must be greater than 0, got NaN'],
      [3, 'rate must be greater than 0, got Infinity'],
      [4, 'base and quote are the same currency'],
      [6, '2024-06-12 is in the future'],
      [7, 'rate has more than 12 decimal places'],
    ]);
  });
});
