import type { ChildProcess } from 'node:child_process';
import type { Client } from 'graphql-ws';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/db';
import { spawnServer, type ServerProcess } from '../support/process';
import { gql, wsClient } from '../support/server';
import { ALERT_SUB, collect, ingest, livePortfolio, NAV_SUB, until } from '../support/live';
import { freePort, startRedis, stopRedis } from '../support/redis';

const KEY = 'fg_test_bootstrap_admin_key_0123456789';

(testEngines().includes('postgres') ? describe : describe.skip)('two server processes fan out through Redis [postgres]', () => {
  let db: TestDatabase;
  let redisPort: number;
  let redis: ChildProcess;
  let a: ServerProcess;
  let b: ServerProcess;
  const clients: Client[] = [];
  const url = (p: ServerProcess) => `http://127.0.0.1:${p.port}/graphql`;
  const wsUrl = (p: ServerProcess) => `ws://127.0.0.1:${p.port}/graphql`;
  let pid: string;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    const env = { DATABASE_URL: db.url!, REDIS_URL: `redis://127.0.0.1:${redisPort}`, BOOTSTRAP_API_KEY: KEY, REALTIME_COALESCE_MS: '10', MARKET_SIMULATOR: '0', PAPER_BROKER: '0' };
    [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    pid = await livePortfolio(url(a), KEY, KEY, 'FAN', { cash: '1000', qty: '10', price: '10' });
    await ingest({ url: url(a) }, KEY, 'FAN', '10', new Date(Date.now() - 60_000));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    for (const p of [a, b]) if (p) (p.child.kill('SIGTERM'), await p.exited);
    if (redis) await stopRedis(redis);
    await db?.drop();
  }, 60_000);

  test('a price ingested on A reaches a subscriber on B; an alert fires once across both', async () => {
    const cb = wsClient(wsUrl(b), KEY);
    const ca = wsClient(wsUrl(a), KEY);
    clients.push(ca, cb);
    const nav = collect(cb, NAV_SUB, { id: pid });
    const alertsA = collect(ca, ALERT_SUB, { id: pid });
    const alertsB = collect(cb, ALERT_SUB, { id: pid });
    await nav.waitFor(() => true);
    const rule = await gql(url(a), KEY, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }`, { i: { portfolioId: pid, type: 'PRICE_ABOVE', symbol: 'FAN', threshold: '15' } });
    expect(rule.errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 500));
    await ingest({ url: url(a) }, KEY, 'FAN', '20.5');
    const got = await nav.waitFor((v) => v.data?.navUpdated.nav === '1105'); // 900 + 10 × 20.5
    expect(got.data.navUpdated.previousNav).toBe('1000');
    await alertsA.until(() => alertsA.values.length > 0);
    await alertsB.until(() => alertsB.values.length > 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(alertsA.values).toHaveLength(1);
    expect(alertsB.values).toHaveLength(1);
    expect(alertsA.values[0]!.data.alertTriggered.id).toBe(alertsB.values[0]!.data.alertTriggered.id);
    expect(await db.prisma.alertEvent.count({ where: { ruleId: rule.data.createAlertRule.id } })).toBe(1);
  });

  test('a rule true again inside its cooldown fires once after it, across both processes', async () => {
    const cp = await livePortfolio(url(a), KEY, KEY, 'FCD', { cash: '1000', qty: '10', price: '10' });
    await ingest({ url: url(a) }, KEY, 'FCD', '10', new Date(Date.now() - 60_000));
    const ca = wsClient(wsUrl(a), KEY);
    const cb = wsClient(wsUrl(b), KEY);
    clients.push(ca, cb);
    const alertsA = collect(ca, ALERT_SUB, { id: cp });
    const alertsB = collect(cb, ALERT_SUB, { id: cp });
    const rule = await gql(url(a), KEY, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }`, { i: { portfolioId: cp, type: 'PRICE_ABOVE', symbol: 'FCD', threshold: '15', cooldownSeconds: 2 } });
    expect(rule.errors).toBeUndefined();
    const ruleId = rule.data.createAlertRule.id as string;
    const events = () => db.prisma.alertEvent.findMany({ where: { ruleId }, orderBy: { triggeredAt: 'asc' } });
    await new Promise((r) => setTimeout(r, 500));
    await ingest({ url: url(a) }, KEY, 'FCD', '20');
    await until(async () => (await events()).length === 1, 10_000, 'the first firing');
    const first = (await events())[0]!;
    await ingest({ url: url(b) }, KEY, 'FCD', '10'); // cleared
    await new Promise((r) => setTimeout(r, 300));
    await ingest({ url: url(a) }, KEY, 'FCD', '21'); // true again inside the cooldown: nothing
    await new Promise((r) => setTimeout(r, 300));
    expect(await events()).toHaveLength(1);
    await until(() => Date.now() > first.triggeredAt.getTime() + 2200, 5000, 'the cooldown to pass');
    await ingest({ url: url(b) }, KEY, 'FCD', '22'); // still true, the cooldown over: fires, once
    await alertsA.until(() => alertsA.values.length === 2);
    await alertsB.until(() => alertsB.values.length === 2);
    await new Promise((r) => setTimeout(r, 500));
    const all = await events();
    expect(all.map((e) => e.value.toFixed())).toEqual(['20', '22']);
    for (const got of [alertsA, alertsB]) expect(got.values.map((v) => v.data.alertTriggered.id)).toEqual(all.map((e) => e.id));
  });

  test('Redis stops: queries and local subscriptions work, readyz says degraded; fan-out resumes when it is back', async () => {
    const cb = wsClient(wsUrl(b), KEY, 0);
    const ca = wsClient(wsUrl(a), KEY, 0);
    clients.push(ca, cb);
    const navB = collect(cb, NAV_SUB, { id: pid });
    const navA = collect(ca, NAV_SUB, { id: pid });
    await navB.waitFor(() => true);
    await navA.waitFor(() => true);
    await stopRedis(redis);
    await until(async () => ((await (await fetch(`http://127.0.0.1:${a.port}/readyz`)).json()) as { redis?: string }).redis === 'degraded', 10_000, 'degraded');
    const ready = await fetch(`http://127.0.0.1:${a.port}/readyz`);
    expect(ready.status).toBe(200);
    const q = await gql(url(a), KEY, `query($id: ID!) { portfolio(id: $id) { valuation { nav } } }`, { id: pid });
    expect(q.data.portfolio.valuation.nav).toBeDefined();
    await ingest({ url: url(a) }, KEY, 'FAN', '30'); // the write succeeds; A's own subscriber sees it
    await navA.waitFor((v) => v.data?.navUpdated.nav === '1200');
    redis = await startRedis(redisPort);
    for (const p of [a, b]) await until(async () => ((await (await fetch(`http://127.0.0.1:${p.port}/readyz`)).json()) as { redis?: string }).redis === 'ok', 15_000, 'redis ok');
    await ingest({ url: url(a) }, KEY, 'FAN', '31');
    await navB.waitFor((v) => v.data?.navUpdated.nav === '1210', 10_000);
  }, 60_000);
});
