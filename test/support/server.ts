import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createApp, type App } from '../../src/server/app';
import type { Database } from '../../src/db/client';
import type { Role } from '../../src/generated/prisma/client';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

/** The real server (Apollo, Express, graphql-ws) on an ephemeral port over a test database. */
export async function startTestServer(db: Database, env: Record<string, string> = {}): Promise<TestServer> {
  // Rate limits off unless a test asks for them: suites fire requests faster than any client would.
  const config = loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_PER_KEY: '0', RATE_LIMIT_PER_IP: '0', WS_MAX_CONNECTIONS_PER_KEY: '0', ...env });
  const app = await createApp({ config, db, log: createLogger(config.logLevel) });
  const port = await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, close: () => app.stop() };
}

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string }; path?: string[] }[];
}

export async function gql<T = any>(url: string, key: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** The first error's code, or 'none'. */
export function codeOf(res: GqlResponse): string {
  return res.errors?.[0]?.extensions?.code ?? 'none';
}

let counter = 0;
/** A user of `role` with a fresh API key, made through the services as an admin would. */
export async function createUserWithKey(server: TestServer, role: Role): Promise<{ userId: string; key: string }> {
  const services = server.app.services;
  const system = { actor: { userId: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' as const, apiKeyId: null }, meta: { requestId: 'test' } };
  const user = await services.identity.createUser(system, { email: `u${Date.now()}-${++counter}@test.local`, role });
  const key = await services.identity.createApiKey(system, { name: 'test', userId: user.id });
  return { userId: user.id, key: key.key };
}

export function wsClient(wsUrl: string, key: string | null, retryAttempts = 0): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts,
    lazy: true,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
  });
}
