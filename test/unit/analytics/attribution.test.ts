import { dec, sum, type D } from '../../../src/domain/decimal';
import { DomainError } from '../../../src/domain/errors';
import {
  brinsonFachler,
  carinoFactor,
  linkCarino,
  type AttributionGroupInput,
  type AttributionResult,
} from '../../../src/domain/analytics/attribution';
import { expectClose } from './helpers';

const g = (key: string, wp: string, wb: string, rp: string | null, rb: string | null): AttributionGroupInput => ({
  key,
  portfolioWeight: dec(wp),
  benchmarkWeight: dec(wb),
  portfolioReturn: rp === null ? null : dec(rp),
  benchmarkReturn: rb === null ? null : dec(rb),
});

const effects = (r: AttributionResult): D => r.allocation.plus(r.selection).plus(r.interaction);

/*
 * Carl Bacon, "Practical Portfolio Performance Measurement and Attribution" (2nd ed., Wiley 2008),
 * ch. 5 Brinson-Fachler example (Q1 of the book's four-quarter table):
 *
 *            wp    wb    Rp_i    Rb_i
 *   UK       40%   40%   20%     10%
 *   Japan    30%   20%   −5%     −4%
 *   US       30%   40%    6%      8%
 *   Total                 8.3%    6.4%     (Rp = 0.4·0.2 + 0.3·(−0.05) + 0.3·0.06; Rb = 0.4·0.1 + 0.2·(−0.04) + 0.4·0.08)
 *
 *   allocation (wp − wb)(Rb_i − Rb):  UK 0·(0.036) = 0; Japan 0.1·(−0.104) = −1.04%; US −0.1·(0.016) = −0.16%   total −1.2%
 *   selection  wb(Rp_i − Rb_i):       UK 0.4·0.1 = 4.0%; Japan 0.2·(−0.01) = −0.2%;  US 0.4·(−0.02) = −0.8%    total  3.0%
 *   interaction (wp − wb)(Rp_i − Rb_i): UK 0; Japan 0.1·(−0.01) = −0.1%; US −0.1·(−0.02) = 0.2%                total  0.1%
 *   −1.2% + 3.0% + 0.1% = 1.9% = 8.3% − 6.4%
 */
const bacon: AttributionGroupInput[][] = [
  [g('UK', '0.4', '0.4', '0.2', '0.1'), g('Japan', '0.3', '0.2', '-0.05', '-0.04'), g('US', '0.3', '0.4', '0.06', '0.08')],
  [g('UK', '0.7', '0.4', '-0.05', '-0.07'), g('Japan', '0.2', '0.3', '0.03', '0.04'), g('US', '0.1', '0.3', '-0.05', '-0.1')],
  [g('UK', '0.3', '0.5', '-0.2', '-0.25'), g('Japan', '0.5', '0.4', '0.08', '0.05'), g('US', '0.2', '0.1', '-0.15', '-0.2')],
  [g('UK', '0.3', '0.4', '0.1', '0.05'), g('Japan', '0.5', '0.4', '-0.07', '-0.05'), g('US', '0.2', '0.2', '0.25', '0.1')],
];

describe('brinsonFachler (single period)', () => {
  it('reproduces Bacon’s Brinson-Fachler table', () => {
    const r = brinsonFachler(bacon[0] as AttributionGroupInput[]);
    expect(r.portfolioReturn.eq(dec('0.083'))).toBe(true);
    expect(r.benchmarkReturn.eq(dec('0.064'))).toBe(true);
    expect(r.activeReturn.eq(dec('0.019'))).toBe(true);
    expect(r.allocation.eq(dec('-0.012'))).toBe(true);
    expect(r.selection.eq(dec('0.03'))).toBe(true);
    expect(r.interaction.eq(dec('0.001'))).toBe(true);
    expect(effects(r).eq(r.activeReturn)).toBe(true);
    const [uk, jp, us] = r.groups;
    expect([uk?.allocation, jp?.allocation, us?.allocation].map((x) => x?.toString())).toEqual(['0', '-0.0104', '-0.0016']);
    expect([uk?.selection, jp?.selection, us?.selection].map((x) => x?.toString())).toEqual(['0.04', '-0.002', '-0.008']);
    expect([uk?.interaction, jp?.interaction, us?.interaction].map((x) => x?.toString())).toEqual(['0', '-0.001', '0.002']);
  });

  /*
   * Groups held by only one side:
   *   A: wp 0.5, wb 0.6, Rp 10%, Rb 5%;  B: benchmark only (wb 0.4, Rb 10%);  C: portfolio only (wp 0.5, Rp 20%)
   *   Rb = 0.6·0.05 + 0.4·0.1 = 0.07; Rp = 0.5·0.1 + 0.5·0.2 = 0.15
   *   A: alloc −0.1·(0.05 − 0.07) = 0.002, sel 0.6·0.05 = 0.03, inter −0.1·0.05 = −0.005
   *   B: Rp_B := Rb_B → alloc −0.4·(0.1 − 0.07) = −0.012, sel 0, inter 0
   *   C: Rb_C := Rb   → alloc 0.5·0 = 0, sel 0, inter 0.5·(0.2 − 0.07) = 0.065
   *   total 0.08 = 0.15 − 0.07
   */
  it('handles groups held only by the portfolio or only by the benchmark', () => {
    const r = brinsonFachler([g('A', '0.5', '0.6', '0.1', '0.05'), g('B', '0', '0.4', null, '0.1'), g('C', '0.5', '0', '0.2', null)]);
    expect(r.activeReturn.eq(dec('0.08'))).toBe(true);
    expect(effects(r).eq(dec('0.08'))).toBe(true);
    expect(r.groups.map((x) => [x.key, x.allocation.toString(), x.selection.toString(), x.interaction.toString()])).toEqual([
      ['A', '0.002', '0.03', '-0.005'],
      ['B', '-0.012', '0', '0'],
      ['C', '0', '0', '0.065'],
    ]);
  });

  it('rejects weights that do not sum to 1, duplicate keys and missing returns', () => {
    expect(() => brinsonFachler([g('A', '0.5', '1', '0.1', '0.1')])).toThrow(DomainError);
    expect(() => brinsonFachler([g('A', '0.5', '0.5', '0', '0'), g('A', '0.5', '0.5', '0', '0')])).toThrow(DomainError);
    expect(() => brinsonFachler([g('A', '1', '1', null, '0.1')])).toThrow(DomainError);
  });
});

describe('carinoFactor', () => {
  it('k = (ln(1+R) − ln(1+B))/(R − B), and 1/(1+R) in the limit R = B', () => {
    // Bacon Q1: (ln 1.083 − ln 1.064)/0.019 = 0.931556689442153581432818999614200422172878 (mpmath)
    expectClose(carinoFactor(dec('0.083'), dec('0.064')), '0.931556689442153581432818999614200422172878');
    expectClose(carinoFactor(dec('0.05'), dec('0.05')), dec(1).div('1.05'));
    // Nearly equal returns use the ln(1+u)/u series (mpmath at 80 digits for the reference values):
    // (ln(1.05 + 1e−25) − ln 1.05)/1e−25 = 0.952380952380952380952380907029478458049887
    expectClose(carinoFactor(dec('0.05').plus('1e-25'), dec('0.05')), '0.952380952380952380952380907029478458049887', '1e-38');
    // (ln(1.05005) − ln 1.05)/0.00005 = 0.952358277363829886675143752889505399702971
    expectClose(carinoFactor(dec('0.05005'), dec('0.05')), '0.952358277363829886675143752889505399702971', '1e-38');
    // and the log formula further away: u = 0.001/1.05 > 1e−4
    expectClose(carinoFactor(dec('0.051'), dec('0.05')), dec('1.051').ln().minus(dec('1.05').ln()).div('0.001'), '1e-36');
    expect(() => carinoFactor(dec(-1), dec('0.05'))).toThrow(DomainError);
  });
});

describe('linkCarino (multi-period)', () => {
  /*
   * Bacon's four quarters (the table above for Q1, then):
   *   Q2: UK 70/40 −5%/−7%, Japan 20/30 3%/4%,  US 10/30 −5%/−10%   → Rp −3.4%, Rb −4.6%
   *   Q3: UK 30/50 −20%/−25%, Japan 50/40 8%/5%, US 20/10 −15%/−20% → Rp −5%,   Rb −12.5%
   *   Q4: UK 30/40 10%/5%, Japan 50/40 −7%/−5%, US 20/20 25%/10%    → Rp 4.5%,  Rb 2%
   * Linked: R = 1.083·0.966·0.95·1.045 − 1 = 0.0385932095; B = 1.064·0.954·0.875·1.02 − 1 = −0.09406252
   *   R − B = 0.1326557295; K = 1.03012585084912666159277461975061075606137 (mpmath)
   *   k_t = 0.931556689442…, 1.041680230352…, 1.096507976492…, 0.968570324823…
   *   linked allocation  = 0.0119451370857297741091351074144625498926495
   *   linked selection   = 0.131550522524910255498061933517245341588239
   *   linked interaction = −0.0108399301106400296071970409317078914808888
   *   sum = 0.1326557295 = R − B
   */
  it('links Bacon’s four quarters so the effects sum exactly to R − B', () => {
    const linked = linkCarino(bacon.map((q) => brinsonFachler(q)));
    expect(linked.portfolioReturn.eq(dec('0.0385932095'))).toBe(true);
    expect(linked.benchmarkReturn.eq(dec('-0.09406252'))).toBe(true);
    expect(linked.activeReturn.eq(dec('0.1326557295'))).toBe(true);
    expectClose(linked.allocation, '0.0119451370857297741091351074144625498926495');
    expectClose(linked.selection, '0.131550522524910255498061933517245341588239');
    expectClose(linked.interaction, '-0.0108399301106400296071970409317078914808888');
    expectClose(effects(linked), linked.activeReturn, '1e-36');
    const uk = linked.groups.find((x) => x.key === 'UK');
    expectClose(uk?.allocation, '0.016509527224557188149011701261138665620383693');
    expectClose(uk?.selection, '0.08967818374149013686779722733925465039646271');
    expectClose(
      sum(linked.groups.map((x) => x.allocation.plus(x.selection).plus(x.interaction))),
      linked.activeReturn,
      '1e-36',
    );
  });

  /*
   * k = 1 limit inside a period: wp 60/40, wb 50/50, Rb_i 2%/6% → Rb = 4%; Rp_i 0%/10% → Rp = 4%.
   *   alloc 0.1·(−0.02) − 0.1·0.02 = −0.004; sel 0.5·(−0.02) + 0.5·0.04 = 0.01; inter 0.1·(−0.02) − 0.1·0.04 = −0.006
   *   (sum 0 = Rp − Rb, so k_t = 1/1.04 must be used).
   * Overall R = B with different periods: single group, P1 Rp 10% Rb 0%, P2 Rp 0% Rb 10% → R = B = 10%, K = 1/1.1;
   *   k_1 = k_2 = ln(1.1)/0.1, so the linked selection 0.1·k/K − 0.1·k/K = 0 = R − B.
   */
  it('handles R = B in a period and over the whole span', () => {
    const flat = brinsonFachler([g('X', '0.6', '0.5', '0', '0.02'), g('Y', '0.4', '0.5', '0.1', '0.06')]);
    expect(flat.activeReturn.isZero()).toBe(true);
    expect([flat.allocation, flat.selection, flat.interaction].map(String)).toEqual(['-0.004', '0.01', '-0.006']);
    const linked = linkCarino([flat, brinsonFachler(bacon[0] as AttributionGroupInput[]), flat]);
    expectClose(effects(linked), linked.activeReturn, '1e-36');

    const p1 = brinsonFachler([g('X', '1', '1', '0.1', '0')]);
    const p2 = brinsonFachler([g('X', '1', '1', '0', '0.1')]);
    const even = linkCarino([p1, p2]);
    expect(even.portfolioReturn.eq(even.benchmarkReturn)).toBe(true);
    expect(even.activeReturn.isZero()).toBe(true);
    expectClose(even.selection, '0', '1e-36');
    expectClose(effects(linkCarino([flat, flat])), '0', '1e-36');
  });

  it('a single period links to itself; no periods link to zero', () => {
    const one = brinsonFachler(bacon[0] as AttributionGroupInput[]);
    const linked = linkCarino([one]);
    expectClose(linked.allocation, one.allocation, '1e-36');
    expectClose(linked.selection, one.selection, '1e-36');
    const none = linkCarino([]);
    expect(none.activeReturn.isZero() && none.groups.length === 0).toBe(true);
  });
});
