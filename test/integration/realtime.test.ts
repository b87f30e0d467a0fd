import type { Client } from 'graphql-ws';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, wsClient, type TestServer } from '../support/server';
import { ALERT_SUB, collect, ingest, livePortfolio, NAV_SUB, rawSocket, until } from '../support/live';

describeEachEngine('live updates over graphql-ws', (db) => {
  let server: TestServer;
  let admin: string;
  let owner: { userId: string; key: string };
  let other: { userId: string; key: string };
  let pid: string;
  const clients: Client[] = [];
  const open = (key: string) => {
    const c = wsClient(server.wsUrl, key);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer(db(), { LOG_LEVEL: process.env.TEST_LOG ?? 'silent', REALTIME_COALESCE_MS: '20', WS_MAX_SUBSCRIPTIONS: '5', WS_MAX_BUFFER_BYTES: '200000', WS_STALL_TIMEOUT_MS: '8000', WS_MAX_MESSAGE_BYTES: '65536' });
    admin = (await createUserWithKey(server, 'ADMIN')).key;
    owner = await createUserWithKey(server, 'USER');
    other = await createUserWithKey(server, 'USER');
    // 10,000 cash − 100 × 50 = 5,000 cash + 100 shares of LIVE.
    pid = await livePortfolio(server.url, admin, owner.key, 'LIVE', { cash: '10000', qty: '100', price: '50' });
    await ingest(server, admin, 'LIVE', '50', new Date(Date.now() - 60_000));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.close();
  });

  test('navUpdated: the current NAV at once, then the NAV after a price ingested over HTTP, exact', async () => {
    const sub = collect(open(owner.key), NAV_SUB, { id: pid });
    const first = await sub.waitFor(() => true);
    expect(first.data.navUpdated).toMatchObject({ portfolioId: pid, nav: '10000', previousNav: null });
    await ingest(server, admin, 'LIVE', '51.2345');
    const next = await sub.waitFor((v) => v.data?.navUpdated.nav !== '10000');
    // 5,000 + 100 × 51.2345
    expect(next.data.navUpdated).toMatchObject({ nav: '10123.45', previousNav: '10000', change: '123.45', changePct: '0.012345' });
    expect(next.data.navUpdated.seq).toBeGreaterThan(first.data.navUpdated.seq);
    sub.stop();
  });

  test('a burst is coalesced: the last value arrives and seq only grows', async () => {
    const sub = collect(open(owner.key), NAV_SUB, { id: pid });
    await sub.waitFor(() => true);
    for (let i = 1; i <= 20; i++) await ingest(server, admin, 'LIVE', String(60 + i));
    const last = await sub.waitFor((v) => v.data?.navUpdated.nav === '13000'); // 5,000 + 100 × 80
    const seqs = sub.values.map((v) => v.data.navUpdated.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(last).toBe(sub.values.at(-1));
    sub.stop();
  });

  test("another owner's portfolio and an unknown one are refused for that operation; the socket stays open", async () => {
    const client = open(other.key);
    const foreign = collect(client, NAV_SUB, { id: pid });
    await foreign.until(() => foreign.completed || !!foreign.error || foreign.values.length > 0);
    expect(foreign.values[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(foreign.values[0]?.data ?? null).toBeNull();
    const unknown = collect(client, NAV_SUB, { id: '00000000-0000-4000-8000-000000000000' });
    await unknown.until(() => unknown.completed || unknown.values.length > 0);
    expect(unknown.values[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknown.values[0]?.errors?.[0]?.message).toBe(foreign.values[0]?.errors?.[0]?.message.replace(pid, '00000000-0000-4000-8000-000000000000'));
    const me = collect(client, '{ me { id } }');
    await me.waitFor(() => true);
    expect(me.values[0]!.data).toEqual({ me: { id: other.userId } });
  });

  test('an alert fires once on the edge, is persisted once, pushed, listed and acknowledged', async () => {
    const alerts = collect(open(owner.key), ALERT_SUB, { id: pid });
    const rule = await gql(server.url, owner.key, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id type threshold triggered } }`, {
      i: { portfolioId: pid, type: 'NAV_ABOVE', threshold: '20000' },
    });
    expect(rule.errors).toBeUndefined();
    const ruleId = rule.data.createAlertRule.id;
    await new Promise((r) => setTimeout(r, 200));
    await ingest(server, admin, 'LIVE', '160'); // NAV 21,000
    await ingest(server, admin, 'LIVE', '170'); // still above: no second firing
    const got = await alerts.waitFor(() => true);
    expect(got.data.alertTriggered).toMatchObject({ ruleId, portfolioId: pid, type: 'NAV_ABOVE', value: '21000' });
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts.values).toHaveLength(1);
    expect(await db().prisma.alertEvent.count({ where: { ruleId } })).toBe(1);
    // Clears below, fires again above (cooldown 0).
    await ingest(server, admin, 'LIVE', '100');
    await ingest(server, admin, 'LIVE', '180');
    await alerts.until(() => alerts.values.length === 2);
    expect(await db().prisma.alertEvent.count({ where: { ruleId } })).toBe(2);
    const list = await gql(server.url, owner.key, `query($id: ID!) { portfolio(id: $id) { alertRules { id symbol } alertEvents(first: 1) { totalCount edges { cursor node { id } } } } }`, { id: pid });
    expect(list.data.portfolio.alertEvents.totalCount).toBe(2);
    const cursor = list.data.portfolio.alertEvents.edges[0].cursor;
    const missed = await gql(server.url, owner.key, `query($id: ID!, $after: String) { portfolio(id: $id) { alertEvents(after: $after) { nodes { id } } } }`, { id: pid, after: cursor });
    expect(missed.data.portfolio.alertEvents.nodes).toHaveLength(1);
    const ack = await gql(server.url, owner.key, `mutation($id: ID!) { acknowledgeAlert(id: $id) { id acknowledgedAt acknowledgedBy } }`, { id: got.data.alertTriggered.id });
    expect(ack.data.acknowledgeAlert.acknowledgedBy).toBe(owner.userId);
    const foreignAck = await gql(server.url, other.key, `mutation($id: ID!) { acknowledgeAlert(id: $id) { id } }`, { id: got.data.alertTriggered.id });
    expect(codeOf(foreignAck)).toBe('NOT_FOUND');
    alerts.stop();
  });

  test('alertTriggered without a portfolio: a USER gets the alerts of the portfolios they may read, one created after subscribing too, never another owner\'s', async () => {
    const ALL = `subscription { alertTriggered { id portfolioId } }`;
    const sinks = () => (server.app.realtime as unknown as { alertSinks: Set<unknown> }).alertSinks.size;
    // The previous test's subscription ends as its complete message reaches the server.
    await until(() => sinks() === 0);
    const listening = sinks();
    const othersAlerts = collect(open(other.key), ALL);
    const ownersAlerts = collect(open(owner.key), ALL);
    await until(() => sinks() === listening + 2);
    // The other user's own portfolio, created after they subscribed: who may see an alert is decided per event.
    const created = await gql(server.url, other.key, `mutation($i: CreatePortfolioInput!) { createPortfolio(input: $i) { id } }`, { i: { name: `mine-${Math.random()}`, baseCurrency: 'USD' } });
    const mine = created.data.createPortfolio.id as string;
    const deposit = await gql(server.url, other.key, `mutation($i: TransactionInput!) { recordTransaction(input: $i) { id } }`, { i: { portfolioId: mine, type: 'DEPOSIT', date: '2024-01-02', amount: '1000', currency: 'USD' } });
    expect(deposit.errors).toBeUndefined();
    // Rules whose condition holds already fire on their first evaluation.
    const rule = (key: string, portfolioId: string) => gql(server.url, key, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }`, { i: { portfolioId, type: 'NAV_BELOW', threshold: '1000000000000' } });
    expect((await rule(other.key, mine)).errors).toBeUndefined();
    await othersAlerts.waitFor((v) => v.data?.alertTriggered.portfolioId === mine);
    expect((await rule(owner.key, pid)).errors).toBeUndefined();
    await ownersAlerts.waitFor((v) => v.data?.alertTriggered.portfolioId === pid);
    await new Promise((r) => setTimeout(r, 300));
    expect(othersAlerts.values.map((v) => v.data?.alertTriggered.portfolioId)).toEqual([mine]);
    othersAlerts.stop();
    ownersAlerts.stop();
  });

  test('a rule that cleared does not fire again within its cooldown', async () => {
    const cp = await livePortfolio(server.url, admin, owner.key, 'CDN', { cash: '100', qty: '1', price: '100' });
    await ingest(server, admin, 'CDN', '100', new Date(Date.now() - 60_000));
    const engine = server.app.realtime.alerts as unknown as { rules: Map<string, { active: boolean }> };
    const sinks = () => (server.app.realtime as unknown as { alertSinks: Set<unknown> }).alertSinks.size;
    const listening = sinks();
    const alerts = collect(open(owner.key), ALERT_SUB, { id: cp });
    await until(() => sinks() === listening + 1);
    const rule = await gql(server.url, owner.key, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }`, { i: { portfolioId: cp, type: 'PRICE_ABOVE', symbol: 'CDN', threshold: '150', cooldownSeconds: 3600 } });
    expect(rule.errors).toBeUndefined();
    const ruleId = rule.data.createAlertRule.id as string;
    await until(() => engine.rules.has(ruleId));
    await ingest(server, admin, 'CDN', '160');
    expect((await alerts.waitFor(() => true)).data.alertTriggered).toMatchObject({ ruleId, value: '160' });
    await ingest(server, admin, 'CDN', '140'); // cleared
    await until(() => engine.rules.get(ruleId)?.active === false);
    await ingest(server, admin, 'CDN', '170'); // true again, within the hour
    await until(() => engine.rules.get(ruleId)?.active === true);
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts.values).toHaveLength(1);
    expect(await db().prisma.alertEvent.count({ where: { ruleId } })).toBe(1);
    alerts.stop();
  });

  test('a rule true again inside its cooldown fires at the first evaluation after it; one that never clears fires once', async () => {
    const cp = await livePortfolio(server.url, admin, owner.key, 'CDR', { cash: '100', qty: '1', price: '100' });
    await ingest(server, admin, 'CDR', '100', new Date(Date.now() - 60_000));
    const engine = server.app.realtime.alerts as unknown as { rules: Map<string, { active: boolean; cleared: boolean; lastFiredAt: number | null }> };
    const sinks = () => (server.app.realtime as unknown as { alertSinks: Set<unknown> }).alertSinks.size;
    const listening = sinks();
    const alerts = collect(open(owner.key), ALERT_SUB, { id: cp });
    await until(() => sinks() === listening + 1);
    const rule = await gql(server.url, owner.key, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }`, { i: { portfolioId: cp, type: 'PRICE_ABOVE', symbol: 'CDR', threshold: '150', cooldownSeconds: 2 } });
    expect(rule.errors).toBeUndefined();
    const ruleId = rule.data.createAlertRule.id as string;
    const state = () => engine.rules.get(ruleId)!;
    const pastCooldown = () => until(() => Date.now() >= state().lastFiredAt! + 2000 + 20, 5000, 'the cooldown to pass');
    const quiet = async (n: number) => {
      await new Promise((r) => setTimeout(r, 300));
      expect(alerts.values).toHaveLength(n);
      expect(await db().prisma.alertEvent.count({ where: { ruleId } })).toBe(n);
    };
    await until(() => engine.rules.has(ruleId));
    await ingest(server, admin, 'CDR', '160');
    await alerts.until(() => alerts.values.length === 1);
    await ingest(server, admin, 'CDR', '140'); // cleared
    await until(() => state().cleared && !state().active);
    await ingest(server, admin, 'CDR', '170'); // true again, inside the cooldown: nothing
    await until(() => state().active);
    await quiet(1);
    await pastCooldown();
    await ingest(server, admin, 'CDR', '175'); // still true, the cooldown over, cleared since: fires
    await alerts.until(() => alerts.values.length === 2);
    expect(alerts.values[1]!.data.alertTriggered).toMatchObject({ ruleId, value: '175' });
    await ingest(server, admin, 'CDR', '180'); // never cleared since: nothing, now or after the cooldown
    await pastCooldown();
    await ingest(server, admin, 'CDR', '185');
    await quiet(2);
    expect(await db().prisma.alertRule.findUniqueOrThrow({ where: { id: ruleId } })).toMatchObject({ triggered: true });
    alerts.stop();
  });

  test('processes that disagree on when a cooldown ends record one firing per cooldown (the rule row decides)', async () => {
    // A rule the engine never fires (NAV below 0): firings come only from here, as from other processes.
    const rule = await gql(server.url, owner.key, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }`, { i: { portfolioId: pid, type: 'NAV_BELOW', threshold: '0', cooldownSeconds: 60 } });
    const ruleId = rule.data.createAlertRule.id as string;
    const t0 = Date.now();
    const firing = (key: string, afterSeconds: number) =>
      server.app.services.alerts.recordFiring({ ruleId, portfolioId: pid, type: 'NAV_BELOW', value: '1', message: 'm', dedupeKey: `${ruleId}:${key}`, at: new Date(t0 + afterSeconds * 1000) });
    expect(await firing('a', 0)).not.toBeNull();
    expect(await firing('b', 30)).toBeNull(); // a process whose clock says the cooldown is over, on another event
    expect(await firing('c', -5)).toBeNull(); // a clock behind
    expect(await firing('d', 60)).not.toBeNull();
    // Two at once on different events, both past the cooldown: one wins.
    const raced = await Promise.all([firing('e', 125), firing('f', 125)]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    expect(await db().prisma.alertEvent.count({ where: { ruleId } })).toBe(3);
  });

  test('priceUpdated and orderUpdated', async () => {
    const client = open(owner.key);
    const prices = collect(client, `subscription { priceUpdated(symbols: ["live"]) { symbol price at } }`);
    const orders = collect(client, `subscription($id: ID!) { orderUpdated(portfolioId: $id) { id status symbol } }`, { id: pid });
    // A tick ingested before the subscribe is registered reaches nobody: tick until one arrives.
    for (let i = 0; !prices.values.length && i < 40; i++) {
      await ingest(server, admin, 'LIVE', '99.5');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await prices.waitFor(() => true)).data.priceUpdated).toMatchObject({ symbol: 'LIVE', price: '99.5' });
    const placed = await gql(server.url, owner.key, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, { i: { portfolioId: pid, symbol: 'LIVE', side: 'SELL', type: 'LIMIT', quantity: '1', limitPrice: '500' } });
    expect(placed.errors).toBeUndefined();
    expect((await orders.waitFor(() => true)).data.orderUpdated).toMatchObject({ id: placed.data.placeOrder.id, status: 'NEW', symbol: 'LIVE' });
  });

  test('a tick revalues only the portfolios that hold the security, from memory (no load); a booking reloads its portfolio', async () => {
    const held = await livePortfolio(server.url, admin, owner.key, 'ENG', { cash: '1000', qty: '10', price: '10' }); // 900 cash + 10 ENG
    await ingest(server, admin, 'ENG', '10', new Date(Date.now() - 60_000));
    const start = JSON.stringify(server.app.realtime.nav.stats());
    const client = open(owner.key);
    const bystander = collect(client, NAV_SUB, { id: pid });
    const nav = collect(client, NAV_SUB, { id: held });
    await bystander.waitFor(() => true);
    expect((await nav.waitFor(() => true)).data.navUpdated.nav).toBe('1000');
    const engine = server.app.realtime.nav as unknown as { revalue(p: { id: string }): void };
    const revalue = jest.spyOn(engine, 'revalue');
    // The engine's only ways to the database.
    const load = jest.spyOn(server.app.services.live, 'load');
    const rates = jest.spyOn(server.app.services.live, 'latestFxRates');
    try {
      for (const price of ['11', '12', '13.5']) await ingest(server, admin, 'ENG', price);
      await nav.waitFor((v) => v.data?.navUpdated.nav === '1035'); // 900 + 10 × 13.5
      expect(revalue.mock.calls.map(([p]) => p.id)).toEqual([held, held, held]);
      expect(load).not.toHaveBeenCalled();
      expect(rates).not.toHaveBeenCalled();
      const booked = await gql(server.url, owner.key, `mutation($i: TransactionInput!) { recordTransaction(input: $i) { id } }`, { i: { portfolioId: held, type: 'DEPOSIT', date: '2024-01-04', amount: '250.25', currency: 'USD' } });
      expect(booked.errors).toBeUndefined();
      expect((await nav.waitFor((v) => v.data?.navUpdated.nav === '1285.25')).data.navUpdated).toMatchObject({ previousNav: '1035', change: '250.25' });
      expect(load.mock.calls).toEqual([[[held]]]);
    } finally {
      revalue.mockRestore();
      load.mockRestore();
      rates.mockRestore();
    }
    expect(bystander.values).toHaveLength(1);
    nav.stop();
    bystander.stop();
    await until(() => JSON.stringify(server.app.realtime.nav.stats()) === start);
  });

  test('an FX tick revalues at the rates it carries, without a load', async () => {
    // A USD portfolio holding 1,000 EUR in cash: its NAV is 1,000 × the EUR→USD rate.
    const created = await gql(server.url, owner.key, `mutation($i: CreatePortfolioInput!) { createPortfolio(input: $i) { id } }`, { i: { name: `fx-${Math.random()}`, baseCurrency: 'USD' } });
    const fxp = created.data.createPortfolio.id as string;
    const deposit = await gql(server.url, owner.key, `mutation($i: TransactionInput!) { recordTransaction(input: $i) { id } }`, { i: { portfolioId: fxp, type: 'DEPOSIT', date: '2024-01-02', amount: '1000', currency: 'EUR' } });
    expect(deposit.errors).toBeUndefined();
    const rate = async (date: string, value: string) => {
      const r = await gql(server.url, admin, `mutation($i: [FxRateInput!]!) { ingestFxRates(input: $i) { accepted rejected } }`, { i: [{ base: 'EUR', quote: 'USD', date, rate: value }] });
      expect(r.data?.ingestFxRates).toEqual({ accepted: 1, rejected: 0 });
    };
    await rate('2024-01-02', '1.1');
    const nav = collect(open(owner.key), NAV_SUB, { id: fxp });
    expect((await nav.waitFor(() => true)).data.navUpdated.nav).toBe('1100');
    const load = jest.spyOn(server.app.services.live, 'load');
    const rates = jest.spyOn(server.app.services.live, 'latestFxRates');
    try {
      await rate('2024-01-03', '1.2345');
      expect((await nav.waitFor((v) => v.data?.navUpdated.nav === '1234.5')).data.navUpdated).toMatchObject({ previousNav: '1100', change: '134.5' });
      // An older rate does not replace the newer one.
      await rate('2024-01-01', '2');
      await rate('2024-01-04', '1.0001');
      await nav.waitFor((v) => v.data?.navUpdated.nav === '1000.1');
      expect(nav.values.map((v) => v.data.navUpdated.nav)).toEqual(['1100', '1234.5', '1000.1']);
      expect(load).not.toHaveBeenCalled();
      expect(rates).not.toHaveBeenCalled();
    } finally {
      load.mockRestore();
      rates.mockRestore();
    }
    nav.stop();
  });

  test("a portfolio's state is released when its last subscriber leaves; a later subscriber's seq still grows", async () => {
    const released = await livePortfolio(server.url, admin, owner.key, 'REL', { cash: '100', qty: '1', price: '100' }); // NAV = REL's price
    await ingest(server, admin, 'REL', '100', new Date(Date.now() - 60_000));
    const engine = server.app.realtime.nav;
    const before = engine.stats();
    const a = collect(open(owner.key), NAV_SUB, { id: released });
    const b = collect(open(owner.key), NAV_SUB, { id: released });
    await a.waitFor(() => true);
    await b.waitFor(() => true);
    expect(engine.stats()).toEqual({ portfolios: before.portfolios + 1, subscribers: before.subscribers + 2, indexedSecurities: before.indexedSecurities + 1 });
    await ingest(server, admin, 'REL', '101');
    const seen = (await a.waitFor((v) => v.data?.navUpdated.nav === '101')).data.navUpdated.seq;
    a.stop();
    await until(() => engine.stats().subscribers === before.subscribers + 1);
    expect(engine.get(released)).toBeDefined();
    b.stop();
    await until(() => engine.get(released) === undefined);
    // Its positions are out of the index too: a tick of REL touches nothing.
    expect(engine.stats()).toEqual(before);
    await ingest(server, admin, 'REL', '102');
    const again = collect(open(owner.key), NAV_SUB, { id: released });
    const first = (await again.waitFor(() => true)).data.navUpdated;
    expect(first).toMatchObject({ nav: '102', previousNav: null });
    expect(first.seq).toBeGreaterThan(seen);
    again.stop();
  });

  describe('bad input: refused by the protocol, the server stays healthy', () => {
    const init = { type: 'connection_init', payload: { authorization: '' } };
    const healthy = async () => {
      const r = await gql(server.url, owner.key, '{ me { id } }');
      expect(r.data).toEqual({ me: { id: owner.userId } });
    };
    // A well-behaved socket, subscribed through all of the misbehaviour below.
    let bystander: ReturnType<typeof collect<any>>;
    beforeAll(async () => {
      bystander = collect(open(owner.key), NAV_SUB, { id: pid });
      await bystander.waitFor(() => true);
    });

    test('malformed message → 4400', async () => {
      const s = await rawSocket(server.wsUrl);
      s.send('{not json');
      expect(await s.closed).toBe(4400);
      await healthy();
    });

    test('subscribe before connection_init → 4401', async () => {
      const s = await rawSocket(server.wsUrl);
      s.send({ id: '1', type: 'subscribe', payload: { query: '{ me { id } }' } });
      expect(await s.closed).toBe(4401);
      await healthy();
    });

    test('duplicate subscription id → 4409', async () => {
      const s = await rawSocket(server.wsUrl);
      s.send({ ...init, payload: { authorization: `Bearer ${owner.key}` } });
      await until(() => s.messages.some((m) => m.type === 'connection_ack'));
      s.send({ id: 'a', type: 'subscribe', payload: { query: NAV_SUB, variables: { id: pid } } });
      s.send({ id: 'a', type: 'subscribe', payload: { query: NAV_SUB, variables: { id: pid } } });
      expect(await s.closed).toBe(4409);
      await healthy();
    });

    test('oversized message → 1009', async () => {
      const s = await rawSocket(server.wsUrl);
      s.send({ ...init, payload: { authorization: `Bearer ${owner.key}`, pad: 'x'.repeat(70_000) } });
      expect(await s.closed).toBe(1009);
      await healthy();
    });

    test('a flood of subscribes: beyond the per-socket cap each is refused RATE_LIMITED, the socket stays open, state is released', async () => {
      const s = await rawSocket(server.wsUrl);
      s.send({ ...init, payload: { authorization: `Bearer ${owner.key}` } });
      await until(() => s.messages.some((m) => m.type === 'connection_ack'));
      for (let i = 0; i < 50; i++) s.send({ id: `s${i}`, type: 'subscribe', payload: { query: NAV_SUB, variables: { id: pid } } });
      await until(() => s.messages.filter((m) => m.type === 'error').length === 45 && s.messages.filter((m) => m.type === 'next').length >= 5);
      const errors = s.messages.filter((m) => m.type === 'error');
      expect(errors.every((m) => m.payload[0].extensions.code === 'RATE_LIMITED')).toBe(true);
      expect(s.ws.readyState).toBe(s.ws.OPEN);
      const before = server.app.realtime.nav.stats().subscribers;
      s.ws.close();
      await s.closed;
      await until(() => server.app.realtime.nav.stats().subscribers === before - 5);
      await healthy();
    });

    test('the socket subscribed through all of it still gets its NAV', async () => {
      await ingest(server, admin, 'LIVE', '77.7');
      await bystander.waitFor((v) => v.data?.navUpdated.nav === '12770'); // 5,000 + 100 × 77.7
      expect(bystander.error).toBeUndefined();
      expect(bystander.completed).toBe(false);
    });
  });

  test('slow consumer: a socket that does not read holds one NAV, then gets the latest; one that stops draining is cut off', async () => {
    const s = await rawSocket(server.wsUrl);
    s.send({ type: 'connection_init', payload: { authorization: `Bearer ${owner.key}` } });
    await until(() => s.messages.some((m) => m.type === 'connection_ack'));
    s.send({ id: 'nav', type: 'subscribe', payload: { query: NAV_SUB, variables: { id: pid } } });
    await until(() => s.messages.some((m) => m.id === 'nav'));
    // Stop reading, and fill the kernel's buffers (tens of MB on loopback) with query results
    // small enough that the few waiting in the server's memory stay under WS_MAX_BUFFER_BYTES,
    // until the NAV stream's own frame cannot leave.
    s.ws.pause();
    const filler = `{ __schema { types { name fields { name } } } }`;
    const sinks = () => [...(server.app.realtime.nav.get(pid)?.sinks ?? [])];
    let price = 200;
    for (let i = 0; !sinks().some((x) => x.waiting); i++) {
      expect(i).toBeLessThan(5000);
      expect(s.ws.readyState).toBe(s.ws.OPEN);
      for (let k = 0; k < 4; k++) s.send({ id: `q${i}.${k}`, type: 'subscribe', payload: { query: filler } });
      await new Promise((r) => setTimeout(r, 5));
      if (i % 10 === 9) await ingest(server, admin, 'LIVE', String(++price));
    }
    // Blocked: what follows waits in the stream, the latest only.
    for (let i = 1; i <= 30; i++) await ingest(server, admin, 'LIVE', String(++price));
    expect(sinks().every((x) => x.backlog <= 1)).toBe(true);
    s.ws.resume();
    const last = String(5000 + 100 * price);
    await until(() => s.messages.some((m) => m.id === 'nav' && m.payload?.data?.navUpdated?.nav === last), 30_000);
    const navs = s.messages.filter((m) => m.id === 'nav');
    // The first NAV, those sent before the pipe filled, the one in the pipe and the latest: not the 30 in between.
    expect(navs.length).toBeLessThan(price - 200 - 30 + 4);
    expect(navs.at(-1)!.payload.data.navUpdated.nav).toBe(last);
    s.ws.close();

    // A client that keeps asking but stops reading: graphql-ws waits on each send, so little
    // piles up in memory; once its unsent bytes have not drained for WS_STALL_TIMEOUT_MS (8 s
    // here) the socket is cut off.
    expect(await floodWithoutReading(server.wsUrl, owner.key)).toBe(1006);
    await (async () => {
      const r = await gql(server.url, owner.key, '{ me { id } }');
      expect(r.data).toEqual({ me: { id: owner.userId } });
    })();
  }, 120_000);

  test('a socket whose unsent bytes pass WS_MAX_BUFFER_BYTES is cut off by that limit alone', async () => {
    // A second server on the same database whose stall timeout cannot run out during the
    // test: only the byte limit can cut this socket.
    const strict = await startTestServer(db(), { LOG_LEVEL: process.env.TEST_LOG ?? 'silent', WS_MAX_BUFFER_BYTES: '200000', WS_STALL_TIMEOUT_MS: '600000' });
    try {
      expect(await floodWithoutReading(strict.wsUrl, owner.key)).toBe(1006);
      const r = await gql(strict.url, owner.key, '{ me { id } }');
      expect(r.data).toEqual({ me: { id: owner.userId } });
    } finally {
      await strict.close();
    }
  }, 120_000);
});

/**
 * A client that keeps asking for large answers but stops reading its socket, until the server
 * cuts it off (or 60 s pass): the close code it got.
 */
async function floodWithoutReading(wsUrl: string, apiKey: string): Promise<number> {
  const big = `{ __schema { types { name fields { name type { name kind ofType { name kind } } } } } }`;
  const t = await rawSocket(wsUrl);
  t.send({ type: 'connection_init', payload: { authorization: `Bearer ${apiKey}` } });
  await until(() => t.messages.some((m) => m.type === 'connection_ack'));
  (t.ws as unknown as { _socket: import('net').Socket })._socket.pause();
  let closed = false;
  void t.closed.then(() => (closed = true));
  const started = Date.now();
  for (let i = 0; !closed && Date.now() - started < 60_000; i++) {
    t.send({ id: `x${i}`, type: 'subscribe', payload: { query: big } });
    t.send({ id: `x${i}`, type: 'complete' });
    await new Promise((r) => setTimeout(r, 5));
  }
  return t.closed;
}
