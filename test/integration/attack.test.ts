import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, wsClient, type TestServer } from '../support/server';
import { createPortfolio, ensureSecurities, recordOk, SYSTEM } from '../support/ledger';

/*
 * The attack suite: what the server refuses. Every operation that takes an id is found by
 * reading schema.graphql at test time, so an operation added later is attacked too.
 */

const schema = buildSchema(readFileSync(path.resolve(__dirname, '../../schema.graphql'), 'utf8'));

type Kind = string; // the GraphQL type an id names: Portfolio, Order, ApiKey, User…

interface Target {
  root: 'query' | 'mutation' | 'subscription';
  field: GraphQLField<unknown, unknown>;
}

function hasId(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (isScalarType(named)) return named.name === 'ID';
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some((f) => hasId(f.type, seen));
}

function targets(): Target[] {
  const out: Target[] = [];
  const roots: [Target['root'], GraphQLObjectType | null | undefined][] = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ];
  for (const [root, type] of roots) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) if (field.args.some((a) => hasId(a.type))) out.push({ root, field: field as GraphQLField<unknown, unknown> });
  }
  return out;
}

/** Which kind of row an ID argument names, from its name and the operation's return type. */
function kindOf(argName: string, field: GraphQLField<unknown, unknown>): Kind {
  const byName: Record<string, Kind> = { portfolioId: 'Portfolio', orderId: 'Order', userId: 'User', entityId: 'Portfolio', ruleId: 'AlertRule', apiKeyId: 'ApiKey' };
  if (byName[argName]) return byName[argName];
  if (argName === 'id') return getNamedType(field.type).name;
  return argName.endsWith('Id') ? argName[0]!.toUpperCase() + argName.slice(1, -2) : 'Portfolio';
}

const SAMPLE: Record<string, unknown> = { Int: 1, Float: 1, Boolean: false, Decimal: '1', Date: '2024-01-02', DateTime: '2024-01-02T00:00:00.000Z' };

/** A value for `type` with every required field filled and every ID set by `idFor`. */
function valueFor(type: GraphQLInputType, name: string, idFor: (name: string) => string, depth = 0): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [valueFor(inner.ofType as GraphQLInputType, name, idFor, depth)];
  if (isEnumType(inner)) return inner.getValues()[0]!.value;
  if (isScalarType(inner)) {
    if (inner.name === 'ID') return idFor(name);
    if (inner.name === 'String') return /symbol/i.test(name) ? 'ATK' : /currency|base|quote/i.test(name) ? 'USD' : 'attack';
    return SAMPLE[inner.name] ?? 'attack';
  }
  if (isInputObjectType(inner) && depth < 4) {
    const obj: Record<string, unknown> = {};
    for (const f of Object.values(inner.getFields())) {
      if (isNonNullType(f.type) || hasId(f.type)) obj[f.name] = valueFor(f.type, f.name, idFor, depth + 1);
    }
    return obj;
  }
  return null;
}

function operation(t: Target, idFor: (argName: string) => string): { query: string; variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {};
  const defs: string[] = [];
  const args: string[] = [];
  for (const arg of t.field.args) {
    if (!isNonNullType(arg.type) && !hasId(arg.type)) continue;
    variables[arg.name] = valueFor(arg.type, arg.name, idFor);
    defs.push(`$${arg.name}: ${arg.type.toString()}`);
    args.push(`${arg.name}: $${arg.name}`);
  }
  const selection = isLeafType(getNamedType(t.field.type)) ? '' : ' { __typename }';
  return { query: `${t.root}${defs.length ? `(${defs.join(', ')})` : ''} { ${t.field.name}${args.length ? `(${args.join(', ')})` : ''}${selection} }`, variables };
}

/** Every table's row count except security_events (refusals are recorded there, by design). */
async function rowCounts(db: { prisma: { $queryRawUnsafe<T>(sql: string): Promise<T> } }): Promise<Record<string, number>> {
  const tables = await db.prisma.$queryRawUnsafe<{ t: string }[]>(
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('security_events', '_prisma_migrations') ORDER BY 1",
  );
  const rows = await db.prisma.$queryRawUnsafe<{ t: string; n: number }[]>(tables.map(({ t }) => `SELECT '${t}' AS t, count(*)::int AS n FROM "${t}"`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

/**
 * A socket that stays open until the server closes it (lazy: false), so that its close code
 * can be seen. Wait for it with `connected`, not with an operation: when an operation ends the
 * client closes an idle socket, and keeping it with lazyCloseTimeout leaves a timer that holds
 * jest open for as long after the run.
 */
function eager(url: string, key: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${key}` }, onNonLazyError: () => undefined });
}

/** Resolves once the server acknowledged the socket's connection_init (its credential was accepted). */
const connected = (client: Client) => new Promise<void>((resolve) => client.on('connected', () => resolve()));

function closeCode(client: Client): Promise<{ code: number; at: number }> {
  return new Promise((resolve) => client.on('closed', (event) => resolve({ code: (event as { code: number }).code, at: Date.now() })));
}

/** The first result (or error) of a subscription, or 'silent' when nothing came within `ms`. */
function firstOf(client: Client, query: string, variables: Record<string, unknown>, ms = 800): Promise<unknown> {
  return new Promise((resolve) => {
    let dispose = () => undefined as void;
    const timer = setTimeout(() => {
      dispose();
      resolve('silent');
    }, ms);
    dispose = client.subscribe(
      { query, variables },
      {
        next: (r) => {
          clearTimeout(timer);
          dispose();
          resolve(r);
        },
        error: (e) => {
          clearTimeout(timer);
          resolve(Array.isArray(e) ? { errors: e } : { closed: (e as { code?: number }).code ?? String(e) });
        },
        complete: () => undefined,
      },
    );
  });
}

describeEachEngine('attack suite', (db) => {
  let server: TestServer;
  let victim: { userId: string; key: string };
  const ids: Record<Kind, string> = {};
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startTestServer(db(), { QUERY_MAX_DEPTH: '4', LOGIN_MAX_ATTEMPTS: '3' });
    victim = await createUserWithKey(server, 'USER');
    await ensureSecurities(server, [['ATK', 'USD']]);
    ids.User = victim.userId;
    ids.Portfolio = await createPortfolio(server.url, victim.key, 'Victim');
    await recordOk(server.url, victim.key, { portfolioId: ids.Portfolio, type: 'DEPOSIT', date: '2024-01-02', amount: '10000', currency: 'USD' });
    ids.Transaction = (await recordOk(server.url, victim.key, { portfolioId: ids.Portfolio, type: 'BUY', date: '2024-01-03', symbol: 'ATK', quantity: '10', price: '100' })).id;
    const order = await gql(server.url, victim.key, 'mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }', {
      i: { portfolioId: ids.Portfolio, symbol: 'ATK', side: 'BUY', type: 'LIMIT', quantity: '1', limitPrice: '1' },
    });
    if (order.data?.placeOrder) ids.Order = order.data.placeOrder.id;
    ids.ApiKey = (await db().prisma.apiKey.findFirstOrThrow({ where: { userId: victim.userId } })).id;
    const lot = await db().prisma.lot.findFirst({ where: { portfolioId: ids.Portfolio } });
    if (lot) ids.Lot = lot.id;
    if (schema.getMutationType()?.getFields().createAlertRule) {
      const rule = await gql(server.url, victim.key, 'mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }', { i: { portfolioId: ids.Portfolio, type: 'NAV_BELOW', threshold: '1' } });
      if (rule.data?.createAlertRule) ids.AlertRule = rule.data.createAlertRule.id;
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.close();
  });

  test('the schema has operations that take ids, and the suite attacks every one', () => {
    const names = targets().map((t) => t.field.name);
    expect(names).toEqual(expect.arrayContaining(['portfolio', 'updatePortfolio', 'recordTransaction', 'revokeApiKey', 'sharePortfolio']));
  });

  test.each(['USER', 'VIEWER'] as const)("as a %s: every operation taking an id reads another owner's id exactly like a missing one, and writes nothing", async (role) => {
    const attacker = await createUserWithKey(server, role);
    const victimIds = Object.values(ids);
    const failures: string[] = [];
    const outcomes: string[] = [];
    for (const t of targets()) {
      const missing = new Map<string, string>();
      const foreignOp = operation(t, (arg) => ids[kindOf(arg, t.field)] ?? ids.Portfolio!);
      const missingOp = operation(t, (arg) => {
        const kind = kindOf(arg, t.field);
        if (!missing.has(kind)) missing.set(kind, randomUUID());
        return missing.get(kind)!;
      });
      const normalize = (r: unknown) => {
        let s = JSON.stringify(r);
        for (const id of [...victimIds, ...missing.values()]) s = s.split(id).join('<id>');
        return JSON.parse(s) as unknown;
      };
      const before = await rowCounts(db());
      let foreign: unknown;
      let absent: unknown;
      if (t.root === 'subscription') {
        const client = wsClient(server.wsUrl, attacker.key);
        clients.push(client);
        foreign = await firstOf(client, foreignOp.query, foreignOp.variables);
        absent = await firstOf(client, missingOp.query, missingOp.variables);
      } else {
        const f = await gql(server.url, attacker.key, foreignOp.query, foreignOp.variables);
        const a = await gql(server.url, attacker.key, missingOp.query, missingOp.variables);
        foreign = { status: f.status, data: f.data, errors: f.errors };
        absent = { status: a.status, data: a.data, errors: a.errors };
        // The victim's data never appears in the answer.
        if (JSON.stringify(f.data ?? null).includes(ids.Portfolio!)) failures.push(`${t.field.name}: answer names the victim's portfolio`);
      }
      const after = await rowCounts(db());
      const outcome = JSON.stringify(normalize(foreign)).match(/"code":"(\w+)"/)?.[1] ?? 'data';
      outcomes.push(outcome);
      if (outcome === 'GRAPHQL_VALIDATION_FAILED' || outcome === 'INTERNAL_SERVER_ERROR') failures.push(`${t.field.name}: the attack did not reach the resolver (${outcome}): teach valueFor this argument`);
      if (JSON.stringify(normalize(foreign)) !== JSON.stringify(normalize(absent))) {
        failures.push(`${t.root} ${t.field.name}: foreign ${JSON.stringify(normalize(foreign))} vs missing ${JSON.stringify(normalize(absent))}`);
      }
      for (const [table, n] of Object.entries(after)) if (before[table] !== n) failures.push(`${t.field.name}: ${table} went from ${before[table]} to ${n}`);
    }
    expect(failures).toEqual([]);
    // Most attacks end as the resolver's refusal, not an early input error.
    expect(outcomes.filter((o) => o === 'NOT_FOUND' || o === 'data' || o === 'FORBIDDEN').length).toBeGreaterThan(outcomes.length / 2);
  }, 120_000);

  test('deep and wide documents are refused before execution: nothing is written', async () => {
    const before = await rowCounts(db());
    const deep = await gql(server.url, victim.key, 'mutation { createPortfolio(input: { name: "Deep", baseCurrency: "USD" }) { transactions { edges { node { id } } } } }');
    expect(codeOf(deep)).toBe('BAD_USER_INPUT');
    const wide = await gql(server.url, victim.key, `mutation { ${Array.from({ length: 31 }, (_, i) => `p${i}: createPortfolio(input: { name: "Wide${i}", baseCurrency: "USD" }) { id }`).join(' ')} }`);
    expect(codeOf(wide)).toBe('BAD_USER_INPUT');
    const huge = await gql(server.url, victim.key, 'query { portfolios(first: 500) { nodes { transactions(first: 500) { nodes { id } } } } }');
    expect(codeOf(huge)).toBe('BAD_USER_INPUT');
    expect(huge.data).toBeUndefined();
    expect(await rowCounts(db())).toEqual(before);
  });

  test('a login brute force is locked out: the right password is refused afterwards', async () => {
    const email = `brute${Date.now()}@test.local`;
    const user = await server.app.services.identity.createUser(SYSTEM, { email, role: 'USER', password: 'the right password' });
    const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';
    for (let i = 0; i < 10; i++) expect(codeOf(await gql(server.url, null, LOGIN, { e: email, p: `guess-${i}` }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await gql(server.url, null, LOGIN, { e: email, p: 'the right password' }))).toBe('UNAUTHENTICATED');
    expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.lockout', userId: user.id } })).toBe(1);
    expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.login_failed', userId: user.id } })).toBe(11);
  });

  test('a token after logout is refused over HTTP and its open socket is closed with 4403', async () => {
    const email = `logout${Date.now()}@test.local`;
    await server.app.services.identity.createUser(SYSTEM, { email, role: 'USER', password: 'the right password' });
    const token = (await gql(server.url, null, 'mutation($e: String!) { login(email: $e, password: "the right password") { token } }', { e: email })).data.login.token as string;
    const socket = eager(server.wsUrl, token);
    clients.push(socket);
    const closed = closeCode(socket);
    await connected(socket);
    const loggedOutAt = Date.now();
    expect((await gql(server.url, token, 'mutation { logout }')).data).toEqual({ logout: true });
    const after = await gql(server.url, token, '{ me { id } }');
    expect(after.status).toBe(401);
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
    const { code, at } = await closed;
    expect(code).toBe(4403);
    expect(at - loggedOutAt).toBeLessThan(1000);
  });

  test('a key revoked mid-subscription: the socket is closed with 4403 within a second', async () => {
    const owner = await createUserWithKey(server, 'USER');
    const other = await server.app.services.identity.createApiKey({ ...SYSTEM, actor: { userId: owner.userId, role: 'USER', apiKeyId: null } }, { name: 'second' });
    const portfolioId = await createPortfolio(server.url, owner.key, 'Watched');
    const socket = eager(server.wsUrl, owner.key);
    clients.push(socket);
    const closed = closeCode(socket);
    const sub = schema.getSubscriptionType()?.getFields();
    if (sub?.navUpdated) {
      socket.subscribe({ query: 'subscription($p: ID!) { navUpdated(portfolioId: $p) { nav } }', variables: { p: portfolioId } }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    }
    await connected(socket);
    const keyId = (await db().prisma.apiKey.findFirstOrThrow({ where: { userId: owner.userId, name: 'test' } })).id;
    const revokedAt = Date.now();
    const res = await gql(server.url, other.key, 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: keyId });
    expect(res.errors).toBeUndefined();
    const { code, at } = await closed;
    expect(code).toBe(4403);
    expect(at - revokedAt).toBeLessThan(1000);
  });

  test('a key revoked where the bus does not reach (another process without Redis) is still dropped by the periodic re-check', async () => {
    const owner = await createUserWithKey(server, 'USER');
    const socket = eager(server.wsUrl, owner.key);
    clients.push(socket);
    const closed = closeCode(socket);
    await connected(socket);
    // Straight in the database: no event is published.
    const revokedAt = Date.now();
    await db().prisma.apiKey.updateMany({ where: { userId: owner.userId }, data: { revokedAt: new Date() } });
    const { code, at } = await closed;
    expect(code).toBe(4403);
    expect(at - revokedAt).toBeLessThan(2500);
  });
});
