import { dec, type D } from '../../../src/domain/decimal';
import { DEFAULT_SCENARIOS, stressTest, validateShocks, type Shock, type StressCash, type StressPosition } from '../../../src/domain/analytics/stress';

/*
 * Worked example (hand computation, exact): a USD portfolio.
 *   A  USD  Tech    Equity        10 @ 100  → 1,000 local, FX 1     → 1,000
 *   B  EUR  Energy  Equity        20 @ 50   → 1,000 local, FX 1.1   → 1,100
 *   C  USD  (none)  FixedIncome    5, no price: valued at cost 480  →   480
 *   cash USD 200 (FX 1) → 200;  EUR 100 (FX 1.1) → 110
 *   value before = 1,000 + 1,100 + 480 + 200 + 110 = 2,890
 * Shocks, in this order: MARKET −10% (relative); SECTOR Tech −5 (absolute); CURRENCY EUR +5% (relative).
 *   A: 100 × 0.9 = 90, − 5 = 85              → 10 × 85 = 850                  impact −150
 *   B: 50 × 0.9 = 45; FX 1.1 × 1.05 = 1.155  → 20 × 45 × 1.155 = 1,039.5      impact −60.5
 *   C: no price, not shocked; USD            → 480                            impact 0
 *   cash: 200 + 100 × 1.155 = 315.5 (before 310)
 *   value after = 850 + 1,039.5 + 480 + 315.5 = 2,685; impact −205;
 *   impact % = −205/2,890 = −0.0709342560553633217993079584775086505190… (40 digits, half-even:
 *   −0.07093425605536332179930795847750865051903)
 */

const pos = (symbol: string, currency: string, sector: string | null, assetClass: string | null, q: string, price: string | null, mv: string, fx: string | null): StressPosition => ({
  securityId: symbol.toLowerCase(),
  symbol,
  currency,
  sector,
  assetClass,
  quantity: dec(q),
  price: price === null ? null : dec(price),
  marketValue: dec(mv),
  fxRate: fx === null ? null : dec(fx),
});
const positions = [pos('A', 'USD', 'Tech', 'Equity', '10', '100', '1000', '1'), pos('B', 'EUR', 'Energy', 'Equity', '20', '50', '1000', '1.1'), pos('C', 'USD', null, 'FixedIncome', '5', null, '480', '1')];
const cash: StressCash[] = [
  { currency: 'USD', balance: dec(200), fxRate: dec(1) },
  { currency: 'EUR', balance: dec(100), fxRate: dec('1.1') },
];
const shock = (target: Shock['target'], key: string | null, kind: Shock['kind'], value: string): Shock => ({ target, key, kind, value: dec(value) });
const s = (x: D | null) => (x === null ? null : x.toString());

describe('stressTest', () => {
  it('matches the worked example: composed price shocks, a currency shock, cash revalued', () => {
    const r = stressTest('USD', positions, cash, [shock('MARKET', null, 'RELATIVE', '-0.1'), shock('SECTOR', 'Tech', 'ABSOLUTE', '-5'), shock('CURRENCY', 'EUR', 'RELATIVE', '0.05')]);
    expect([r.valueBefore, r.valueAfter, r.impact, r.cashBefore, r.cashAfter].map(s)).toEqual(['2890', '2685', '-205', '310', '315.5']);
    expect(s(r.impactPct)).toBe('-0.07093425605536332179930795847750865051903');
    // Sorted by impact, worst first.
    expect(r.positions.map((p) => [p.symbol, s(p.valueBefore), s(p.valueAfter), s(p.impact), s(p.shockedPrice), s(p.shockedFxRate)])).toEqual([
      ['A', '1000', '850', '-150', '85', '1'],
      ['B', '1100', '1039.5', '-60.5', '45', '1.155'],
      ['C', '480', '480', '0', null, '1'],
    ]);
    expect(r.unmatched).toEqual([]);
  });

  it('price shocks compose in the order given and never go below zero', () => {
    const one = [positions[0]!];
    // (100 + 10) × 0.5 = 55 against 100 × 0.5 + 10 = 60.
    expect(s(stressTest('USD', one, [], [shock('SECURITY', 'A', 'ABSOLUTE', '10'), shock('MARKET', null, 'RELATIVE', '-0.5')]).positions[0]!.shockedPrice)).toBe('55');
    expect(s(stressTest('USD', one, [], [shock('MARKET', null, 'RELATIVE', '-0.5'), shock('SECURITY', 'A', 'ABSOLUTE', '10')]).positions[0]!.shockedPrice)).toBe('60');
    const floored = stressTest('USD', one, [], [shock('SECURITY', 'A', 'ABSOLUTE', '-150')]);
    expect([s(floored.positions[0]!.shockedPrice), s(floored.valueAfter), s(floored.impactPct)]).toEqual(['0', '0', '-1']);
  });

  it('a shock on the base currency divides the other rates by (1 + v); ABSOLUTE FX shocks add', () => {
    // USD +10%: EUR→USD 1.1 / 1.1 = 1 → B 20 × 50 = 1,000 (−100), EUR cash 100 (−10); A and C unchanged.
    const up = stressTest('USD', positions, cash, [shock('CURRENCY', 'USD', 'RELATIVE', '0.1')]);
    expect([s(up.impact), s(up.cashAfter)]).toEqual(['-110', '300']);
    expect(up.positions.map((p) => [p.symbol, s(p.impact)])).toEqual([
      ['B', '-100'],
      ['A', '0'],
      ['C', '0'],
    ]);
    // EUR +0.1 absolute: 1.1 + 0.1 = 1.2 → B 1,200 (+100), EUR cash 120 (+10).
    expect(s(stressTest('USD', positions, cash, [shock('CURRENCY', 'EUR', 'ABSOLUTE', '0.1')]).impact)).toBe('110');
  });

  it('shocks matching nothing are reported; no FX rate values at 0; nothing held has no impact %', () => {
    const r = stressTest('USD', positions, cash, [shock('SECTOR', 'Utilities', 'RELATIVE', '-0.3'), shock('CURRENCY', 'JPY', 'RELATIVE', '0.1'), shock('ASSET_CLASS', 'FixedIncome', 'RELATIVE', '-0.2')]);
    // FixedIncome only reaches C, which has no price (valued at cost, not shocked): no effect, so unmatched too.
    expect(r.unmatched.map((x) => x.key)).toEqual(['Utilities', 'JPY', 'FixedIncome']);
    expect(s(r.impact)).toBe('0');
    const noFx = stressTest('USD', [pos('J', 'JPY', null, null, '1', '100', '100', null)], [], [shock('MARKET', null, 'RELATIVE', '0.5')]);
    expect([s(noFx.valueBefore), s(noFx.valueAfter), s(noFx.impactPct)]).toEqual(['0', '0', null]);
    const empty = stressTest('USD', [], [], [shock('MARKET', null, 'RELATIVE', '-0.1')]);
    expect([s(empty.valueBefore), s(empty.impactPct), empty.unmatched.length]).toEqual(['0', null, 1]);
  });

  it('refuses no shocks, a missing key, a relative shock at or below −100% and an ABSOLUTE base-currency shock', () => {
    expect(() => validateShocks([], 'USD')).toThrow(/at least one shock/);
    expect(() => validateShocks([shock('SECTOR', null, 'RELATIVE', '0.1')], 'USD')).toThrow(/SECTOR shock needs a key/);
    expect(() => validateShocks([shock('MARKET', null, 'RELATIVE', '-1')], 'USD')).toThrow(/above −1/);
    expect(() => validateShocks([shock('CURRENCY', 'USD', 'ABSOLUTE', '0.1')], 'USD')).toThrow(/ABSOLUTE shock on the base currency USD/);
    expect(() => validateShocks([shock('MARKET', null, 'ABSOLUTE', '-5'), shock('CURRENCY', 'EUR', 'ABSOLUTE', '-0.5')], 'USD')).not.toThrow();
    expect(() => stressTest('USD', positions, cash, [shock('MARKET', null, 'RELATIVE', '-1.5')])).toThrow(/above −1/);
  });

  it('the default scenarios are well-formed', () => {
    expect(DEFAULT_SCENARIOS.map((x) => x.code)).toEqual(['MARKET_UP_10', 'MARKET_DOWN_10', 'GFC_2008', 'COVID_2020', 'USD_UP_5', 'USD_DOWN_5']);
    for (const sc of DEFAULT_SCENARIOS) {
      expect(() => validateShocks(sc.shocks.map((x) => ({ ...x, value: dec(x.value) })), 'EUR')).not.toThrow();
    }
    expect(DEFAULT_SCENARIOS.find((x) => x.code === 'GFC_2008')!.shocks).toHaveLength(11);
    expect(DEFAULT_SCENARIOS.find((x) => x.code === 'COVID_2020')!.shocks).toHaveLength(11);
  });
});
