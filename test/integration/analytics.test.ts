import { D } from '../../src/domain/decimal';
import { DEFAULT_SCENARIOS } from '../../src/domain/analytics/stress';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { recordOk } from '../support/ledger';

/*
 * A USD portfolio, Tue 2024-01-02 … Fri 2024-01-05, checked against hand computations.
 *
 * Securities: AAA (USD, Tech), BBB (USD, Energy). Closes:
 *            01-02  01-03  01-04  01-05
 *   AAA       100    110     99   108.9
 *   BBB        50     50     55     55
 * Ledger: 01-02 DEPOSIT 10,000; BUY AAA 50 @ 100 (cash 5,000). 01-04 DEPOSIT 1,000 (end of day).
 * NAV: 01-02 10,000 · 01-03 5,000 + 5,500 = 10,500 · 01-04 6,000 + 4,950 = 10,950 (flow 1,000)
 *      · 01-05 6,000 + 5,445 = 11,445
 * Daily returns r = (NAVₜ − flowₜ − NAVₜ₋₁)/NAVₜ₋₁:
 *   r1 = 500/10,000 = 0.05;  r2 = (10,950 − 1,000 − 10,500)/10,500 = −550/10,500;  r3 = 495/10,950
 * TWR = 1.05 × 9,950/10,500 × 11,445/10,950 − 1 = 0.995 × 11,445/10,950 − 1
 * Modified Dietz: T = 3 days, flow on day 2 → weight (3 − 2)/3 = 1/3:
 *   (11,445 − 10,000 − 1,000) / (10,000 + 1,000/3) = 445 / (31,000/3) = 1,335/31,000
 * Benchmark BM = ½ AAA + ½ BBB rebalanced daily:
 *   rb1 = ½·0.1 + ½·0 = 0.05;  rb2 = ½·(−0.1) + ½·0.1 = 0;  rb3 = ½·0.1 + ½·0 = 0.05;  B = 1.05² − 1 = 0.1025
 * Drawdown of the TWR index 1, 1.05, 0.995, 1.0399…: peak 01-03, trough 01-04, (1.05 − 0.995)/1.05, no recovery.
 * Historical VaR 95%: n = 3, k = ceil(3 × 0.05) = 1 → −min(r) = 550/10,500.
 */

const PERF = `query($id: ID!, $f: Date!, $t: Date!) { portfolio(id: $id) { performance(from: $f, to: $t) {
  from to days annualized twr cumulativeTwr modifiedDietz mwr mwrError startNav endNav netFlows periods { period from return annualized } cumulative { date cumulative nav } } } }`;
const RISK = `query($id: ID!, $f: Date!, $t: Date!, $b: String, $c: Decimal) { portfolio(id: $id) { risk(from: $f, to: $t, benchmark: $b, confidence: $c) {
  observations volatility sharpe sortino maxDrawdown drawdownPeak drawdownTrough drawdownRecovery var cvar parametricVar beta alpha correlation trackingError informationRatio benchmarkReturn } } }`;
const ATTR = `query($id: ID!, $f: Date!, $t: Date!, $b: String!, $g: AttributionGroup) { portfolio(id: $id) { attribution(from: $f, to: $t, benchmark: $b, groupBy: $g) {
  groupBy portfolioReturn benchmarkReturn activeReturn allocation selection interaction twr residual cashContribution linking
  groups { key portfolioWeight benchmarkWeight portfolioReturn benchmarkReturn allocation selection interaction }
  contributions { symbol group averageWeight contribution } } } }`;
const CCY = `query($id: ID!, $f: Date!, $t: Date!) { portfolio(id: $id) { currencyAttribution(from: $f, to: $t) { localReturn fxReturn interaction totalReturn errorBps currencies { currency weight localReturn fxReturn } } } }`;
const STRESS = `query($id: ID!, $s: [ShockInput!], $sc: String) { portfolio(id: $id) { stressTest(shocks: $s, scenario: $sc) {
  scenario valueBefore valueAfter impact impactPct positions { symbol valueBefore valueAfter impact shockedPrice } unmatchedShocks { target key } } } }`;
const WHATIF = `query($id: ID!, $t: [WhatIfTradeInput!]!) { portfolio(id: $id) { whatIf(trades: $t) { navChange trades { symbol price }
  current { valuation { nav cashValue } exposure { bySector { key net } } risk { observations volatility } }
  proForma { valuation { nav cashValue holdings { symbol quantity } } exposure { bySector { key net } } risk { observations volatility } } } } }`;
const BENCH = `mutation($i: BenchmarkInput!) { upsertBenchmark(input: $i) { code name currency constituents { symbol weight sector } } }`;

const close = (actual: string, expected: D, tol = '1e-20') => {
  const diff = new D(actual).minus(expected).abs();
  if (diff.gt(tol)) throw new Error(`expected ${expected.toString()}, got ${actual}`);
};

describeEachEngine('analytics over HTTP', (db) => {
  let server: TestServer;
  let admin: string;
  let owner: string;
  let other: string;
  let pid: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    admin = (await createUserWithKey(server, 'ADMIN')).key;
    owner = (await createUserWithKey(server, 'USER')).key;
    other = (await createUserWithKey(server, 'USER')).key;
    const up = `mutation($i: SecurityInput!) { upsertSecurity(input: $i) { id } }`;
    for (const [symbol, sector] of [['AAA', 'Tech'], ['BBB', 'Energy']]) {
      expect(codeOf(await gql(server.url, admin, up, { i: { symbol, name: symbol, currency: 'USD', sector, country: 'US', assetClass: 'Equity' } }))).toBe('none');
    }
    const days = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05'];
    const aaa = ['100', '110', '99', '108.9'];
    const bbb = ['50', '50', '55', '55'];
    const input = days.flatMap((date, i) => [{ symbol: 'AAA', date, close: aaa[i] }, { symbol: 'BBB', date, close: bbb[i] }]);
    input.push({ symbol: 'AAA', at: '2024-01-08T15:00:00.000Z', close: '120' } as never);
    const px = await gql(server.url, admin, `mutation($i: [PriceInput!]!) { ingestPrices(input: $i) { rejected errors { message } } }`, { i: input });
    expect(px.data!.ingestPrices.rejected).toBe(0);
    pid = (await gql(server.url, owner, `mutation { createPortfolio(input: { name: "A", baseCurrency: "USD" }) { id } }`)).data!.createPortfolio.id;
    await recordOk(server.url, owner, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-02', amount: '10000', currency: 'USD' });
    await recordOk(server.url, owner, { portfolioId: pid, type: 'BUY', date: '2024-01-02', symbol: 'AAA', quantity: '50', price: '100' });
    await recordOk(server.url, owner, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-04', amount: '1000', currency: 'USD' });
    const b = await gql(server.url, admin, BENCH, { i: { code: 'bm', name: 'Half and half', currency: 'USD', constituents: [{ symbol: 'AAA', weight: '0.5' }, { symbol: 'BBB', weight: '0.5' }] } });
    expect(codeOf(b)).toBe('none');
    expect(b.data!.upsertBenchmark).toMatchObject({ code: 'BM', currency: 'USD' });
  }, 120_000);
  afterAll(() => server?.close());

  it('benchmarks: weights must sum to 1, ADMIN/MANAGER only, readable by code, audited', async () => {
    const bad = await gql(server.url, admin, BENCH, { i: { code: 'X', name: 'x', currency: 'USD', constituents: [{ symbol: 'AAA', weight: '0.6' }, { symbol: 'BBB', weight: '0.3' }] } });
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    const unknown = await gql(server.url, admin, BENCH, { i: { code: 'X', name: 'x', currency: 'USD', constituents: [{ symbol: 'NOPE', weight: '1' }] } });
    expect(codeOf(unknown)).toBe('BAD_USER_INPUT');
    const user = await gql(server.url, owner, BENCH, { i: { code: 'X', name: 'x', currency: 'USD', constituents: [{ symbol: 'AAA', weight: '1' }] } });
    expect(codeOf(user)).toBe('FORBIDDEN');
    const single = await gql(server.url, admin, BENCH, { i: { code: 'AAAFUND', name: 'one', currency: 'USD', constituents: [{ symbol: 'AAA', weight: '1' }] } });
    expect(codeOf(single)).toBe('none');
    const read = await gql(server.url, owner, `{ benchmark(code: "bm") { code constituents { symbol weight } } }`);
    expect(read.data!.benchmark.constituents.map((c: { symbol: string }) => c.symbol).sort()).toEqual(['AAA', 'BBB']);
    expect(await db().prisma.auditLog.count({ where: { entityType: 'Benchmark' } })).toBe(2);
  });

  it('performance: TWR, Modified Dietz, MWR and the cumulative series match the hand computation', async () => {
    const res = await gql(server.url, owner, PERF, { id: pid, f: '2024-01-02', t: '2024-01-05' });
    expect(codeOf(res)).toBe('none');
    const p = res.data!.portfolio.performance;
    const twr = new D('0.995').times(11445).div(10950).minus(1);
    close(p.twr, twr);
    close(p.cumulativeTwr, twr);
    close(p.modifiedDietz, new D(1335).div(31000));
    expect(p).toMatchObject({ from: '2024-01-02', to: '2024-01-05', days: 3, annualized: false, startNav: '10000', endNav: '11445', netFlows: '1000' });
    expect(p.mwr).not.toBeNull();
    expect(p.mwrError).toBeNull();
    // MWR: the annualized IRR r solves −10,000 − 1,000·v² + 11,445·v³ = 0 with v = (1 + r)^(−1/365).
    const v = new D(1).plus(p.mwr).pow(new D(-1).div(365));
    close(new D(-10000).minus(v.pow(2).times(1000)).plus(v.pow(3).times(11445)).toFixed(), new D(0), '1e-6');
    expect(p.cumulative.map((c: { date: string }) => c.date)).toEqual(['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05']);
    close(p.cumulative[1].cumulative, new D('0.05'));
    const itd = p.periods.find((x: { period: string }) => x.period === 'ITD');
    expect(itd.from).toBe('2024-01-02');
    expect(p.periods.find((x: { period: string }) => x.period === '5Y').return).toBeNull();
  });

  it('risk: volatility, VaR, drawdown dates and benchmark measures', async () => {
    const res = await gql(server.url, owner, RISK, { id: pid, f: '2024-01-02', t: '2024-01-05', b: 'bm' });
    expect(codeOf(res)).toBe('none');
    const r = res.data!.portfolio.risk;
    const rp = [new D('0.05'), new D(-550).div(10500), new D(495).div(10950)];
    const rb = [new D('0.05'), new D(0), new D('0.05')];
    const mean = (x: D[]) => x.reduce((a, b) => a.plus(b), new D(0)).div(x.length);
    const mp = mean(rp);
    const mb = mean(rb);
    const varp = rp.reduce((a, x) => a.plus(x.minus(mp).pow(2)), new D(0)).div(2);
    const varb = rb.reduce((a, x) => a.plus(x.minus(mb).pow(2)), new D(0)).div(2);
    const cov = rp.reduce((a, x, i) => a.plus(x.minus(mp).times(rb[i]!.minus(mb))), new D(0)).div(2);
    expect(r.observations).toBe(3);
    close(r.volatility, varp.sqrt().times(new D(252).sqrt()));
    close(r.var, new D(550).div(10500));
    close(r.cvar, new D(550).div(10500));
    close(r.maxDrawdown, new D('1.05').minus('0.995').div('1.05'));
    expect(r).toMatchObject({ drawdownPeak: '2024-01-03', drawdownTrough: '2024-01-04', drawdownRecovery: null });
    close(r.beta, cov.div(varb));
    close(r.correlation, cov.div(varp.sqrt().times(varb.sqrt())));
    close(r.benchmarkReturn, new D('0.1025'));
    // The risk-free rate reaches the ratios: annual 2.52% simple → 0.0001 a day.
    const rf = (await gql(server.url, owner, `query($id: ID!) { portfolio(id: $id) { risk(from: "2024-01-02", to: "2024-01-05", riskFreeRate: "0.0252") { riskFreeRate sharpe sortino } } }`, { id: pid })).data!.portfolio.risk;
    const sd = varp.sqrt();
    close(rf.sharpe, mp.minus('0.0001').div(sd).times(new D(252).sqrt()));
    const downside = rp.reduce((a, x) => a.plus(D.min(x.minus('0.0001'), 0).pow(2)), new D(0)).div(3).sqrt();
    close(rf.sortino, mp.minus('0.0001').div(downside).times(new D(252).sqrt()));
    close(r.sharpe, mp.div(sd).times(new D(252).sqrt()));
  });

  it('attribution: effects add up to the active return; holdings-based return equals TWR without intraday trades', async () => {
    const res = await gql(server.url, owner, ATTR, { id: pid, f: '2024-01-02', t: '2024-01-05', b: 'BM', g: 'SECTOR' });
    expect(codeOf(res)).toBe('none');
    const a = res.data!.portfolio.attribution;
    const twr = new D('0.995').times(11445).div(10950).minus(1);
    close(a.portfolioReturn, twr);
    close(a.benchmarkReturn, new D('0.1025'));
    close(a.activeReturn, twr.minus('0.1025'));
    close(new D(a.allocation).plus(a.selection).plus(a.interaction).toFixed(), new D(a.activeReturn), '1e-30');
    close(a.residual, new D(0));
    expect(a.linking).toBe('Carino');
    expect(a.groups.map((g: { key: string }) => g.key).sort()).toEqual(['CASH', 'Energy', 'Tech']);
    // Tech: the portfolio's AAA returned exactly the benchmark's Tech return every day → no selection.
    close(a.groups.find((g: { key: string }) => g.key === 'Tech').selection, new D(0));
    const contrib = a.contributions.reduce((s: D, c: { contribution: string }) => s.plus(c.contribution), new D(a.cashContribution));
    close(contrib.toFixed(), twr, '1e-30');
  });

  it.each(['ASSET_CLASS', 'COUNTRY', 'CURRENCY'])('attribution by %s: the groups of that classification, effects adding up to the active return', async (groupBy) => {
    const a = (await gql(server.url, owner, ATTR, { id: pid, f: '2024-01-02', t: '2024-01-05', b: 'BM', g: groupBy })).data!.portfolio.attribution;
    // Both securities are US equities in USD: one group besides CASH; by currency the USD cash joins USD.
    const keys = { ASSET_CLASS: ['CASH', 'Equity'], COUNTRY: ['CASH', 'US'], CURRENCY: ['USD'] }[groupBy];
    expect(a.groupBy).toBe(groupBy);
    expect(a.groups.map((g: { key: string }) => g.key).sort()).toEqual(keys);
    close(new D(a.allocation).plus(a.selection).plus(a.interaction).toFixed(), new D(a.activeReturn), '1e-30');
    close(a.benchmarkReturn, new D('0.1025'));
  });

  it('currency attribution: buy and hold from the start, error against TWR in bps', async () => {
    const res = await gql(server.url, owner, CCY, { id: pid, f: '2024-01-02', t: '2024-01-05' });
    expect(codeOf(res)).toBe('none');
    const c = res.data!.portfolio.currencyAttribution;
    // Start: AAA 5,000 + cash 5,000; end: 50 × 108.9 + 5,000 = 10,445 → local 0.0445, FX 0.
    close(c.localReturn, new D('0.0445'));
    close(c.fxReturn, new D(0));
    const twr = new D('0.995').times(11445).div(10950).minus(1);
    close(c.errorBps, twr.minus('0.0445').times(10000));
  });

  it('currency attribution of a EUR book in a USD portfolio: local, FX and interaction per currency and in total', async () => {
    // EEE (EUR): close 10 on 01-02 and 01-03, 11 on 01-04 and 01-05. EUR/USD 1.10 until 01-04, 1.21 on 01-05.
    // 01-02: DEPOSIT 1,000 EUR, BUY EEE 50 @ 10 → 500 EUR in EEE + 500 EUR cash = 1,000 EUR = 1,100 USD at the close of from.
    // 01-05: 50 × 11 + 500 = 1,050 EUR × 1.21 = 1,270.5 USD.
    //   local = 1,050/1,000 − 1 = 0.05; FX = 1.21/1.10 − 1 = 0.1; interaction 0.05 × 0.1 = 0.005; base 1.05 × 1.1 − 1 = 0.155
    //   TWR (no flow inside the period) = 1,270.5/1,100 − 1 = 0.155 → errorBps 0.
    const up = `mutation($i: SecurityInput!) { upsertSecurity(input: $i) { id } }`;
    expect(codeOf(await gql(server.url, admin, up, { i: { symbol: 'EEE', name: 'EEE', currency: 'EUR', sector: 'Tech', country: 'DE', assetClass: 'Equity' } }))).toBe('none');
    const days = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05'];
    const px = await gql(server.url, admin, `mutation($i: [PriceInput!]!) { ingestPrices(input: $i) { rejected } }`, { i: days.map((date, i) => ({ symbol: 'EEE', date, close: ['10', '10', '11', '11'][i] })) });
    expect(px.data!.ingestPrices.rejected).toBe(0);
    const fx = await gql(server.url, admin, `mutation($i: [FxRateInput!]!) { ingestFxRates(input: $i) { rejected } }`, { i: days.map((date, i) => ({ base: 'EUR', quote: 'USD', date, rate: i < 3 ? '1.10' : '1.21' })) });
    expect(fx.data!.ingestFxRates.rejected).toBe(0);
    const eid = (await gql(server.url, owner, `mutation { createPortfolio(input: { name: "EUR book", baseCurrency: "USD" }) { id } }`)).data!.createPortfolio.id;
    await recordOk(server.url, owner, { portfolioId: eid, type: 'DEPOSIT', date: '2024-01-02', amount: '1000', currency: 'EUR' });
    await recordOk(server.url, owner, { portfolioId: eid, type: 'BUY', date: '2024-01-02', symbol: 'EEE', quantity: '50', price: '10' });
    const res = await gql(server.url, owner, `query($id: ID!) { portfolio(id: $id) { currencyAttribution(from: "2024-01-02", to: "2024-01-05") {
      localReturn fxReturn interaction totalReturn errorBps currencies { currency weight localReturn fxReturn interaction baseReturn } } } }`, { id: eid });
    expect(codeOf(res)).toBe('none');
    const c = res.data!.portfolio.currencyAttribution;
    close(c.localReturn, new D('0.05'));
    close(c.fxReturn, new D('0.1'));
    close(c.interaction, new D('0.005'));
    close(c.totalReturn, new D('0.155'));
    close(c.errorBps, new D(0));
    expect(c.currencies).toHaveLength(1);
    const eur = c.currencies[0];
    expect(eur.currency).toBe('EUR');
    close(eur.weight, new D(1));
    close(eur.localReturn, new D('0.05'));
    close(eur.fxReturn, new D('0.1'));
    close(eur.interaction, new D('0.005'));
    close(eur.baseReturn, new D('0.155'));
  });

  it('stress tests: explicit shocks, seeded scenarios, unknown groups refused', async () => {
    // Now: AAA 50 × 120 (tick) = 6,000, cash 6,000.
    const res = await gql(server.url, owner, STRESS, { id: pid, s: [{ target: 'MARKET', value: '-0.1' }] });
    expect(codeOf(res)).toBe('none');
    const s = res.data!.portfolio.stressTest;
    expect(new D(s.valueBefore).eq(12000)).toBe(true);
    expect(new D(s.valueAfter).eq(11400)).toBe(true);
    expect(new D(s.impact).eq(-600)).toBe(true);
    expect(new D(s.impactPct).eq('-0.05')).toBe(true);
    const sc = await gql(server.url, owner, STRESS, { id: pid, sc: 'MARKET_DOWN_10' });
    expect(sc.data!.portfolio.stressTest.impact).toBe(s.impact);
    const usd = await gql(server.url, owner, STRESS, { id: pid, sc: 'USD_UP_5' });
    expect(new D(usd.data!.portfolio.stressTest.impact).isZero()).toBe(true);
    expect(usd.data!.portfolio.stressTest.unmatchedShocks).toEqual([{ target: 'CURRENCY', key: 'USD' }]);
    const sector = await gql(server.url, owner, STRESS, { id: pid, s: [{ target: 'SECTOR', key: 'Tech', kind: 'ABSOLUTE', value: '-20' }] });
    expect(new D(sector.data!.portfolio.stressTest.impact).eq(-1000)).toBe(true);
    for (const bad of [[{ target: 'SECTOR', key: 'Nope', value: '-0.1' }], [{ target: 'SECURITY', key: 'ZZZ', value: '-0.1' }], [{ target: 'MARKET', value: '-1.5' }]]) {
      expect(codeOf(await gql(server.url, owner, STRESS, { id: pid, s: bad }))).toBe('BAD_USER_INPUT');
    }
    expect(codeOf(await gql(server.url, owner, STRESS, { id: pid, sc: 'NOPE' }))).toBe('BAD_USER_INPUT');
    // The seeded rows are the scenarios the domain module describes, shock for shock.
    const list = await gql(server.url, owner, `{ stressScenarios { code name isDefault shocks { target key kind value } } }`);
    type Sc = { code: string; name: string; isDefault: boolean; shocks: { target: string; key: string | null; kind: string; value: string }[] };
    const seeded = new Map((list.data!.stressScenarios as Sc[]).map((x) => [x.code, x]));
    for (const d of DEFAULT_SCENARIOS) {
      const row = seeded.get(d.code);
      expect(row).toMatchObject({ name: d.name, isDefault: true });
      expect(row!.shocks.map((x) => [x.target, x.key, x.kind, new D(x.value).toFixed()])).toEqual(d.shocks.map((x) => [x.target, x.key, x.kind, new D(x.value).toFixed()]));
    }
  });

  it('what-if: pro-forma next to current, nothing written; a saved session', async () => {
    // Every table a booking, an order or a saved session would write: none of them moves.
    const written = async () => {
      const where = { portfolioId: pid };
      const p = db().prisma;
      return {
        transactions: await p.transaction.count({ where }),
        lots: await p.lot.count({ where }),
        cash: (await p.cashBalance.findMany({ where, orderBy: { currency: 'asc' } })).map((c) => `${c.currency} ${c.balance.toFixed()}`),
        orders: await p.order.count({ where }),
        sessions: await p.modelingSession.count({ where }),
        audit: await p.auditLog.count(),
      };
    };
    const before = await written();
    const res = await gql(server.url, owner, WHATIF, { id: pid, t: [{ symbol: 'BBB', side: 'BUY', quantity: '10' }] });
    expect(codeOf(res)).toBe('none');
    const w = res.data!.portfolio.whatIf;
    // BBB at its last close 55: cash 6,000 − 550, positions +550, NAV unchanged.
    expect(w.trades[0].price).toBe('55');
    expect(new D(w.navChange).isZero()).toBe(true);
    expect(new D(w.proForma.valuation.cashValue).eq(5450)).toBe(true);
    expect(w.proForma.exposure.bySector.find((b: { key: string }) => b.key === 'Energy').net).toBe('550');
    expect(await written()).toEqual(before);
    expect(codeOf(await gql(server.url, owner, WHATIF, { id: pid, t: [{ symbol: 'BBB', side: 'SELL', quantity: '1' }] }))).toBe('BAD_USER_INPUT');
    const save = `mutation($p: ID!, $t: [WhatIfTradeInput!]!) { saveModelingSession(portfolioId: $p, name: "add energy", trades: $t) { name proFormaNav trades { symbol } } }`;
    const saved = await gql(server.url, owner, save, { p: pid, t: [{ symbol: 'BBB', side: 'BUY', quantity: '10' }] });
    expect(codeOf(saved)).toBe('none');
    // The saved session reads back with the pro-forma it was saved with.
    const sessions = await gql(server.url, owner, `query($id: ID!) { portfolio(id: $id) { modelingSessions { name currentNav proFormaNav trades { symbol side quantity price } } } }`, { id: pid });
    const [session, ...more] = sessions.data!.portfolio.modelingSessions;
    expect(more).toEqual([]);
    expect(session).toMatchObject({ name: 'add energy', trades: [{ symbol: 'BBB', side: 'BUY', quantity: '10', price: '55' }] });
    // Buying at the close with no fee leaves the NAV where it was (navChange 0 above).
    expect(new D(session.proFormaNav).eq(w.proForma.valuation.nav)).toBe(true);
    expect(new D(session.currentNav).eq(w.current.valuation.nav)).toBe(true);
    expect(await db().prisma.auditLog.count()).toBe(before.audit + 1);
    expect(codeOf(await gql(server.url, owner, save, { p: pid, t: [{ symbol: 'BBB', side: 'BUY', quantity: '10' }] }))).toBe('CONFLICT');
    expect(codeOf(await gql(server.url, other, save, { p: pid, t: [{ symbol: 'BBB', side: 'BUY', quantity: '10' }] }))).toBe('NOT_FOUND');
  });

  it('what-if risk: the constant books of now and after the trades, over the lookback, against an independent computation', async () => {
    // The lookback ends today: 2,520 business days reach back (until 2033) before the first close (2024-01-02), where a
    // position is valued at its current price (AAA's tick 120, BBB's last close 55). After 01-05 nothing moves.
    //   now:       AAA 50 + cash 6,000:         12,000 … | 11,000, 11,500, 10,950, 11,445 | 11,445 …
    //   pro forma: + BBB 10 @ 55, cash 5,450:   12,000 … | 10,950, 11,450, 10,950, 11,445 | 11,445 …
    const q = `query($id: ID!, $t: [WhatIfTradeInput!]!, $n: Int) { portfolio(id: $id) { whatIf(trades: $t, lookbackDays: $n) {
      current { risk { observations volatility maxDrawdown } } proForma { risk { observations volatility maxDrawdown } } } } }`;
    const res = await gql(server.url, owner, q, { id: pid, t: [{ symbol: 'BBB', side: 'BUY', quantity: '10' }], n: 2520 });
    expect(codeOf(res)).toBe('none');
    const w = res.data!.portfolio.whatIf;
    const n = w.current.risk.observations;
    expect(n).toBe(2520);
    expect(w.proForma.risk.observations).toBe(n);
    const vol = (nonZero: D[]) => {
      const r = [...nonZero, ...Array.from({ length: n - nonZero.length }, () => new D(0))];
      const mean = r.reduce((a, x) => a.plus(x), new D(0)).div(n);
      return r.reduce((a, x) => a.plus(x.minus(mean).pow(2)), new D(0)).div(n - 1).sqrt().times(new D(252).sqrt());
    };
    close(w.current.risk.volatility, vol([new D(-1000).div(12000), new D(500).div(11000), new D(-550).div(11500), new D(495).div(10950)]), '1e-30');
    close(w.proForma.risk.volatility, vol([new D(-1050).div(12000), new D(500).div(10950), new D(-500).div(11450), new D(495).div(10950)]), '1e-30');
    close(w.current.risk.maxDrawdown, new D(1050).div(12000));
    close(w.proForma.risk.maxDrawdown, new D(1050).div(12000));
  });

  it('a NAV that crosses zero: performance and risk refuse it with BAD_USER_INPUT naming the day', async () => {
    // Short 12 AAA @ 100 on 01-02 with 100 deposited: cash 1,300, NAV 100; on 01-03 AAA is 110: 1,300 − 1,320 = −20.
    const create = `mutation { createPortfolio(input: { name: "short", baseCurrency: "USD", allowShort: true }) { id } }`;
    const sid = (await gql(server.url, owner, create)).data!.createPortfolio.id;
    await recordOk(server.url, owner, { portfolioId: sid, type: 'DEPOSIT', date: '2024-01-02', amount: '100', currency: 'USD' });
    await recordOk(server.url, owner, { portfolioId: sid, type: 'SELL', date: '2024-01-02', symbol: 'AAA', quantity: '12', price: '100' });
    const history = (await gql(server.url, owner, `query($id: ID!) { portfolio(id: $id) { navHistory(from: "2024-01-02", to: "2024-01-03") { nav } } }`, { id: sid })).data!.portfolio.navHistory;
    expect(history.map((p: { nav: string }) => p.nav)).toEqual(['100', '-20']);
    for (const q of [PERF, RISK]) {
      const res = await gql(server.url, owner, q, { id: sid, f: '2024-01-02', t: '2024-01-05' });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/NAV crosses zero on 2024-01-03/);
    }
  });

  it('bad input is BAD_USER_INPUT; another owner\'s portfolio reads like a missing one', async () => {
    // A benchmark whose constituent has no close: the SQL aggregation reports it incomplete and
    // the per-constituent path names the constituent.
    const up = `mutation($i: SecurityInput!) { upsertSecurity(input: $i) { id } }`;
    expect(codeOf(await gql(server.url, admin, up, { i: { symbol: 'NOPX', name: 'No prices', currency: 'USD', sector: 'Tech', country: 'US', assetClass: 'Equity' } }))).toBe('none');
    expect(codeOf(await gql(server.url, admin, BENCH, { i: { code: 'NOPXB', name: 'no prices', currency: 'USD', constituents: [{ symbol: 'AAA', weight: '0.5' }, { symbol: 'NOPX', weight: '0.5' }] } }))).toBe('none');
    const noPx = await gql(server.url, owner, RISK, { id: pid, f: '2024-01-02', t: '2024-01-05', b: 'NOPXB' });
    expect(codeOf(noPx)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(noPx.errors)).toContain('NOPX has no close on or before 2024-01-02');
    expect(codeOf(await gql(server.url, owner, ATTR, { id: pid, f: '2024-01-02', t: '2024-01-05', b: 'NOPXB' }))).toBe('BAD_USER_INPUT');
    const cases: [string, Record<string, unknown>][] = [
      [PERF, { id: pid, f: '2024-01-05', t: '2024-01-02' }],
      [PERF, { id: pid, f: '2023-12-01', t: '2024-01-05' }],
      [RISK, { id: pid, f: '2024-01-02', t: '2024-01-05', b: 'NOPE' }],
      [RISK, { id: pid, f: '2024-01-02', t: '2024-01-05', c: '1' }],
      [RISK, { id: pid, f: '2024-01-02', t: '2024-01-05', c: '0' }],
      [ATTR, { id: pid, f: '2024-01-02', t: '2024-01-05', b: 'NOPE' }],
      [CCY, { id: pid, f: '2024-01-06', t: '2024-01-05' }],
      // from after to, and ranges starting before the first transaction (01-02), on every analytic
      [RISK, { id: pid, f: '2024-01-05', t: '2024-01-02' }],
      [RISK, { id: pid, f: '2023-12-01', t: '2024-01-05' }],
      [ATTR, { id: pid, f: '2024-01-05', t: '2024-01-02', b: 'BM' }],
      [ATTR, { id: pid, f: '2023-12-01', t: '2024-01-05', b: 'BM' }],
      [CCY, { id: pid, f: '2023-12-01', t: '2024-01-05' }],
      // confidence outside (0, 1) on both sides
      [RISK, { id: pid, f: '2024-01-02', t: '2024-01-05', c: '1.5' }],
      [RISK, { id: pid, f: '2024-01-02', t: '2024-01-05', c: '-0.1' }],
      // explicit shocks on groups the security master does not know, of every kind that has a key
      [STRESS, { id: pid, s: [{ target: 'ASSET_CLASS', key: 'Nope', value: '-0.1' }] }],
      [STRESS, { id: pid, s: [{ target: 'CURRENCY', key: 'XYZ', value: '0.05' }] }],
      [STRESS, { id: pid, s: [{ target: 'SECTOR', value: '-0.1' }] }],
      [STRESS, { id: pid, s: [] }],
    ];
    for (const [q, v] of cases) expect([JSON.stringify(v), codeOf(await gql(server.url, owner, q, v))]).toEqual([JSON.stringify(v), 'BAD_USER_INPUT']);
    const foreign = await gql(server.url, other, PERF, { id: pid, f: '2024-01-02', t: '2024-01-05' });
    const missing = await gql(server.url, other, PERF, { id: '00000000-0000-4000-8000-000000000000', f: '2024-01-02', t: '2024-01-05' });
    expect(foreign).toEqual(missing);
    expect(foreign.data!.portfolio).toBeNull();
  });

  it('a single day and an empty period (from = to): defined values, no error', async () => {
    // 01-04 → 01-05: one daily return r3 = 495/10,950; no flow inside the period (01-04's deposit is in the start value).
    const one = (await gql(server.url, owner, PERF, { id: pid, f: '2024-01-04', t: '2024-01-05' })).data!.portfolio.performance;
    close(one.twr, new D(495).div(10950));
    close(one.modifiedDietz, new D(495).div(10950));
    expect(one).toMatchObject({ days: 1, startNav: '10950', endNav: '11445', netFlows: '0' });
    const oneRisk = (await gql(server.url, owner, RISK, { id: pid, f: '2024-01-04', t: '2024-01-05' })).data!.portfolio.risk;
    expect(oneRisk).toMatchObject({ observations: 1, volatility: '0', sharpe: null, sortino: null, maxDrawdown: '0' });
    // VaR = −x₍ₖ₎ as stated in schema.graphql: the one return is a gain, so the "loss" is negative.
    close(oneRisk.var, new D(-495).div(10950));
    close(oneRisk.cvar, new D(-495).div(10950));
    const empty = await gql(server.url, owner, PERF, { id: pid, f: '2024-01-05', t: '2024-01-05' });
    expect(codeOf(empty)).toBe('none');
    expect(empty.data!.portfolio.performance).toMatchObject({ days: 0, twr: '0', modifiedDietz: '0', mwr: null, mwrError: expect.stringMatching(/single close/), netFlows: '0' });
    const emptyRisk = await gql(server.url, owner, RISK, { id: pid, f: '2024-01-05', t: '2024-01-05', b: 'BM' });
    expect(codeOf(emptyRisk)).toBe('none');
    expect(emptyRisk.data!.portfolio.risk).toMatchObject({ observations: 0, volatility: '0', beta: null, correlation: null });
  });

  it('results are cached and invalidated by a booking; slow runs are recorded', async () => {
    const q = { id: pid, f: '2024-01-02', t: '2024-01-05' };
    const first = await gql(server.url, owner, PERF, q);
    const hits = server.app.services.analytics.cache.hits;
    expect((await gql(server.url, owner, PERF, q)).data).toEqual(first.data);
    expect(server.app.services.analytics.cache.hits).toBe(hits + 1);
    await recordOk(server.url, owner, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-03', amount: '500', currency: 'USD' });
    const after = await gql(server.url, owner, PERF, q);
    expect(after.data!.portfolio.performance.netFlows).toBe('1500');
    expect(await db().prisma.calculationRun.count({ where: { kind: { startsWith: 'analytics.' } } })).toBeGreaterThan(0);
  });

  it('a late price or FX rate drops the cached results; only runs slower than a few ms are recorded, a cache hit never', async () => {
    const q = { id: pid, f: '2024-01-02', t: '2024-01-05' };
    const cache = server.app.services.analytics.cache;
    const first = (await gql(server.url, owner, PERF, q)).data!.portfolio.performance;
    const runs = () => db().prisma.calculationRun.findMany({ where: { kind: { startsWith: 'analytics.' } } });
    const runsBefore = (await runs()).length;
    let hits = cache.hits;
    expect((await gql(server.url, owner, PERF, q)).data!.portfolio.performance).toEqual(first);
    expect(cache.hits).toBe(hits + 1);
    expect((await runs()).length).toBe(runsBefore); // served from memory: nothing computed, nothing recorded

    // A corrected close for 01-05 (108.9 → 110): AAA's 50 shares are worth 55 more at the end.
    hits = cache.hits;
    const px = await gql(server.url, admin, `mutation($i: [PriceInput!]!) { ingestPrices(input: $i) { rejected } }`, { i: [{ symbol: 'AAA', date: '2024-01-05', close: '110' }] });
    expect(px.data!.ingestPrices.rejected).toBe(0);
    const repriced = (await gql(server.url, owner, PERF, q)).data!.portfolio.performance;
    expect(cache.hits).toBe(hits);
    expect(new D(repriced.endNav).minus(first.endNav).toFixed()).toBe('55');

    // An FX rate (of a currency this USD portfolio does not hold) drops every cached result too; the numbers stay.
    const fx = await gql(server.url, admin, `mutation($i: [FxRateInput!]!) { ingestFxRates(input: $i) { rejected } }`, { i: [{ base: 'EUR', quote: 'USD', date: '2024-01-03', rate: '1.1' }] });
    expect(fx.data!.ingestFxRates.rejected).toBe(0);
    hits = cache.hits;
    expect((await gql(server.url, owner, PERF, q)).data!.portfolio.performance).toEqual(repriced);
    expect(cache.hits).toBe(hits);

    // calculation_runs holds only computations over the threshold (5 ms), each with its duration and arguments.
    for (const r of await runs()) {
      expect(r.durationMs).toBeGreaterThan(5);
      expect(r).toMatchObject({ portfolioId: expect.any(String), status: 'succeeded', params: { args: expect.any(Array) } });
    }
  });
});
