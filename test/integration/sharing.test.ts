import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, wsClient, type TestServer } from '../support/server';
import { collect, ingest, livePortfolio, NAV_SUB, until } from '../support/live';

const SHARE = 'mutation($p: ID!, $u: ID!) { sharePortfolio(portfolioId: $p, userId: $u) { id } }';
const UNSHARE = 'mutation($p: ID!, $u: ID!) { unsharePortfolio(portfolioId: $p, userId: $u) { id } }';
const READ = 'query($id: ID!) { portfolio(id: $id) { id name } }';

describeEachEngine('sharing portfolios with VIEWERs', (db) => {
  let server: TestServer;
  let owner: { userId: string; key: string };
  let other: { userId: string; key: string };
  let viewer: { userId: string; key: string };
  let portfolioId: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    owner = await createUserWithKey(server, 'USER');
    other = await createUserWithKey(server, 'USER');
    viewer = await createUserWithKey(server, 'VIEWER');
    portfolioId = (await gql(server.url, owner.key, 'mutation { createPortfolio(input: { name: "Shared", baseCurrency: "USD" }) { id } }')).data.createPortfolio.id;
  });
  afterAll(() => server.close());

  test('the owner shares with a VIEWER, who then reads it but cannot write it; unsharing takes it back; both audited', async () => {
    expect((await gql(server.url, viewer.key, READ, { id: portfolioId })).data).toEqual({ portfolio: null });
    expect((await gql(server.url, owner.key, SHARE, { p: portfolioId, u: viewer.userId })).data).toEqual({ sharePortfolio: { id: portfolioId } });
    // Idempotent: a second share writes nothing.
    await gql(server.url, owner.key, SHARE, { p: portfolioId, u: viewer.userId });
    expect(await db().prisma.auditLog.count({ where: { action: 'portfolio.share', entityId: portfolioId } })).toBe(1);
    expect((await gql(server.url, viewer.key, READ, { id: portfolioId })).data).toEqual({ portfolio: { id: portfolioId, name: 'Shared' } });
    expect((await gql(server.url, owner.key, 'query($id: ID!) { portfolio(id: $id) { sharedWith { id } } }', { id: portfolioId })).data).toEqual({
      portfolio: { sharedWith: [{ id: viewer.userId }] },
    });
    const write = await gql(server.url, viewer.key, 'mutation($id: ID!) { updatePortfolio(id: $id, input: { name: "Mine" }) { id } }', { id: portfolioId });
    expect(codeOf(write)).toBe('FORBIDDEN');
    expect(codeOf(await gql(server.url, viewer.key, 'query($id: ID!) { portfolio(id: $id) { sharedWith { id } } }', { id: portfolioId }))).toBe('FORBIDDEN');

    expect((await gql(server.url, owner.key, UNSHARE, { p: portfolioId, u: viewer.userId })).data).toEqual({ unsharePortfolio: { id: portfolioId } });
    expect(await db().prisma.auditLog.count({ where: { action: 'portfolio.unshare', entityId: portfolioId } })).toBe(1);
    expect((await gql(server.url, viewer.key, READ, { id: portfolioId })).data).toEqual({ portfolio: null });
  });

  test("unsharing ends the VIEWER's live subscriptions on that portfolio at once; their socket and other subscriptions stay", async () => {
    const admin = await createUserWithKey(server, 'ADMIN');
    const shared = await livePortfolio(server.url, admin.key, owner.key, 'SHRD', { cash: '100', qty: '10', price: '5' });
    const kept = await livePortfolio(server.url, admin.key, owner.key, 'KEPT', { cash: '100', qty: '10', price: '5' });
    for (const p of [shared, kept]) await gql(server.url, owner.key, SHARE, { p, u: viewer.userId });
    const client = wsClient(server.wsUrl, viewer.key);
    try {
      const onShared = collect(client, NAV_SUB, { id: shared });
      const onKept = collect(client, NAV_SUB, { id: kept });
      await onShared.until(() => onShared.values.length > 0, 10_000, 'the first NAV of the shared portfolio');
      await onKept.until(() => onKept.values.length > 0, 10_000, 'the first NAV of the other portfolio');
      expect(onShared.values[0]!.data).toMatchObject({ navUpdated: { portfolioId: shared } });

      expect(codeOf(await gql(server.url, owner.key, UNSHARE, { p: shared, u: viewer.userId }))).toBe('none');
      await onShared.until(() => onShared.completed, 5_000, 'the subscription on the unshared portfolio to end');
      const seen = onShared.values.length;
      await ingest(server, admin.key, 'SHRD', '6');
      await ingest(server, admin.key, 'KEPT', '7');
      // 50 cash + 10 × 7.
      await onKept.waitFor((v) => v.data?.navUpdated.nav === '120');
      expect(onShared.values.length).toBe(seen);
      expect(onKept.completed).toBe(false);
      // Subscribing again is refused like any portfolio that is not theirs.
      const again = collect(client, NAV_SUB, { id: shared });
      await again.until(() => !!again.error || again.completed || again.values.length > 0, 5_000, 'the refusal');
      expect(JSON.stringify(again.error ?? again.values)).toMatch(/NOT_FOUND/);
    } finally {
      await client.dispose();
      await gql(server.url, owner.key, UNSHARE, { p: kept, u: viewer.userId });
    }
  });

  test('alertTriggered without a portfolio follows sharing per event: a portfolio shared after subscribing reaches the VIEWER, one unshared stops', async () => {
    const admin = await createUserWithKey(server, 'ADMIN');
    const ALL = `subscription { alertTriggered { id ruleId portfolioId } }`;
    const sinks = () => (server.app.realtime as unknown as { alertSinks: Set<unknown> }).alertSinks.size;
    const listening = sinks();
    const viewerClient = wsClient(server.wsUrl, viewer.key);
    const ownerClient = wsClient(server.wsUrl, owner.key);
    try {
      const viewers = collect(viewerClient, ALL);
      const owners = collect(ownerClient, ALL);
      await until(() => sinks() === listening + 2);
      // Created after the VIEWER subscribed; a rule whose condition holds fires on its first evaluation.
      const p = await livePortfolio(server.url, admin.key, owner.key, 'SHAL', { cash: '100', qty: '10', price: '5' });
      const fire = async () => {
        const r = await gql(server.url, owner.key, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }`, { i: { portfolioId: p, type: 'NAV_BELOW', threshold: '1000000000' } });
        expect(r.errors).toBeUndefined();
        const ruleId = r.data.createAlertRule.id as string;
        await owners.waitFor((v) => v.data?.alertTriggered.ruleId === ruleId);
        return ruleId;
      };
      const before = await fire(); // not shared yet: the owner's only
      expect(codeOf(await gql(server.url, owner.key, SHARE, { p, u: viewer.userId }))).toBe('none');
      const shared = await fire();
      await viewers.waitFor((v) => v.data?.alertTriggered.ruleId === shared);
      expect(codeOf(await gql(server.url, owner.key, UNSHARE, { p, u: viewer.userId }))).toBe('none');
      const after = await fire();
      await new Promise((r) => setTimeout(r, 300));
      expect(viewers.values.map((v) => v.data?.alertTriggered.ruleId)).toEqual([shared]);
      expect(owners.values.map((v) => v.data?.alertTriggered.ruleId)).toEqual([before, shared, after]);
      expect(viewers.completed).toBe(false);
    } finally {
      await viewerClient.dispose();
      await ownerClient.dispose();
    }
  });

  test('only VIEWERs receive shares; another owner cannot share what is not theirs, and it reads as missing', async () => {
    expect(codeOf(await gql(server.url, owner.key, SHARE, { p: portfolioId, u: other.userId }))).toBe('BAD_USER_INPUT');
    const foreign = await gql(server.url, other.key, SHARE, { p: portfolioId, u: viewer.userId });
    const missing = await gql(server.url, other.key, SHARE, { p: '00000000-0000-4000-8000-000000000000', u: viewer.userId });
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(codeOf(missing)).toBe('NOT_FOUND');
    expect(await db().prisma.portfolioShare.count()).toBe(0);
    // A VIEWER cannot share a portfolio shared with them onwards.
    await gql(server.url, owner.key, SHARE, { p: portfolioId, u: viewer.userId });
    const viewer2 = await createUserWithKey(server, 'VIEWER');
    expect(codeOf(await gql(server.url, viewer.key, SHARE, { p: portfolioId, u: viewer2.userId }))).toBe('FORBIDDEN');
    expect(await db().prisma.portfolioShare.count()).toBe(1);
  });
});
