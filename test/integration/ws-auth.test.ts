import type { Client, FormattedExecutionResult } from 'graphql-ws';
import { describeEachEngine } from '../support/db';
import { createUserWithKey, startTestServer, wsClient, type TestServer } from '../support/server';

function run(client: Client, query: string, variables?: Record<string, unknown>): Promise<FormattedExecutionResult<any, unknown>> {
  return new Promise((resolve, reject) => {
    let result: FormattedExecutionResult<any, unknown> | undefined;
    client.subscribe({ query, variables }, { next: (r) => (result = r), error: reject, complete: () => resolve(result!) });
  });
}

function closeCode(client: Client): Promise<number> {
  return new Promise((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
}

describeEachEngine('graphql-ws authentication', (db) => {
  let server: TestServer;
  let user: { userId: string; key: string };
  const clients: Client[] = [];
  const open = (key: string | null) => {
    const c = wsClient(server.wsUrl, key);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer(db());
    user = await createUserWithKey(server, 'USER');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.close();
  });

  test('a socket with a valid key runs operations as its user', async () => {
    const client = open(user.key);
    const me = await run(client, '{ me { id role } }');
    expect(me.data).toEqual({ me: { id: user.userId, role: 'USER' } });
  });

  test('errors over the socket carry the same codes as over HTTP', async () => {
    const client = open(user.key);
    const res = await run(client, 'mutation { createPortfolio(input: { name: "W", baseCurrency: "ZZZ" }) { id } }');
    expect(res.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(await db().prisma.portfolio.count({ where: { name: 'W' } })).toBe(0);
  });

  test.each([
    ['no key', null],
    ['a wrong key', 'fg_wrong'],
  ])('a socket with %s is closed with 4403 Forbidden', async (_label, key) => {
    const client = open(key);
    const closed = closeCode(client);
    await expect(run(client, '{ me { id } }')).rejects.toBeTruthy();
    expect(await closed).toBe(4403);
  });
});
