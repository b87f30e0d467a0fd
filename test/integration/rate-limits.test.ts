import type { Client } from 'graphql-ws';
import { describeEachEngine } from '../support/db';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { createUserWithKey, startTestServer, wsClient, type TestServer } from '../support/server';

/** A socket that stays open between operations (the shared helper's client is lazy). */
function eagerClient(url: string, key: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, lazy: false, lazyCloseTimeout: 60_000, retryAttempts: 0, connectionParams: { authorization: `Bearer ${key}` }, onNonLazyError: () => undefined });
}

async function post(url: string, key: string | null) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ query: '{ me { id } }' }) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

function run(client: Client, query: string): Promise<any> {
  return new Promise((resolve, reject) => {
    let r: any;
    client.subscribe({ query }, { next: (x) => (r = x), error: (e) => (Array.isArray(e) ? resolve({ errors: e }) : reject(e)), complete: () => resolve(r) });
  });
}

function closeCode(client: Client): Promise<number> {
  return new Promise((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
}

const REDIS = process.env.TEST_REDIS_URL;

describeEachEngine('rate limits', (db) => {
  const clients: Client[] = [];
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await Promise.all(servers.map((s) => s.close()));
  });
  const start = async (env: Record<string, string>) => {
    const s = await startTestServer(db(), env);
    servers.push(s);
    return s;
  };

  test('HTTP operations per key: 429 with Retry-After and RATE_LIMITED; other keys unaffected', async () => {
    const server = await start({ RATE_LIMIT_PER_KEY: '3', RATE_LIMIT_WINDOW_SECONDS: '30' });
    const a = await createUserWithKey(server, 'USER');
    const b = await createUserWithKey(server, 'USER');
    for (let i = 0; i < 3; i++) expect((await post(server.url, a.key)).status).toBe(200);
    const limited = await post(server.url, a.key);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(30);
    expect(limited.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: Number(limited.retryAfter) });
    expect((await post(server.url, b.key)).status).toBe(200);
  });

  test('HTTP operations per IP, with or without a key', async () => {
    const server = await start({ RATE_LIMIT_PER_IP: '2' });
    const a = await createUserWithKey(server, 'USER');
    expect((await post(server.url, null)).status).toBe(200);
    expect((await post(server.url, a.key)).status).toBe(200);
    const limited = await post(server.url, 'fg_random_guess');
    expect(limited.status).toBe(429);
    expect(limited.body.errors[0].extensions.code).toBe('RATE_LIMITED');
  });

  test('WebSocket connections per key: the one over the limit is closed with 4429; closing one frees a slot', async () => {
    const server = await start({ WS_MAX_CONNECTIONS_PER_KEY: '1' });
    const a = await createUserWithKey(server, 'USER');
    const first = eagerClient(server.wsUrl, a.key);
    clients.push(first);
    expect((await run(first, '{ me { id } }')).data.me.id).toBe(a.userId);
    const second = wsClient(server.wsUrl, a.key);
    clients.push(second);
    const closed = closeCode(second);
    await expect(run(second, '{ me { id } }')).rejects.toBeTruthy();
    expect(await closed).toBe(4429);
    await first.dispose();
    await new Promise((r) => setTimeout(r, 100));
    const third = wsClient(server.wsUrl, a.key);
    clients.push(third);
    expect((await run(third, '{ me { id } }')).data.me.id).toBe(a.userId);
  });

  test('operations over a socket count toward the key: RATE_LIMITED with retryAfterSeconds, the socket stays open', async () => {
    const server = await start({ RATE_LIMIT_PER_KEY: '2' });
    const a = await createUserWithKey(server, 'USER');
    const client = wsClient(server.wsUrl, a.key);
    clients.push(client);
    expect((await run(client, '{ me { id } }')).errors).toBeUndefined();
    expect((await run(client, '{ me { id } }')).errors).toBeUndefined();
    const limited = await run(client, '{ me { id } }');
    expect(limited.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(limited.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(0);
  });

  (REDIS ? test : test.skip)('with REDIS_URL the limits hold across server processes', async () => {
    const env = { REDIS_URL: REDIS!, RATE_LIMIT_PER_KEY: '3', WS_MAX_CONNECTIONS_PER_KEY: '1', RATE_LIMIT_WINDOW_SECONDS: '30', SEED_DEMO: '0' };
    const one = await start(env);
    const two = await start(env);
    const a = await createUserWithKey(one, 'USER');
    expect((await post(one.url, a.key)).status).toBe(200);
    expect((await post(two.url, a.key)).status).toBe(200);
    expect((await post(one.url, a.key)).status).toBe(200);
    expect((await post(two.url, a.key)).status).toBe(429);
    // A socket on one process takes the key's only slot on the other too.
    const b = await createUserWithKey(one, 'USER');
    const first = eagerClient(one.wsUrl, b.key);
    clients.push(first);
    expect((await run(first, '{ me { id } }')).data.me.id).toBe(b.userId);
    const second = wsClient(two.wsUrl, b.key);
    clients.push(second);
    const closed = closeCode(second);
    await expect(run(second, '{ me { id } }')).rejects.toBeTruthy();
    expect(await closed).toBe(4429);
  });
});
