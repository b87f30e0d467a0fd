import type { ChildProcess } from 'node:child_process';
import { D } from '../../src/domain/decimal';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/db';
import { spawnServer, type ServerProcess } from '../support/process';
import { codeOf, gql } from '../support/server';
import { recordOk } from '../support/ledger';
import { until } from '../support/live';
import { freePort, startRedis, stopRedis } from '../support/redis';

/*
 * Every process keeps in-process caches of what it computed (valuations, analytics); a write
 * through one process must reach the others' caches through the bus. The valuation TTL is set
 * far beyond the test, so only an event can make B read again.
 *
 * A USD portfolio holds 50 AAA from 2024-01-02. Closes 01-02…01-05: AAA 100 110 99 108.9,
 * BBB 50 50 55 55. Benchmark BM: ½ AAA + ½ BBB, daily returns 0.05, 0, 0.05 → 1.05² − 1 = 0.1025;
 * all BBB: 0, 0.1, 0 → 0.1.
 */

const KEY = 'fg_test_bootstrap_admin_key_0123456789';
const SECURITY = `mutation($i: SecurityInput!) { upsertSecurity(input: $i) { id sector } }`;
const BENCH = `mutation($i: BenchmarkInput!) { upsertBenchmark(input: $i) { code } }`;
const READ = `query($id: ID!) { portfolio(id: $id) {
  valuation { holdings { symbol name sector } }
  exposure { bySector { key net } }
  attribution(from: "2024-01-02", to: "2024-01-05", benchmark: "BM", groupBy: SECTOR) { groups { key } }
  risk(from: "2024-01-02", to: "2024-01-05", benchmark: "BM") { benchmarkReturn } } }`;

(testEngines().includes('postgres') ? describe : describe.skip)('in-process caches follow writes made through another process [postgres]', () => {
  let db: TestDatabase;
  let redis: ChildProcess;
  let redisPort: number;
  let a: ServerProcess;
  let b: ServerProcess;
  let pid: string;
  const url = (p: ServerProcess) => `http://127.0.0.1:${p.port}/graphql`;
  const read = async (p: ServerProcess) => {
    const r = await gql(url(p), KEY, READ, { id: pid });
    expect(codeOf(r)).toBe('none');
    return r.data!.portfolio;
  };

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    const env = { DATABASE_URL: db.url!, REDIS_URL: `redis://127.0.0.1:${redisPort}`, BOOTSTRAP_API_KEY: KEY, VALUATION_CACHE_TTL_MS: '600000', MARKET_SIMULATOR: '0', PAPER_BROKER: '0' };
    [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    for (const [symbol, sector] of [['AAA', 'Tech'], ['BBB', 'Energy']]) {
      expect(codeOf(await gql(url(a), KEY, SECURITY, { i: { symbol, name: symbol, currency: 'USD', sector } }))).toBe('none');
    }
    const days = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05'];
    const closes = { AAA: ['100', '110', '99', '108.9'], BBB: ['50', '50', '55', '55'] };
    const px = await gql(url(a), KEY, `mutation($i: [PriceInput!]!) { ingestPrices(input: $i) { rejected } }`, {
      i: days.flatMap((date, i) => [{ symbol: 'AAA', date, close: closes.AAA[i] }, { symbol: 'BBB', date, close: closes.BBB[i] }]),
    });
    expect(px.data!.ingestPrices.rejected).toBe(0);
    pid = (await gql(url(a), KEY, `mutation { createPortfolio(input: { name: "C", baseCurrency: "USD" }) { id } }`)).data!.createPortfolio.id;
    await recordOk(url(a), KEY, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-02', amount: '10000', currency: 'USD' });
    await recordOk(url(a), KEY, { portfolioId: pid, type: 'BUY', date: '2024-01-02', symbol: 'AAA', quantity: '50', price: '100' });
    const bm = { code: 'BM', name: 'Half and half', currency: 'USD', constituents: [{ symbol: 'AAA', weight: '0.5' }, { symbol: 'BBB', weight: '0.5' }] };
    expect(codeOf(await gql(url(a), KEY, BENCH, { i: bm }))).toBe('none');
  }, 120_000);

  afterAll(async () => {
    for (const p of [a, b]) if (p) (p.child.kill('SIGTERM'), await p.exited);
    if (redis) await stopRedis(redis);
    await db?.drop();
  }, 60_000);

  test("a security edited through A: B's valuation, exposure and attribution show its new sector", async () => {
    const before = await read(b);
    expect(before.valuation.holdings).toEqual([{ symbol: 'AAA', name: 'AAA', sector: 'Tech' }]);
    expect(before.attribution.groups.map((g: { key: string }) => g.key)).toContain('Tech');
    // Served from B's caches until an event tells B otherwise: a change behind the servers' backs goes unseen.
    await db.prisma.security.update({ where: { symbol: 'AAA' }, data: { name: 'unannounced' } });
    expect(await read(b)).toEqual(before);

    const edit = await gql(url(a), KEY, SECURITY, { i: { symbol: 'AAA', name: 'Triple A', currency: 'USD', sector: 'Health' } });
    expect(edit.data!.upsertSecurity.sector).toBe('Health');
    await until(async () => (await read(b)).valuation.holdings[0].sector === 'Health', 5000, "B's valuation to follow");
    const after = await read(b);
    expect(after.valuation.holdings).toEqual([{ symbol: 'AAA', name: 'Triple A', sector: 'Health' }]);
    expect(after.exposure.bySector.map((s: { key: string }) => s.key)).toContain('Health');
    const keys = after.attribution.groups.map((g: { key: string }) => g.key);
    expect(keys).toContain('Health');
    expect(keys).not.toContain('Tech');
  });

  test("a benchmark edited through A: B's risk compares against its new constituents", async () => {
    expect(new D((await read(b)).risk.benchmarkReturn).eq('0.1025')).toBe(true);
    const edit = await gql(url(a), KEY, BENCH, { i: { code: 'BM', name: 'All BBB', currency: 'USD', constituents: [{ symbol: 'BBB', weight: '1' }] } });
    expect(codeOf(edit)).toBe('none');
    await until(async () => new D((await read(b)).risk.benchmarkReturn).eq('0.1'), 5000, "B's risk to follow");
  });

  test("a booking through A while Redis is down: B's caches follow once Redis is back", async () => {
    const FLOWS = `query($id: ID!) { portfolio(id: $id) { valuation { nav } performance(from: "2024-01-02", to: "2024-01-05") { netFlows } } }`;
    const flows = async () => (await gql(url(b), KEY, FLOWS, { id: pid })).data!.portfolio;
    const before = await flows();
    expect(before.performance.netFlows).toBe('0');
    await stopRedis(redis);
    await until(async () => ((await (await fetch(`http://127.0.0.1:${a.port}/readyz`)).json()) as { redis?: string }).redis === 'degraded', 10_000, 'degraded');
    await recordOk(url(a), KEY, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-03', amount: '500', currency: 'USD' });
    expect(await flows()).toEqual(before); // B cannot know yet
    redis = await startRedis(redisPort);
    await until(async () => (await flows()).performance.netFlows === '500', 15_000, "B's analytics to follow");
    expect(new D((await flows()).valuation.nav).minus(before.valuation.nav).eq(500)).toBe(true);
  }, 60_000);
});
