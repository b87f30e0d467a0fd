import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';

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
