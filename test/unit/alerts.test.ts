import { D } from '../../src/domain/decimal';
import { alertMessage, alertStep, evaluateAlert, mayFire, type AlertRuleInput, type AlertType, type FiringState } from '../../src/domain/alerts';

/*
 * Every AlertType of API.md on worked numbers. A portfolio of NAV 10,500 whose reference
 * (the last daily NAV) is 10,000 and whose peak was 12,000; it holds S at 42.5, worth 4,200
 * in the base currency (a weight of 0.4), and T, which has no price.
 */
const snapshot = (nav: string) => ({
  nav: new D(nav),
  referenceNav: new D(10_000),
  peakNav: new D(12_000),
  price: (sid: string) => (sid === 's' ? new D('42.5') : null),
  weight: (sid: string) => (sid === 's' ? new D(4_200).div(new D(nav)) : null),
});
const rule = (type: AlertType, threshold: string, securityId: string | null = null): AlertRuleInput => ({ type, threshold: new D(threshold), securityId, symbol: securityId?.toUpperCase() ?? null });
const evaluated = (r: AlertRuleInput, nav = '10500') => {
  const { active, value } = evaluateAlert(r, snapshot(nav));
  return { active, value: value?.toFixed() ?? null };
};

describe('alert rules', () => {
  test.each([
    // type, threshold, security, → active, value compared
    ['PRICE_ABOVE', '42', 's', true, '42.5'],
    ['PRICE_ABOVE', '42.5', 's', false, '42.5'], // strictly above
    ['PRICE_BELOW', '43', 's', true, '42.5'],
    ['PRICE_BELOW', '42.5', 's', false, '42.5'],
    ['PRICE_ABOVE', '1', 't', false, null], // no price: never active
    ['NAV_ABOVE', '10499.99', null, true, '10500'],
    ['NAV_ABOVE', '10500', null, false, '10500'],
    ['NAV_BELOW', '10500.01', null, true, '10500'],
    ['NAV_BELOW', '10500', null, false, '10500'],
    // (10,500 − 10,000) / 10,000 = 0.05; a move either way counts against |threshold|.
    ['NAV_CHANGE_PCT', '0.05', null, true, '0.05'],
    ['NAV_CHANGE_PCT', '-0.05', null, true, '0.05'],
    ['NAV_CHANGE_PCT', '0.0501', null, false, '0.05'],
    // (12,000 − 10,500) / 12,000 = 0.125
    ['DRAWDOWN_PCT', '0.125', null, true, '0.125'],
    ['DRAWDOWN_PCT', '0.13', null, false, '0.125'],
    // 4,200 / 10,500 = 0.4
    ['POSITION_WEIGHT_ABOVE', '0.39', 's', true, '0.4'],
    ['POSITION_WEIGHT_ABOVE', '0.4', 's', false, '0.4'],
    ['POSITION_WEIGHT_ABOVE', '0.1', 't', false, null],
  ] as const)('%s %s (%s): active %s, value %s', (type, threshold, security, active, value) => {
    expect(evaluated(rule(type, threshold, security))).toEqual({ active, value });
  });

  test('a fall is a change too, and a percentage keeps 10 places', () => {
    // (9,000 − 10,000) / 10,000 = −0.1; drawdown (12,000 − 9,000) / 12,000 = 0.25
    expect(evaluated(rule('NAV_CHANGE_PCT', '0.1'), '9000')).toEqual({ active: true, value: '-0.1' });
    expect(evaluated(rule('DRAWDOWN_PCT', '0.25'), '9000')).toEqual({ active: true, value: '0.25' });
    // 4,200 / 9,999 = 0.42004200420042…
    expect(evaluated(rule('POSITION_WEIGHT_ABOVE', '0.42', 's'), '9999')).toEqual({ active: true, value: '0.4200420042' });
  });

  test('what cannot be computed is never active: a zero reference, no peak', () => {
    const s = { ...snapshot('100'), referenceNav: new D(0), peakNav: new D(0) };
    expect(evaluateAlert(rule('NAV_CHANGE_PCT', '0'), s)).toEqual({ active: false, value: null });
    expect(evaluateAlert(rule('DRAWDOWN_PCT', '0'), s)).toEqual({ active: false, value: null });
  });

  test('the cooldown: a rule that fired may fire again only once cooldownSeconds have passed', () => {
    expect(mayFire(null, 60, 1_000)).toBe(true);
    expect(mayFire(1_000, 60, 60_999)).toBe(false);
    expect(mayFire(1_000, 60, 61_000)).toBe(true);
    expect(mayFire(1_000, 0, 1_000)).toBe(true);
    // No cooldown: a clock behind the last firing's (another process's) does not hold it back.
    expect(mayFire(1_000, 0, 999)).toBe(true);
    expect(mayFire(1_000, 60, 999)).toBe(false);
  });

  test('alertStep: fires when true, cleared since the last firing and past the cooldown; true again inside the cooldown fires at the first evaluation after it', () => {
    // A rule with a 60 s cooldown through a sequence of evaluations (condition, time in s).
    const seq: [boolean, number][] = [[false, 0], [true, 1], [true, 2], [false, 3], [true, 4], [true, 30], [true, 61], [true, 200], [false, 201], [true, 202], [false, 203], [true, 210], [true, 262]];
    let s: FiringState = { lastFiredAt: null, cleared: true };
    const steps = seq.map(([active, t]) => {
      const step = alertStep(s, active, 60, t * 1000);
      if (step === 'fire') s = { lastFiredAt: t * 1000, cleared: false };
      if (step === 'clear') s = { ...s, cleared: true };
      return step;
    });
    expect(steps).toEqual([
      'none', // false, never fired
      'fire', // the edge
      'none', // still true: not cleared
      'clear',
      'none', // true again at 4 s, inside the cooldown
      'none', // still inside it
      'fire', // still true at 61 s, past the cooldown and cleared at 3 s (the old engine never fired here)
      'none', // true ever since 61 s: not cleared, however long past the cooldown
      'clear',
      'fire', // 141 s after the last firing, cleared: at once
      'clear',
      'none', // 8 s after the firing at 202 s
      'fire', // 60 s after it
    ]);
  });

  test('messages name the value and the threshold exactly', () => {
    expect(alertMessage(rule('PRICE_BELOW', '43', 's'), new D('42.5'))).toBe('S at 42.5 is below 43');
    expect(alertMessage(rule('DRAWDOWN_PCT', '0.1'), new D('0.125'))).toBe('drawdown 0.125 from peak reaches 0.1');
  });
});
