import * as analytics from '../../../src/domain/analytics';

it('exposes the analytics API from one module', () => {
  for (const name of [
    'dailyReturns', 'twr', 'modifiedDietz', 'xirr', 'mwr', 'periodStart', 'annualize', 'cumulativeSeries', 'performanceSummary',
    'annualizedVolatility', 'sharpeRatio', 'sortinoRatio', 'maxDrawdown', 'historicalVar', 'historicalCvar', 'parametricVar',
    'beta', 'jensensAlpha', 'correlation', 'trackingError', 'informationRatio', 'riskReport',
    'brinsonFachler', 'linkCarino', 'carinoFactor', 'currencyAttribution', 'legsFromValues', 'inverseNormalCdf',
  ]) {
    expect(typeof (analytics as Record<string, unknown>)[name]).toBe('function');
  }
});
