import type Decimal from 'decimal.js';
import { D, ZERO } from '../../src/domain/decimal';
import { unitsOf, unitsOfText, unitsOfTextAt } from '../../src/domain/fixed';
import { FxTable, fxQuote } from '../../src/domain/fx';
import { applySplit, restateBySplits } from '../../src/domain/lots';
import {
  buildNavSeries,
  businessDayBefore,
  businessDayOnOrBefore,
  businessDays,
  fromEpochDay,
  LedgerReplay,
  replayOrder,
  replayThrough,
  weekday,
  type CloseSeries,
  type LedgerEntry,
  type NavPointValue,
  type SeriesInput,
} from '../../src/domain/nav-series';

const plain = (points: NavPointValue[]) =>
  points.map((p) => ({ date: p.date, nav: p.nav.toFixed(), cash: p.cash.toFixed(), positionsValue: p.positionsValue.toFixed(), netFlow: p.netFlow.toFixed(), complete: p.complete }));

const d = (v: string | null) => (v == null ? null : new D(v));
function entry(date: string, type: LedgerEntry['type'], amount: string, currency: string, sec: { id: string; qty?: string; price?: string; ratio?: string } | null = null): LedgerEntry {
  return { date, type, amount: new D(amount), currency, securityId: sec?.id ?? null, quantity: d(sec?.qty ?? null), price: d(sec?.price ?? null), splitRatio: d(sec?.ratio ?? null) };
}
function series(points: [string, string][]): CloseSeries {
  return { dates: points.map((p) => p[0]), closes: points.map((p) => unitsOfText(p[1])) };
}

describe('calendar helpers (business days are Monday to Friday; the module has no holiday calendar)', () => {
  test.each([
    [0, '1970-01-01'],
    [-1, '1969-12-31'],
    [11017, '2000-03-01'],
    [19782, '2024-02-29'],
    [20082, '2024-12-25'],
  ])('fromEpochDay(%i) = %s', (n, date) => expect(fromEpochDay(n)).toBe(date));

  test('weekday: 1970-01-01 was a Thursday (4), 2024-03-09 a Saturday (6), 2024-03-10 a Sunday (0)', () => {
    expect([weekday('1970-01-01'), weekday('2024-03-09'), weekday('2024-03-10'), weekday('2024-03-11')]).toEqual([4, 6, 0, 1]);
  });

  test('businessDays skips weekends only: Christmas 2024 (a Wednesday) is a business day', () => {
    expect(businessDays('2024-03-08', '2024-03-12')).toEqual(['2024-03-08', '2024-03-11', '2024-03-12']);
    expect(businessDays('2024-12-23', '2024-12-27')).toEqual(['2024-12-23', '2024-12-24', '2024-12-25', '2024-12-26', '2024-12-27']);
    expect(businessDays('2024-03-09', '2024-03-10')).toEqual([]);
    expect(businessDays('2024-03-12', '2024-03-11')).toEqual([]);
    // Leap day 2024-02-29 (Thursday) and the month end.
    expect(businessDays('2024-02-28', '2024-03-04')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01', '2024-03-04']);
  });

  test('businessDayOnOrBefore and businessDayBefore', () => {
    expect(businessDayOnOrBefore('2024-03-10')).toBe('2024-03-08');
    expect(businessDayOnOrBefore('2024-03-09')).toBe('2024-03-08');
    expect(businessDayOnOrBefore('2024-03-11')).toBe('2024-03-11');
    expect(businessDayBefore('2024-03-11')).toBe('2024-03-08');
    expect(businessDayBefore('2024-03-12')).toBe('2024-03-11');
    expect(businessDayBefore('2024-03-10')).toBe('2024-03-08');
    expect(businessDayBefore('2024-03-01')).toBe('2024-02-29');
  });
});

describe('ledger replay', () => {
  test('by date; on one day trades before a split, otherwise in the order given', () => {
    const e = [
      entry('2024-03-06', 'SPLIT', '0', 'USD', { id: 'X', ratio: '2' }),
      entry('2024-03-06', 'BUY', '-250', 'USD', { id: 'X', qty: '5', price: '50' }),
      entry('2024-03-04', 'BUY', '-1000', 'USD', { id: 'X', qty: '10', price: '100' }),
      entry('2024-03-06', 'SELL', '60', 'USD', { id: 'X', qty: '1', price: '60' }),
    ];
    expect(replayOrder(e).map((x) => `${x.date} ${x.type}`)).toEqual(['2024-03-04 BUY', '2024-03-06 BUY', '2024-03-06 SELL', '2024-03-06 SPLIT']);
    // (10 + 5 − 1) × 2 = 28; cash −1,000 − 250 + 60 = −1,190; last trade price 60 / 2 = 30
    const r = replayThrough(e, '2024-03-06');
    expect(r.quantity.get('X')!.toFixed()).toBe('28');
    expect(r.cash.get('USD')!.toFixed()).toBe('-1190');
    expect(r.lastTradePrice.get('X')!.toFixed()).toBe('30');
    // Through 03-05 only the first BUY.
    expect(replayThrough(e, '2024-03-05').quantity.get('X')!.toFixed()).toBe('10');
  });

  test('a SELL without a holding opens a short; a fractional split ratio (a 1-for-2 reverse split)', () => {
    const r = new LedgerReplay();
    r.apply(entry('2024-03-04', 'SELL', '200', 'USD', { id: 'Z', qty: '10', price: '20' }));
    expect(r.quantity.get('Z')!.toFixed()).toBe('-10');
    r.apply(entry('2024-03-05', 'SPLIT', '0', 'USD', { id: 'Z', ratio: '0.5' }));
    // −10 × 0.5 = −5; last trade price 20 / 0.5 = 40
    expect(r.quantity.get('Z')!.toFixed()).toBe('-5');
    expect(r.lastTradePrice.get('Z')!.toFixed()).toBe('40');
    // A dividend moves cash only.
    r.apply(entry('2024-03-06', 'DIVIDEND', '3.5', 'USD', { id: 'Z' }));
    expect(r.quantity.get('Z')!.toFixed()).toBe('-5');
    expect(r.cash.get('USD')!.toFixed()).toBe('203.5');
  });

  test('a split rounds the position as the ledger rounds the lot: 10 places, half-even, split by split', () => {
    const lot = { id: 'L', qtyOriginal: new D('3.3333333333'), qtyOpen: new D('3.3333333333'), costBasis: new D('30'), acquiredOn: '2024-02-01' };
    const r = new LedgerReplay();
    r.apply(entry('2024-02-01', 'BUY', '-30', 'USD', { id: 'F', qty: '3.3333333333', price: '9' }));
    // 3.3333333333 × 1.5 = 4.99999999995 → 5 (half-even: …9|5 rounds up), not 4.99999999995.
    r.apply(entry('2024-03-01', 'SPLIT', '0', 'USD', { id: 'F', ratio: '1.5' }));
    expect(r.quantity.get('F')!.toFixed()).toBe('5');
    expect(r.quantity.get('F')!.toFixed()).toBe(applySplit([lot], new D('1.5'))[0]!.qtyOpen.toFixed());
    // 5 × 0.3333333333 = 1.6666666665 exactly, × 0.7777777777 = 1.29629629603703703705 → 1.296296296; the
    // product of the three unrounded would be 1.2962962960240740740896296296295.
    r.apply(entry('2024-04-01', 'SPLIT', '0', 'USD', { id: 'F', ratio: '0.3333333333' }));
    r.apply(entry('2024-05-01', 'SPLIT', '0', 'USD', { id: 'F', ratio: '0.7777777777' }));
    const lotAfter = restateBySplits(lot, ['1.5', '0.3333333333', '0.7777777777'].map((x) => new D(x)));
    expect(r.quantity.get('F')!.toFixed()).toBe(lotAfter.qtyOpen.toFixed());
    expect(r.quantity.get('F')!.toFixed()).toBe('1.296296296');
  });
});

/*
 * Worked example: a USD portfolio, series for the business days 2024-03-04 (Mon) … 03-12 (Tue):
 * 03-04, 05, 06, 07, 08, 11, 12. Security X in USD, Y in EUR. EUR/USD 1.10 from 03-01, 1.20 from 03-07.
 *
 * Ledger (amount = signed cash effect):
 *   03-01 Fri DEPOSIT 10,000 USD           before the first day: the opening position, not a flow of 03-04
 *   03-04     BUY X 10 @ 100  −1,000 USD
 *   03-05     DEPOSIT 1,000 EUR            flow 1,000 × 1.10 = 1,100
 *   03-05     BUY Y 20 @ 40   −800 EUR
 *   03-06     SPLIT X 2:1 (listed first), BUY X 5 @ 50 −250 USD: the buy applies first → (10 + 5) × 2 = 30
 *   03-09 Sat WITHDRAWAL −500 USD          weekend flows count on the next business day, 03-11
 *   03-10 Sun DEPOSIT 200 USD              → 03-11 netFlow −500 + 200 = −300
 *   03-13     DEPOSIT 99 USD               after the last day: ignored
 * Closes: X 03-04 100, 03-05 102, 03-06 51 (split-adjusted), 03-08 52, 03-12 53 (none on 03-07, 03-11)
 *         Y 03-06 42, 03-11 43 (none before 03-06: on 03-05 Y is valued at its trade price 40, incomplete)
 *
 * day   X qty×close        Y (EUR × rate)              positions  cash USD + EUR×rate        NAV      flow
 * 03-04 10 × 100 = 1,000   —                           1,000      9,000                      10,000   0
 * 03-05 10 × 102 = 1,020   20 × 40 = 800 × 1.10 = 880  1,900      9,000 + 200 × 1.10 = 9,220  11,120   1,100  (incomplete)
 * 03-06 30 × 51 = 1,530    20 × 42 = 840 × 1.10 = 924  2,454      8,750 + 220 = 8,970        11,424   0
 * 03-07 30 × 51 = 1,530    840 × 1.20 = 1,008          2,538      8,750 + 240 = 8,990        11,528   0
 * 03-08 30 × 52 = 1,560    1,008                       2,568      8,990                      11,558   0
 * 03-11 30 × 52 = 1,560    20 × 43 = 860 × 1.20 = 1,032 2,592     8,450 + 240 = 8,690        11,282   −300
 * 03-12 30 × 53 = 1,590    1,032                       2,622      8,690                      11,312   0
 */
const X = { id: 'X' };
const Y = { id: 'Y' };
const ENTRIES: LedgerEntry[] = [
  entry('2024-03-01', 'DEPOSIT', '10000', 'USD'),
  entry('2024-03-04', 'BUY', '-1000', 'USD', { ...X, qty: '10', price: '100' }),
  entry('2024-03-05', 'DEPOSIT', '1000', 'EUR'),
  entry('2024-03-05', 'BUY', '-800', 'EUR', { ...Y, qty: '20', price: '40' }),
  entry('2024-03-06', 'SPLIT', '0', 'USD', { ...X, ratio: '2' }),
  entry('2024-03-06', 'BUY', '-250', 'USD', { ...X, qty: '5', price: '50' }),
  entry('2024-03-09', 'WITHDRAWAL', '-500', 'USD'),
  entry('2024-03-10', 'DEPOSIT', '200', 'USD'),
  entry('2024-03-13', 'DEPOSIT', '99', 'USD'),
];
const input = (days: string[], overrides: Partial<SeriesInput> = {}): SeriesInput => ({
  baseCurrency: 'USD',
  entries: ENTRIES,
  securityCurrency: new Map([
    ['X', 'USD'],
    ['Y', 'EUR'],
  ]),
  prices: new Map([
    ['X', series([['2024-03-04', '100'], ['2024-03-05', '102'], ['2024-03-06', '51'], ['2024-03-08', '52'], ['2024-03-12', '53']])],
    ['Y', series([['2024-03-06', '42'], ['2024-03-11', '43']])],
  ]),
  fx: new FxTable([fxQuote('EUR', 'USD', '2024-03-01', '1.10'), fxQuote('EUR', 'USD', '2024-03-07', '1.20')]),
  days,
  ...overrides,
});
const p = (date: string, nav: string, cash: string, positionsValue: string, netFlow: string, complete = true) => ({ date, nav, cash, positionsValue, netFlow, complete });
const EXPECTED = [
  p('2024-03-04', '10000', '9000', '1000', '0'),
  p('2024-03-05', '11120', '9220', '1900', '1100', false),
  p('2024-03-06', '11424', '8970', '2454', '0'),
  p('2024-03-07', '11528', '8990', '2538', '0'),
  p('2024-03-08', '11558', '8990', '2568', '0'),
  p('2024-03-11', '11282', '8690', '2592', '-300'),
  p('2024-03-12', '11312', '8690', '2622', '0'),
];

describe('buildNavSeries: the worked example', () => {
  test('every business day: NAV, cash, positions, net flow and completeness', () => {
    const days = businessDays('2024-03-04', '2024-03-12');
    expect(days).toHaveLength(7);
    expect(plain(buildNavSeries(input(days)))).toEqual(EXPECTED);
  });

  test('an incremental rebuild from 03-11 equals the tail of the full one: the weekend flows belong to 03-11, not to the opening', () => {
    expect(plain(buildNavSeries(input(['2024-03-11', '2024-03-12'])))).toEqual(EXPECTED.slice(5));
    // From 03-06: the split day itself, with the opening replayed through 03-05.
    expect(plain(buildNavSeries(input(businessDays('2024-03-06', '2024-03-12'))))).toEqual(EXPECTED.slice(2));
  });

  test('entries given out of date order give the same series', () => {
    expect(plain(buildNavSeries(input(businessDays('2024-03-04', '2024-03-12'), { entries: [...ENTRIES].reverse() })))).toEqual(EXPECTED);
  });

  test('no days: no points', () => {
    expect(buildNavSeries(input([]))).toEqual([]);
  });
});

describe('buildNavSeries: edge cases', () => {
  test('a day without an FX rate for a currency held: that currency counts 0 and the day is incomplete', () => {
    // No EUR/USD before 03-07: 03-05 and 03-06 lack a rate; EUR cash 200 and Y count 0.
    // 03-05: X 1,020 (Y has no close either) → positions 1,020, cash 9,000, NAV 10,020; the EUR deposit flow counts 0 too.
    // 03-06: X 1,530, cash 8,750 → 10,280.  03-07: rate 1.20 → as in the worked example, 11,528.
    const pts = plain(buildNavSeries(input(businessDays('2024-03-05', '2024-03-07'), { fx: new FxTable([fxQuote('EUR', 'USD', '2024-03-07', '1.20')]) })));
    expect(pts).toEqual([p('2024-03-05', '10020', '9000', '1020', '0', false), p('2024-03-06', '10280', '8750', '1530', '0', false), p('2024-03-07', '11528', '8990', '2538', '0')]);
  });

  test('a short position is worth its negative market value; an inverse rate rounds to 10 places', () => {
    // JPY cash 1,000 at USD/JPY 150: 1,000 × (1/150 → 0.006666…6667, 40 digits) = 6.666…667 → 6.6666666667
    // Short 10 Z (USD) sold @ 20 on 03-04: cash +200; close 25 → −250.
    // NAV = 1,000 (USD deposit) + 200 − 250 + 6.6666666667 = 956.6666666667
    const entries = [
      entry('2024-03-01', 'DEPOSIT', '1000', 'USD'),
      entry('2024-03-01', 'DEPOSIT', '1000', 'JPY'),
      entry('2024-03-04', 'SELL', '200', 'USD', { id: 'Z', qty: '10', price: '20' }),
    ];
    const pts = plain(
      buildNavSeries({
        baseCurrency: 'USD',
        entries,
        securityCurrency: new Map([['Z', 'USD']]),
        prices: new Map([['Z', series([['2024-03-04', '25']])]]),
        fx: new FxTable([fxQuote('USD', 'JPY', '2024-03-01', '150')]),
        days: ['2024-03-04'],
      }),
    );
    expect(pts).toEqual([p('2024-03-04', '956.6666666667', '1206.6666666667', '-250', '0')]);
  });

  test('a security without a currency is a programming error', () => {
    expect(() => buildNavSeries(input(['2024-03-04'], { securityCurrency: new Map() }))).toThrow('no currency for security X');
  });
});

/*
 * The fixed-point sums against decimal.js itself: for each day, the ledger replayed through
 * it (replayThrough) and Σ qty.times(close) per currency in Decimals, in the order the
 * positions were opened, then converted as the series converts them. Quantities, closes and
 * rates of up to 30 significant digits and very different sizes (products of up to 60 digits
 * and sums of up to ~100, both rounded to 40), split ratios that make quantities long,
 * currencies that come and go, missing closes.
 */
describe('buildNavSeries: the fixed-point sums give decimal.js\'s digits', () => {
  // mulberry32: deterministic, and unlike a float LCG its low bits vary.
  let seed = 4242;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return (x ^ (x >>> 14)) >>> 0;
  };
  const digits = (n: number) => Array.from({ length: n }, (_, i) => String(i ? next() % 10 : 1 + (next() % 9))).join('');
  // 1–30 significant digits, from 10^30 down to 10^−45: large and small positions in one sum round it.
  const decimalText = () => {
    const all = digits(1 + (next() % 30));
    if (next() % 3 === 0) return `0.${'0'.repeat(next() % 15)}${all}`;
    const point = next() % (all.length + 1);
    return point === all.length ? all : `${all.slice(0, point) || '0'}.${all.slice(point)}`;
  };

  function reference(input: SeriesInput, closes: Map<string, { dates: string[]; closes: Decimal[] }>) {
    return input.days.map((day) => {
      const state = replayThrough(input.entries, day);
      const local = new Map<string, Decimal>();
      for (const [sid, qty] of state.quantity) {
        if (qty.isZero()) continue;
        const s = closes.get(sid);
        const i = s ? s.dates.filter((x) => x <= day).length - 1 : -1;
        const price = i >= 0 ? s!.closes[i]! : state.lastTradePrice.get(sid);
        if (!price) continue;
        const ccy = input.securityCurrency.get(sid)!;
        local.set(ccy, (local.get(ccy) ?? ZERO).plus(qty.times(price)));
      }
      let total = ZERO;
      for (const [ccy, amount] of local) {
        const r = input.fx.convertRate(ccy, input.baseCurrency, day);
        if (r) total = total.plus(amount.times(r.rate));
      }
      return total.toDecimalPlaces(10).toFixed();
    });
  }

  test('200 random portfolios', () => {
    const currencies = ['USD', 'EUR', 'JPY', 'GBP'];
    const days = businessDays('2024-03-01', '2024-04-30');
    for (let run = 0; run < 200; run++) {
      const sids = Array.from({ length: 1 + (next() % 8) }, (_, i) => `S${i}`);
      const securityCurrency = new Map(sids.map((s) => [s, currencies[next() % currencies.length]!]));
      const entries: LedgerEntry[] = [];
      for (let k = 0; k < 12; k++) {
        const sid = sids[next() % sids.length]!;
        const date = days[next() % days.length]!;
        const kind = next() % 5;
        if (kind === 4) entries.push(entry(date, 'SPLIT', '0', 'USD', { id: sid, ratio: ['3', '0.5', '1.0000000001', '7.25'][next() % 4]! }));
        else entries.push(entry(date, kind === 3 ? 'SELL' : 'BUY', '0', 'USD', { id: sid, qty: decimalText(), price: decimalText() }));
      }
      const texts = new Map<string, { dates: string[]; closes: string[] }>();
      for (const sid of sids) {
        if (next() % 5 === 0) continue; // no closes at all: valued at its last trade price
        const ds = days.filter(() => next() % 3 !== 0);
        texts.set(sid, { dates: ds, closes: ds.map(decimalText) });
      }
      const fx = new FxTable([fxQuote('EUR', 'USD', '2024-03-01', decimalText()), fxQuote('USD', 'JPY', '2024-03-10', decimalText()), fxQuote('GBP', 'EUR', '2024-03-20', decimalText())]);
      const prices = new Map([...texts].map(([sid, s]) => [sid, { dates: s.dates, closes: s.closes.map(unitsOfText) }]));
      const input: SeriesInput = { baseCurrency: currencies[run % currencies.length]!, entries, securityCurrency, prices, fx, days };
      const decimals = new Map([...texts].map(([sid, s]) => [sid, { dates: s.dates, closes: s.closes.map((c) => new D(c)) }]));
      expect(buildNavSeries(input).map((p) => p.positionsValue.toFixed())).toEqual(reference(input, decimals));
    }
  });

  test('unitsOfText reads what PostgreSQL prints exactly, without the trailing zeros, and refuses anything else', () => {
    for (const t of ['0', '-0', '52.1234000000', '7.0000000000', '-0.0000000001', '999999999999999', '-9007199254740993.5', '123456789012345678901234567890.1234567890']) {
      const u = unitsOfText(t);
      expect(u.scale).toBe(t.includes('.') ? t.replace(/0+$/, '').length - t.indexOf('.') - 1 : 0);
      expect(unitsOf(new D(t)).m * 10n ** BigInt(u.scale - unitsOf(new D(t)).scale)).toBe(u.m);
    }
    for (const t of ['', '-', '1e5', '.5', '1.', '-.5', '1.2.3', 'NaN', '+1', ' 1', '12345678901234567x']) expect(() => unitsOfText(t)).toThrow('not a plain decimal');
  });

  test('unitsOfTextAt reads a field of a longer text in place as unitsOfText reads it alone', () => {
    const fields = ['0', '-0', '52.1234000000', '7.0000000000', '-0.0000000001', '-9007199254740993.5', '123456789012345678901234567890.1234567890', '10'];
    const text = `3,${fields.join(',')},-12`;
    let start = 2;
    for (const f of fields) {
      expect(unitsOfTextAt(text, start, start + f.length)).toEqual(unitsOfText(f));
      start += f.length + 1;
    }
    // A field is bounded by its range, whatever follows it.
    expect(unitsOfTextAt('1.50,7', 0, 4)).toEqual({ m: 15n, scale: 1 });
    for (const [t, from, to] of [['1,,2', 2, 2], ['1,-,2', 2, 3], ['5,1.,2', 2, 4], ['5,.5', 2, 4], ['5,1.2.3', 2, 7]] as const) expect(() => unitsOfTextAt(t, from, to)).toThrow('not a plain decimal');
  });
});
