import http from 'node:http';
import { createHmac, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { ingest, livePortfolio, until } from '../support/live';
import { openDatabase, type Database } from '../../src/db/client';
import { D } from '../../src/domain/decimal';
import { AlertService } from '../../src/services/alerts';
import { WebhookService, WebhookWorker, validateWebhookUrl, type ClaimedDelivery } from '../../src/services/webhooks';

const SECRET = 'test-webhook-secret';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A receiver on loopback. /ok answers 204; /flaky answers 500, then never answers (the
 * attempt times out), then 200, per idempotency key; /down always 503; /slow 200 after 30 ms.
 */
async function startReceiver() {
  const got: Received[] = [];
  const seen = new Map<string, number>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      got.push({ path, headers: req.headers, body, at: Date.now() });
      const key = `${path}:${String(req.headers['idempotency-key'])}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (path === '/ok') return res.writeHead(204).end();
      if (path === '/down') return res.writeHead(503).end('down');
      if (path === '/slow') return void setTimeout(() => res.writeHead(200).end('ok'), 30);
      if (path === '/flaky') {
        if (n === 1) return res.writeHead(500).end('boom');
        if (n === 2) return void hanging.add(res);
        return res.writeHead(200).end('ok');
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    got,
    on: (path: string) => got.filter((g) => g.path === path),
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const EVENTS = `query($id: ID!) { portfolio(id: $id) { alertEvents(first: 50) { nodes { id ruleId deliveries { id status attempts lastError nextAttemptAt deliveredAt createdAt } } } } }`;

describeEachEngine('alert webhooks', (db, engine) => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin: string;
  let owner: { userId: string; key: string };
  let pid: string;

  const createRule = (threshold: string, webhookUrl: string | null) =>
    gql(server.url, owner.key, `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id webhookUrl } }`, { i: { portfolioId: pid, type: 'NAV_ABOVE', threshold, webhookUrl } });
  const deliveriesOfRule = (ruleId: string) => db().prisma.alertDelivery.findMany({ where: { event: { ruleId } }, orderBy: { createdAt: 'asc' } });
  const settled = (ruleId: string, status: 'DELIVERED' | 'DEAD', timeoutMs = 10_000) =>
    until(async () => (await deliveriesOfRule(ruleId)).some((d) => d.status === status), timeoutMs, `a ${status} delivery`);

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer(db(), {
      LOG_LEVEL: process.env.TEST_LOG ?? 'silent',
      REALTIME_COALESCE_MS: '20',
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_MAX_ATTEMPTS: '4',
      WEBHOOK_BACKOFF_MS: '100',
      WEBHOOK_TIMEOUT_MS: '400',
      WEBHOOK_POLL_MS: '50',
    });
    admin = (await createUserWithKey(server, 'ADMIN')).key;
    owner = await createUserWithKey(server, 'USER');
    // 5,000 cash + 100 × HOOK: NAV = 5,000 + 100 × price.
    pid = await livePortfolio(server.url, admin, owner.key, `HOOK${engine === 'postgres' ? 'P' : 'L'}`, { cash: '10000', qty: '100', price: '50' });
    await ingest(server, admin, `HOOK${engine === 'postgres' ? 'P' : 'L'}`, '50', new Date(Date.now() - 60_000));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });
  const sym = () => `HOOK${engine === 'postgres' ? 'P' : 'L'}`;

  test('a firing is delivered once: signed JSON with the event id as idempotency key, listed on the event', async () => {
    const rule = await createRule('20000', `${receiver.url}/ok`);
    expect(rule.errors).toBeUndefined();
    const ruleId = rule.data.createAlertRule.id as string;
    await new Promise((r) => setTimeout(r, 200));
    await ingest(server, admin, sym(), '160'); // NAV 21,000
    await settled(ruleId, 'DELIVERED');
    await new Promise((r) => setTimeout(r, 300)); // polls keep running: still one request
    const reqs = receiver.on('/ok');
    expect(reqs).toHaveLength(1);
    const [req] = reqs;
    const event = await db().prisma.alertEvent.findFirstOrThrow({ where: { ruleId } });
    const ts = String(req!.headers['x-foliograph-timestamp']);
    expect(req!.headers['x-foliograph-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(`${ts}.${req!.body}`).digest('hex')}`);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(30);
    expect(req!.headers['idempotency-key']).toBe(event.id);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['x-foliograph-attempt']).toBe('1');
    expect(JSON.parse(req!.body)).toEqual({
      eventId: event.id,
      ruleId,
      portfolioId: pid,
      type: 'NAV_ABOVE',
      value: '21000',
      message: event.message,
      triggeredAt: event.triggeredAt.toISOString(),
    });
    const list = await gql(server.url, owner.key, EVENTS, { id: pid });
    const node = list.data.portfolio.alertEvents.nodes.find((n: { id: string }) => n.id === event.id);
    expect(node.deliveries).toHaveLength(1);
    expect(node.deliveries[0]).toMatchObject({ status: 'DELIVERED', attempts: 1, lastError: null, nextAttemptAt: null });
    expect(node.deliveries[0].deliveredAt).not.toBeNull();
    // A rule without a URL: an event, no delivery.
    const plain = await createRule('20500', null);
    expect(plain.errors).toBeUndefined();
  });

  test('a receiver that fails twice (500, then a timeout) gets the third attempt: DELIVERED after 3, with backoff', async () => {
    const rule = await createRule('25000', `${receiver.url}/flaky`);
    const ruleId = rule.data.createAlertRule.id as string;
    await new Promise((r) => setTimeout(r, 200));
    await ingest(server, admin, sym(), '260'); // NAV 31,000
    await settled(ruleId, 'DELIVERED');
    const reqs = receiver.on('/flaky');
    expect(reqs.map((r) => r.headers['x-foliograph-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(reqs.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(new Set(reqs.map((r) => r.body)).size).toBe(1);
    // Backoff after attempt n is 100 × 2^(n−1) ms jittered into [½, 1]: ≥ 50, then the 400 ms timeout + ≥ 100.
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(50);
    expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(400 + 100);
    const [d] = await deliveriesOfRule(ruleId);
    expect(d).toMatchObject({ status: 'DELIVERED', attempts: 3, nextAttemptAt: null });
    expect(d!.lastError).toMatch(/timed out after 400 ms/);
    // One alert_retries row per failed attempt, each with when the next one was due; no dead letter.
    const retries = await db().prisma.alertRetry.findMany({ where: { deliveryId: d!.id }, orderBy: { attempt: 'asc' } });
    expect(retries.map((r) => [r.attempt, r.httpStatus, r.error])).toEqual([
      [1, 500, 'HTTP 500 Internal Server Error'],
      [2, null, 'timed out after 400 ms'],
    ]);
    for (const r of retries) expect(r.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(r.attemptedAt.getTime() + 50 * 2 ** (r.attempt - 1) - 5);
    // Each next attempt came no earlier than its retry row said.
    expect(reqs[1]!.at).toBeGreaterThanOrEqual(retries[0]!.nextAttemptAt!.getTime() - 5);
    expect(reqs[2]!.at).toBeGreaterThanOrEqual(retries[1]!.nextAttemptAt!.getTime() - 5);
    expect(await db().prisma.alertDeadLetter.count({ where: { deliveryId: d!.id } })).toBe(0);
  });

  test('a receiver that always fails: DEAD after WEBHOOK_MAX_ATTEMPTS, last error kept, audited, not retried', async () => {
    const rule = await createRule('35000', `${receiver.url}/down`);
    const ruleId = rule.data.createAlertRule.id as string;
    await new Promise((r) => setTimeout(r, 200));
    await ingest(server, admin, sym(), '400'); // NAV 45,000
    await settled(ruleId, 'DEAD');
    await new Promise((r) => setTimeout(r, 500));
    const reqs = receiver.on('/down');
    expect(reqs.map((r) => r.headers['x-foliograph-attempt'])).toEqual(['1', '2', '3', '4']);
    for (let i = 1; i < reqs.length; i++) expect(reqs[i]!.at - reqs[i - 1]!.at).toBeGreaterThanOrEqual(50 * 2 ** (i - 1));
    const [d] = await deliveriesOfRule(ruleId);
    expect(d).toMatchObject({ status: 'DEAD', attempts: 4, nextAttemptAt: null, deliveredAt: null, lastError: 'HTTP 503 Service Unavailable' });
    expect(await db().prisma.auditLog.count({ where: { action: 'webhook.dead', entityId: d!.id } })).toBe(1);
    // Four retry rows (the last with no next attempt) and one dead letter holding the payload the receiver got.
    const retries = await db().prisma.alertRetry.findMany({ where: { deliveryId: d!.id }, orderBy: { attempt: 'asc' } });
    expect(retries.map((r) => [r.attempt, r.httpStatus, r.error, r.nextAttemptAt === null])).toEqual([1, 2, 3, 4].map((n) => [n, 503, 'HTTP 503 Service Unavailable', n === 4]));
    const dead = await db().prisma.alertDeadLetter.findMany({ where: { deliveryId: d!.id } });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ eventId: d!.eventId, url: `${receiver.url}/down`, attempts: 4, lastError: 'HTTP 503 Service Unavailable' });
    expect(dead[0]!.payload).toEqual(JSON.parse(reqs[3]!.body));
    expect(dead[0]!.deadAt.getTime()).toBeGreaterThanOrEqual(retries[3]!.attemptedAt.getTime());
    const list = await gql(server.url, owner.key, EVENTS, { id: pid });
    const node = list.data.portfolio.alertEvents.nodes.find((n: { ruleId: string }) => n.ruleId === ruleId);
    expect(node.deliveries).toEqual([expect.objectContaining({ status: 'DEAD', attempts: 4, lastError: 'HTTP 503 Service Unavailable' })]);
  });

  test('the same firing recorded twice (two processes) makes one event and one delivery', async () => {
    const rule = await createRule('99999999', `${receiver.url}/ok`);
    const ruleId = rule.data.createAlertRule.id as string;
    const f = { ruleId, portfolioId: pid, type: 'NAV_ABOVE' as const, value: '1', message: 'm', dedupeKey: `${ruleId}:dup`, at: new Date() };
    const ids = await Promise.all([server.app.services.alerts.recordFiring(f), server.app.services.alerts.recordFiring(f)]);
    expect(ids.filter(Boolean)).toHaveLength(1);
    expect(await db().prisma.alertDelivery.count({ where: { event: { ruleId } } })).toBe(1);
    await settled(ruleId, 'DELIVERED');
  });

  test('a last attempt whose worker never reported back is buried once its lease is over: DEAD, its retry row and dead letter', async () => {
    const rule = await createRule('99999999', `${receiver.url}/ok`);
    const ruleId = rule.data.createAlertRule.id as string;
    const eventId = randomUUID();
    const deliveryId = randomUUID();
    // As a worker leaves it after claiming attempt 4 of 4 and dying: the lease (next_attempt_at) in the past.
    await db().prisma.$transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO alert_events (id, rule_id, portfolio_id, type, value, message, dedupe_key) VALUES (${eventId}::uuid, ${ruleId}::uuid, ${pid}::uuid, 'NAV_ABOVE', 7.5, 'm', ${`${ruleId}:abandoned`})`;
      await tx.$executeRaw`INSERT INTO alert_deliveries (id, event_id, url, status, attempts, next_attempt_at, last_error) VALUES (${deliveryId}::uuid, ${eventId}::uuid, ${`${receiver.url}/ok`}, 'FAILED', 4, now() - interval '1 second', 'HTTP 503')`;
    });
    await until(async () => (await db().prisma.alertDelivery.findUniqueOrThrow({ where: { id: deliveryId } })).status === 'DEAD', 10_000, 'buried');
    expect(await server.app.services.webhooks.buryAbandoned()).toBe(0); // once
    const d = await db().prisma.alertDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(d.lastError).toBe('HTTP 503; no outcome of the last attempt (worker stopped)');
    const retries = await db().prisma.alertRetry.findMany({ where: { deliveryId } });
    expect(retries).toEqual([expect.objectContaining({ attempt: 4, httpStatus: null, nextAttemptAt: null, error: 'no outcome of the last attempt (worker stopped)' })]);
    const dead = await db().prisma.alertDeadLetter.findUniqueOrThrow({ where: { deliveryId } });
    expect(dead).toMatchObject({ eventId, attempts: 4, lastError: 'no outcome of the last attempt (worker stopped)' });
    const event = await db().prisma.alertEvent.findUniqueOrThrow({ where: { id: eventId } });
    expect(dead.payload).toEqual({ eventId, ruleId, portfolioId: pid, type: 'NAV_ABOVE', value: '7.5', message: 'm', triggeredAt: event.triggeredAt.toISOString() });
    expect(receiver.got.filter((g) => g.headers['idempotency-key'] === eventId)).toHaveLength(0);
  });

  test('a bad webhookUrl is refused with BAD_USER_INPUT and nothing written', async () => {
    const rulesBefore = await db().prisma.alertRule.count({ where: { portfolioId: pid } });
    const auditBefore = await db().prisma.auditLog.count({ where: { portfolioId: pid } });
    for (const bad of ['ftp://example.com/hook', 'not a url', '/relative/path', 'http://user:pw@example.com/hook', 'https://:token@example.com/', `https://example.com/${'x'.repeat(2000)}`, 'javascript:alert(1)']) {
      const r = await createRule('1000', bad);
      expect([bad, codeOf(r)]).toEqual([bad, 'BAD_USER_INPUT']);
    }
    // WEBHOOK_ALLOW_PRIVATE unset (the default): loopback, private and link-local receivers are refused.
    const strict = new AlertService(db().prisma, server.app.bus);
    const ctx = { actor: { userId: owner.userId, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'test' } };
    for (const priv of [`${receiver.url}/ok`, 'http://localhost:8080/', 'http://10.1.2.3/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://0.0.0.0/']) {
      await expect(strict.createRule(ctx, { portfolioId: pid, type: 'NAV_ABOVE', threshold: new D(1000), webhookUrl: priv })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    expect(await db().prisma.alertRule.count({ where: { portfolioId: pid } })).toBe(rulesBefore);
    expect(await db().prisma.auditLog.count({ where: { portfolioId: pid } })).toBe(auditBefore);
    expect(validateWebhookUrl('https://hooks.example.com/a?b=1', { allowPrivate: false })).toBe('https://hooks.example.com/a?b=1');
    expect(validateWebhookUrl('http://127.0.0.1:9/x', { allowPrivate: true })).toBe('http://127.0.0.1:9/x');
  });

  if (engine === 'postgres') {
    test('workers racing over one PostgreSQL database send each delivery once', async () => {
      const rule = await createRule('99999999', `${receiver.url}/slow`);
      const ruleId = rule.data.createAlertRule.id as string;
      // 40 firings due at once, written as recordFiring writes them.
      const firings = Array.from({ length: 40 }, (_, i) => ({ ruleId, portfolioId: pid, type: 'NAV_ABOVE' as const, value: String(i), message: `m${i}`, dedupeKey: `${ruleId}:race:${i}` }));
      // Two more "processes": each its own pool and worker, beside the test server's own worker.
      const extra: Database[] = [await openDatabase({ url: db().url!, poolSize: 4 }), await openDatabase({ url: db().url!, poolSize: 4 })];
      const claims: number[] = [];
      const workers = extra.map((d, i) => {
        claims[i] = 0;
        const svc = new (class extends WebhookService {
          override async claimDue(limit: number): Promise<ClaimedDelivery[]> {
            const r = await super.claimDue(limit);
            claims[i] = (claims[i] ?? 0) + r.length;
            return r;
          }
        })(d.prisma, { secret: SECRET, maxAttempts: 4, backoffMs: 100, timeoutMs: 2000, pollMs: 20, allowPrivate: true, batchSize: 5 });
        return new WebhookWorker(svc, null, quiet);
      });
      try {
        await db().prisma.$transaction(async (tx) => {
          for (const f of firings) {
            const id = randomUUID();
            await tx.$executeRaw`INSERT INTO alert_events (id, rule_id, portfolio_id, type, value, message, dedupe_key) VALUES (${id}::uuid, ${ruleId}::uuid, ${pid}::uuid, 'NAV_ABOVE', ${f.value}::numeric, ${f.message}, ${f.dedupeKey})`;
            await WebhookService.enqueue(tx, id, ruleId);
          }
        });
        for (const w of workers) w.start();
        await until(async () => (await db().prisma.alertDelivery.count({ where: { event: { ruleId }, status: 'DELIVERED' } })) === 40, 20_000, '40 deliveries');
        await new Promise((r) => setTimeout(r, 300));
        const reqs = receiver.on('/slow');
        const perKey = new Map<string, number>();
        for (const r of reqs) perKey.set(String(r.headers['idempotency-key']), (perKey.get(String(r.headers['idempotency-key'])) ?? 0) + 1);
        expect(perKey.size).toBe(40);
        expect([...perKey.values()].every((n) => n === 1)).toBe(true);
        expect(reqs).toHaveLength(40);
        const rows = await db().prisma.alertDelivery.findMany({ where: { event: { ruleId } } });
        expect(rows.every((d) => d.attempts === 1 && d.status === 'DELIVERED')).toBe(true);
        // The extra workers took part (the server's own worker may have taken the rest).
        expect(claims[0]! + claims[1]!).toBeGreaterThan(0);
      } finally {
        for (const w of workers) await w.stop();
        for (const d of extra) await d.close();
      }
    }, 40_000);
  }
});
