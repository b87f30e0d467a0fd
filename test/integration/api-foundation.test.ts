import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { loadConfig } from '../../src/config';

const CREATE = `mutation($input: CreatePortfolioInput!) { createPortfolio(input: $input) { id name baseCurrency costBasisMethod allowShort owner { email } } }`;
const PORTFOLIO = `query($id: ID!) { portfolio(id: $id) { id name } }`;

describeEachEngine('API foundation', (db) => {
  let server: TestServer;
  let alice: { userId: string; key: string };
  let bob: { userId: string; key: string };
  let admin: { userId: string; key: string };
  let viewer: { userId: string; key: string };

  beforeAll(async () => {
    server = await startTestServer(db());
    [alice, bob, admin, viewer] = await Promise.all([
      createUserWithKey(server, 'USER'),
      createUserWithKey(server, 'USER'),
      createUserWithKey(server, 'ADMIN'),
      createUserWithKey(server, 'VIEWER'),
    ]);
  });
  afterAll(() => server.close());

  const count = {
    portfolios: () => db().prisma.portfolio.count(),
    audit: () => db().prisma.auditLog.count(),
    securityEvents: (kind: string) => db().prisma.securityEvent.count({ where: { kind } }),
  };

  describe('authentication', () => {
    test('without a key, me is null and everything else is UNAUTHENTICATED', async () => {
      expect((await gql(server.url, null, '{ me { id } }')).data).toEqual({ me: null });
      const res = await gql(server.url, null, '{ portfolios { totalCount } }');
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
    });

    test('a wrong key is refused with 401 and recorded as a security event', async () => {
      const before = await count.securityEvents('auth.unknown_key');
      const res = await gql(server.url, 'fg_not_a_real_key', '{ me { id } }');
      expect(res.status).toBe(401);
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
      expect(res.errors?.[0]?.message).toBe('invalid API key');
      expect(await count.securityEvents('auth.unknown_key')).toBe(before + 1);
    });

    test('a malformed Authorization header is refused', async () => {
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic abc' }, body: '{"query":"{ me { id } }"}' });
      expect(res.status).toBe(401);
    });

    test('a revoked key stops working at once; revoking is audited', async () => {
      const created = await gql(alice.key ? server.url : '', alice.key, `mutation { createApiKey(name: "ci") { id key prefix } }`);
      const { id, key, prefix } = created.data.createApiKey;
      expect(key.startsWith(prefix)).toBe(true);
      expect((await gql(server.url, key, '{ me { id } }')).data?.me).toEqual({ id: alice.userId });
      const revoked = await gql(server.url, alice.key, `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, { id });
      expect(revoked.data.revokeApiKey.revokedAt).toBeTruthy();
      const after = await gql(server.url, key, '{ me { id } }');
      expect(codeOf(after)).toBe('UNAUTHENTICATED');
      expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.revoked_key', apiKeyId: id } })).toBe(1);
      expect(await db().prisma.auditLog.count({ where: { action: 'api_key.revoke', entityId: id } })).toBe(1);
    });

    test('an expired key is refused', async () => {
      const created = await gql(server.url, alice.key, `mutation { createApiKey(name: "short", expiresInDays: 1) { id key expiresAt } }`);
      const { id, key } = created.data.createApiKey;
      await db().prisma.apiKey.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      expect(codeOf(await gql(server.url, key, '{ me { id } }'))).toBe('UNAUTHENTICATED');
      expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.expired_key', apiKeyId: id } })).toBe(1);
    });

    test("a key cannot be revoked by someone else: it reads as not found", async () => {
      const created = await gql(server.url, alice.key, `mutation { createApiKey(name: "mine") { id } }`);
      const res = await gql(server.url, bob.key, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.data.createApiKey.id });
      expect(codeOf(res)).toBe('NOT_FOUND');
      expect((await db().prisma.apiKey.findUnique({ where: { id: created.data.createApiKey.id } }))?.revokedAt).toBeNull();
    });
  });

  describe('portfolios', () => {
    test('createPortfolio writes the portfolio and its audit entry together', async () => {
      const auditBefore = await count.audit();
      const res = await gql(server.url, alice.key, CREATE, { input: { name: 'Core', baseCurrency: 'usd' } });
      expect(res.errors).toBeUndefined();
      const p = res.data.createPortfolio;
      expect(p).toMatchObject({ name: 'Core', baseCurrency: 'USD', costBasisMethod: 'FIFO', allowShort: false });
      expect(await count.audit()).toBe(auditBefore + 1);
      const entry = await db().prisma.auditLog.findFirst({ where: { entityId: p.id } });
      expect(entry).toMatchObject({ action: 'portfolio.create', actorUserId: alice.userId, portfolioId: p.id });
    });

    test('a duplicate name for the same owner is a CONFLICT and writes nothing; another owner may use it', async () => {
      const [portfolios, audit] = [await count.portfolios(), await count.audit()];
      const dup = await gql(server.url, alice.key, CREATE, { input: { name: 'Core', baseCurrency: 'EUR' } });
      expect(codeOf(dup)).toBe('CONFLICT');
      expect([await count.portfolios(), await count.audit()]).toEqual([portfolios, audit]);
      const other = await gql(server.url, bob.key, CREATE, { input: { name: 'Core', baseCurrency: 'EUR' } });
      expect(other.errors).toBeUndefined();
    });

    test.each([
      [{ name: 'X', baseCurrency: 'ABC' }, /ISO 4217/],
      [{ name: 'X', baseCurrency: 'US' }, /ISO 4217/],
      [{ name: '   ', baseCurrency: 'USD' }, /name must not be empty/],
      [{ name: 'x'.repeat(121), baseCurrency: 'USD' }, /at most 120/],
    ])('bad input %p is BAD_USER_INPUT and writes nothing', async (input, message) => {
      const [portfolios, audit] = [await count.portfolios(), await count.audit()];
      const res = await gql(server.url, alice.key, CREATE, { input });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(message);
      expect([await count.portfolios(), await count.audit()]).toEqual([portfolios, audit]);
    });

    test("another owner's portfolio reads exactly like a missing one, and the probe is recorded", async () => {
      const mine = (await gql(server.url, alice.key, CREATE, { input: { name: 'Private', baseCurrency: 'GBP' } })).data.createPortfolio;
      const probesBefore = await count.securityEvents('portfolio.foreign_access');
      const foreign = await gql(server.url, bob.key, PORTFOLIO, { id: mine.id });
      const missing = await gql(server.url, bob.key, PORTFOLIO, { id: '00000000-0000-4000-8000-000000000000' });
      const garbage = await gql(server.url, bob.key, PORTFOLIO, { id: 'not-a-uuid' });
      expect(foreign).toEqual(missing);
      expect(garbage).toEqual(missing);
      expect(foreign.data).toEqual({ portfolio: null });
      expect(await count.securityEvents('portfolio.foreign_access')).toBe(probesBefore + 1);
      // The owner and an ADMIN see it.
      expect((await gql(server.url, alice.key, PORTFOLIO, { id: mine.id })).data.portfolio.name).toBe('Private');
      expect((await gql(server.url, admin.key, PORTFOLIO, { id: mine.id })).data.portfolio.name).toBe('Private');
    });

    test('a VIEWER cannot create portfolios', async () => {
      const res = await gql(server.url, viewer.key, CREATE, { input: { name: 'V', baseCurrency: 'USD' } });
      expect(codeOf(res)).toBe('FORBIDDEN');
    });

    test('portfolios pages with cursors, oldest first, and counts only what the caller may read', async () => {
      const user = await createUserWithKey(server, 'USER');
      for (const name of ['P1', 'P2', 'P3', 'P4', 'P5']) await gql(server.url, user.key, CREATE, { input: { name, baseCurrency: 'USD' } });
      const page = `query($after: String) { portfolios(first: 2, after: $after) { totalCount edges { cursor node { name } } nodes { name } pageInfo { hasNextPage endCursor } } }`;
      const names: string[] = [];
      let after: string | null = null;
      for (;;) {
        const res: any = await gql(server.url, user.key, page, { after });
        const conn = res.data.portfolios;
        expect(conn.totalCount).toBe(5);
        expect(conn.nodes.map((n: any) => n.name)).toEqual(conn.edges.map((e: any) => e.node.name));
        names.push(...conn.nodes.map((n: any) => n.name));
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(names).toEqual(['P1', 'P2', 'P3', 'P4', 'P5']);
      const capped = await gql(server.url, user.key, '{ portfolios(first: 100000) { totalCount nodes { id } } }');
      expect(capped.data.portfolios.nodes).toHaveLength(5);
      expect(codeOf(await gql(server.url, user.key, '{ portfolios(first: -1) { totalCount } }'))).toBe('BAD_USER_INPUT');
      expect(codeOf(await gql(server.url, user.key, '{ portfolios(after: "bogus") { totalCount } }'))).toBe('BAD_USER_INPUT');
    });
  });

  describe('securities and users', () => {
    const UPSERT = `mutation($input: SecurityInput!) { upsertSecurity(input: $input) { id symbol name currency sector country } }`;

    test('ADMIN upserts a security; the symbol is normalized; a second upsert updates it', async () => {
      const first = await gql(server.url, admin.key, UPSERT, { input: { symbol: 'nesn.sw', name: 'Nestle', currency: 'chf', sector: 'Consumer Staples', country: 'ch' } });
      expect(first.data.upsertSecurity).toMatchObject({ symbol: 'NESN.SW', currency: 'CHF', country: 'CH' });
      const second = await gql(server.url, admin.key, UPSERT, { input: { symbol: 'NESN.SW', name: 'Nestle S.A.', currency: 'CHF' } });
      expect(second.data.upsertSecurity.id).toBe(first.data.upsertSecurity.id);
      expect((await gql(server.url, alice.key, '{ security(symbol: "nesn.sw") { name } }')).data.security.name).toBe('Nestle S.A.');
      expect((await gql(server.url, alice.key, '{ security(symbol: "NOPE") { name } }')).data.security).toBeNull();
    });

    test('a USER cannot change the shared security master; bad currency is refused', async () => {
      expect(codeOf(await gql(server.url, alice.key, UPSERT, { input: { symbol: 'X', name: 'X', currency: 'USD' } }))).toBe('FORBIDDEN');
      expect(codeOf(await gql(server.url, admin.key, UPSERT, { input: { symbol: 'X', name: 'X', currency: 'XYZ' } }))).toBe('BAD_USER_INPUT');
      expect(codeOf(await gql(server.url, admin.key, UPSERT, { input: { symbol: 'BAD SYMBOL', name: 'X', currency: 'USD' } }))).toBe('BAD_USER_INPUT');
    });

    test('only an ADMIN creates users and keys for others; passwords are never stored in clear', async () => {
      const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { id email role } }`;
      expect(codeOf(await gql(server.url, alice.key, CREATE_USER, { input: { email: 'x@y.z', role: 'ADMIN' } }))).toBe('FORBIDDEN');
      const made = await gql(server.url, admin.key, CREATE_USER, { input: { email: 'New@Example.com', role: 'USER', password: 'correct horse battery' } });
      expect(made.data.createUser).toMatchObject({ email: 'new@example.com', role: 'USER' });
      const row = await db().prisma.user.findUnique({ where: { id: made.data.createUser.id } });
      expect(row?.passwordHash).toMatch(/^scrypt\$/);
      expect(row?.passwordHash).not.toContain('correct horse');
      const audit = await db().prisma.auditLog.findFirst({ where: { entityId: row!.id } });
      expect(JSON.stringify(audit?.after)).not.toContain('scrypt');
      expect(codeOf(await gql(server.url, admin.key, CREATE_USER, { input: { email: 'new@example.com', role: 'USER' } }))).toBe('CONFLICT');
      expect(codeOf(await gql(server.url, admin.key, CREATE_USER, { input: { email: 'short@example.com', role: 'USER', password: 'short' } }))).toBe('BAD_USER_INPUT');
      const forOther = `mutation($u: ID!) { createApiKey(name: "k", userId: $u) { key } }`;
      expect(codeOf(await gql(server.url, alice.key, forOther, { u: bob.userId }))).toBe('FORBIDDEN');
      const key = (await gql(server.url, admin.key, forOther, { u: made.data.createUser.id })).data.createApiKey.key;
      expect((await gql(server.url, key, '{ me { email } }')).data.me.email).toBe('new@example.com');
    });
  });

  describe('audit log', () => {
    test('an owner reads the history of their portfolios but not of others', async () => {
      const carol = await createUserWithKey(server, 'USER');
      const dave = await createUserWithKey(server, 'USER');
      const p = (await gql(server.url, carol.key, CREATE, { input: { name: 'Audited', baseCurrency: 'USD' } })).data.createPortfolio;
      const q = `query($id: ID) { auditLog(entityId: $id) { totalCount nodes { action entityType entityId portfolioId after } } }`;
      const own = await gql(server.url, carol.key, q, { id: p.id });
      expect(own.data.auditLog.totalCount).toBe(1);
      expect(own.data.auditLog.nodes[0]).toMatchObject({ action: 'portfolio.create', entityId: p.id, portfolioId: p.id });
      expect(JSON.parse(own.data.auditLog.nodes[0].after).name).toBe('Audited');
      expect((await gql(server.url, dave.key, q, { id: p.id })).data.auditLog.totalCount).toBe(0);
      expect((await gql(server.url, admin.key, q, { id: p.id })).data.auditLog.totalCount).toBe(1);
    });
  });

  describe('transport', () => {
    test('an oversized body is refused with 413 before it is parsed', async () => {
      const big = JSON.stringify({ query: `{ me { id } }`, variables: { pad: 'x'.repeat(loadConfig({}).maxBodyBytes) } });
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.key}` }, body: big });
      expect(res.status).toBe(413);
      expect(((await res.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    });

    test('GET on /graphql is not a CSRF hole: a query without a preflight header is refused', async () => {
      const res = await fetch(`${server.url}?query=${encodeURIComponent('{ me { id } }')}`);
      expect(res.status).toBe(400);
    });

    test('health, readiness and metrics', async () => {
      const base = server.url.replace('/graphql', '');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as any).database).toBe('ok');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/foliograph_http_requests_total\{method="POST",route="\/graphql",status="200"\} \d+/);
      expect(metrics).toMatch(/foliograph_http_request_duration_seconds_bucket/);
      expect(metrics).toMatch(/foliograph_ws_connections \d+/);
    });
  });
});
