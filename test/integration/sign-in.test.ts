import type { Client } from 'graphql-ws';
import { describeEachEngine } from '../support/db';
import { codeOf, gql, startTestServer, wsClient, type TestServer } from '../support/server';

const LOGIN = 'mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token expiresAt user { email role } } }';
const ADMIN = { userId: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' as const, apiKeyId: null };

describeEachEngine('sign-in', (db) => {
  let server: TestServer;
  let n = 0;
  const clients: Client[] = [];

  async function userWithPassword(password = 'correct horse battery') {
    const email = `signin${Date.now()}-${++n}@test.local`;
    const user = await server.app.services.identity.createUser({ actor: ADMIN, meta: { requestId: 't' } }, { email, role: 'USER', password });
    return { email, password, userId: user.id };
  }

  beforeAll(async () => {
    server = await startTestServer(db(), { LOGIN_MAX_ATTEMPTS: '3', LOGIN_LOCKOUT_MINUTES: '15', SESSION_TTL_MINUTES: '30' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.close();
  });

  test('login returns a short-lived token that works over HTTP and WebSocket; the hash is stored, not the token', async () => {
    const u = await userWithPassword();
    const res = await gql(server.url, null, LOGIN, { email: u.email.toUpperCase(), password: u.password });
    expect(res.errors).toBeUndefined();
    const { token, expiresAt } = res.data.login;
    expect(token).toMatch(/^fgs_/);
    const ttl = new Date(expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    const me = await gql(server.url, token, '{ me { id } }');
    expect(me.data).toEqual({ me: { id: u.userId } });
    const sessions = await db().prisma.session.findMany({ where: { userId: u.userId } });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.tokenHash).not.toContain(token);
    expect(await db().prisma.auditLog.count({ where: { action: 'session.create', entityId: sessions[0]!.id } })).toBe(1);

    const client = wsClient(server.wsUrl, token);
    clients.push(client);
    const viaWs = await new Promise<any>((resolve, reject) => {
      let r: any;
      client.subscribe({ query: '{ me { id } }' }, { next: (x) => (r = x), error: reject, complete: () => resolve(r) });
    });
    expect(viaWs.data).toEqual({ me: { id: u.userId } });
  });

  test('unknown email, wrong password and no password all read the same, each a security event', async () => {
    const u = await userWithPassword();
    const unknown = await gql(server.url, null, LOGIN, { email: `nobody${n}@test.local`, password: 'whatever-it-is' });
    const wrong = await gql(server.url, null, LOGIN, { email: u.email, password: 'not the password' });
    expect(codeOf(unknown)).toBe('UNAUTHENTICATED');
    expect(wrong.errors).toEqual(unknown.errors);
    expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.login_failed', userId: u.userId } })).toBe(1);
    expect(await db().prisma.user.findUnique({ where: { id: u.userId } })).toMatchObject({ failedLoginAttempts: 1 });
  });

  test('LOGIN_MAX_ATTEMPTS failures lock the account, even against the right password; a success resets the count', async () => {
    const u = await userWithPassword();
    await gql(server.url, null, LOGIN, { email: u.email, password: 'wrong one' });
    expect(codeOf(await gql(server.url, null, LOGIN, u))).toBe('none');
    expect((await db().prisma.user.findUnique({ where: { id: u.userId } }))!.failedLoginAttempts).toBe(0);
    for (let i = 0; i < 3; i++) expect(codeOf(await gql(server.url, null, LOGIN, { email: u.email, password: `guess ${i}` }))).toBe('UNAUTHENTICATED');
    const row = await db().prisma.user.findUnique({ where: { id: u.userId } });
    expect(row!.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.lockout', userId: u.userId } })).toBe(1);
    const locked = await gql(server.url, null, LOGIN, u);
    expect(codeOf(locked)).toBe('UNAUTHENTICATED');
    expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.login_failed', userId: u.userId, detail: { path: ['reason'], equals: 'locked' } } })).toBe(1);
    // The lock runs out at locked_until.
    await db().prisma.user.update({ where: { id: u.userId }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    expect(codeOf(await gql(server.url, null, LOGIN, u))).toBe('none');
  });

  test('logout ends the session: the token is refused afterwards; with an API key it returns false', async () => {
    const u = await userWithPassword();
    const { token } = (await gql(server.url, null, LOGIN, u)).data.login;
    expect((await gql(server.url, token, 'mutation { logout }')).data).toEqual({ logout: true });
    const after = await gql(server.url, token, '{ me { id } }');
    expect(after.status).toBe(401);
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
    expect(await db().prisma.securityEvent.count({ where: { kind: 'auth.revoked_session', userId: u.userId } })).toBe(1);
    const key = await server.app.services.identity.createApiKey({ actor: ADMIN, meta: { requestId: 't' } }, { name: 'k', userId: u.userId });
    expect((await gql(server.url, key.key, 'mutation { logout }')).data).toEqual({ logout: false });
  });

  test('an expired session token is refused', async () => {
    const u = await userWithPassword();
    const { token } = (await gql(server.url, null, LOGIN, u)).data.login;
    await db().prisma.session.updateMany({ where: { userId: u.userId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(codeOf(await gql(server.url, token, '{ me { id } }'))).toBe('UNAUTHENTICATED');
  });
});
