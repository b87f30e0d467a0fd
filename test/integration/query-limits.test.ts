import type { Client } from 'graphql-ws';
import { getIntrospectionQuery } from 'graphql';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, wsClient, type TestServer } from '../support/server';

function viaWs(client: Client, query: string, variables?: Record<string, unknown>): Promise<any> {
  return new Promise((resolve, reject) => {
    let result: any;
    client.subscribe({ query, variables }, { next: (r) => (result = r), error: (e) => (Array.isArray(e) ? resolve({ errors: e }) : reject(e)), complete: () => resolve(result) });
  });
}


describeEachEngine('query limits', (db) => {
  let server: TestServer;
  let user: { userId: string; key: string };
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startTestServer(db(), { QUERY_MAX_DEPTH: '4', QUERY_MAX_ALIASES: '3', QUERY_MAX_OPERATIONS: '2', QUERY_MAX_COST: '100' });
    user = await createUserWithKey(server, 'USER');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.close();
  });
  const ws = () => {
    const c = wsClient(server.wsUrl, user.key);
    clients.push(c);
    return c;
  };

  const tooDeep = 'mutation { createPortfolio(input: { name: "Deep", baseCurrency: "USD" }) { owner { id } transactions { edges { node { id } } } } }';
  const tooWide = `mutation { ${[1, 2, 3, 4].map((i) => `p${i}: createPortfolio(input: { name: "Wide${i}", baseCurrency: "USD" }) { id }`).join(' ')} }`;
  const tooCostly = 'query($n: Int) { portfolios(first: $n) { nodes { lots { id } } } }';

  test.each([
    ['too deep', tooDeep, undefined, /nested more than 4 levels/],
    ['too many aliases', tooWide, undefined, /4 aliases; at most 3/],
    ['too many operations', 'query A { me { id } } query B { me { id } } query C { me { id } }', undefined, /3 operations/],
    ['too costly', tooCostly, { n: 60 }, /cost 121 exceeds the limit of 100/],
  ])('%s: refused before execution with BAD_USER_INPUT over HTTP and WebSocket', async (_label, query, variables, message) => {
    const before = await db().prisma.portfolio.count();
    const http = await gql(server.url, user.key, query, variables);
    expect(http.status).toBe(400);
    expect(codeOf(http)).toBe('BAD_USER_INPUT');
    expect(http.errors?.[0]?.message).toMatch(message);
    expect(http.data).toBeUndefined();
    const overWs = await viaWs(ws(), query, variables);
    expect(overWs.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(overWs.errors?.[0]?.message).toMatch(message);
    expect(await db().prisma.portfolio.count()).toBe(before);
  });

  test('within the limits the same shapes run; the cost follows `first` from variables', async () => {
    const ok = await gql(server.url, user.key, tooCostly, { n: 5 });
    expect(ok.errors).toBeUndefined();
    expect((await viaWs(ws(), tooCostly, { n: 5 })).errors).toBeUndefined();
    const aliased = await gql(server.url, user.key, '{ a: me { id } b: me { id } c: me { id } }');
    expect(aliased.data).toEqual({ a: { id: user.userId }, b: { id: user.userId }, c: { id: user.userId } });
    const named = await gql(server.url, user.key, 'query A { me { id } } query B { me { role } }', undefined);
    expect(codeOf(named)).not.toBe('BAD_USER_INPUT');
  });

  test('a repeated query keeps its estimate per variables: the same text is refused or run as its `first` says, each time', async () => {
    for (const n of [5, 60, 5, 60, 5]) {
      const res = await gql(server.url, user.key, tooCostly, { n });
      if (n === 5) expect(res.errors).toBeUndefined();
      else expect(res.errors?.[0]?.message).toMatch(/cost 121 exceeds/);
      const overWs = await viaWs(ws(), tooCostly, { n });
      expect(overWs.errors?.[0]?.extensions?.code).toBe(n === 5 ? undefined : 'BAD_USER_INPUT');
    }
  });

  test('fragments count toward depth and cannot hide it', async () => {
    const q = 'fragment T on Portfolio { transactions { nodes { id } } } query { portfolios { nodes { ...T } } }';
    const res = await gql(server.url, user.key, q);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((await viaWs(ws(), q)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  test('batched HTTP requests are refused', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
      body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    });
    expect(res.status).toBe(400);
  });

  test('other validation errors over the socket carry GRAPHQL_VALIDATION_FAILED, as over HTTP', async () => {
    const res = await viaWs(ws(), '{ nope }');
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(await gql(server.url, user.key, '{ nope }'))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await viaWs(ws(), '{ me { id }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  test('over the socket, documents that passed validation are kept by text, never one that failed: each failing text is refused every time', async () => {
    const client = ws();
    for (let round = 0; round < 2; round++) {
      expect((await viaWs(client, '{ nope }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect((await viaWs(client, tooDeep)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((await viaWs(client, '{ me { id }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      expect((await viaWs(client, '{ me { id } }')).data).toEqual({ me: { id: user.userId } });
    }
    expect(await db().prisma.portfolio.count({ where: { name: 'Deep' } })).toBe(0);
  });
});

describeEachEngine('introspection', (db) => {
  let prod: TestServer;
  let opened: TestServer;
  let key: string;
  beforeAll(async () => {
    prod = await startTestServer(db(), { NODE_ENV: 'production' });
    opened = await startTestServer(db(), { NODE_ENV: 'production', INTROSPECTION: '1' });
    key = (await createUserWithKey(prod, 'USER')).key;
  });
  afterAll(async () => {
    await prod.close();
    await opened.close();
  });

  test('is off in production on both transports unless INTROSPECTION=1', async () => {
    const q = '{ __schema { queryType { name } } }';
    const res = await gql(prod.url, key, q);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    const client = wsClient(prod.wsUrl, key);
    try {
      expect((await viaWs(client, q)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await client.dispose();
    }
    expect((await gql(opened.url, key, q)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  test("an IDE's full introspection query is within the default limits when introspection is on", async () => {
    // GraphiQL sends this document; its size follows the schema, not the client.
    const res = await gql(opened.url, key, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.types.length).toBeGreaterThan(50);
  });
});
