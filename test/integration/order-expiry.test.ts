import { D } from '../../src/domain/decimal';
import { lastDayCloseAtOrBefore, parseDayClose } from '../../src/domain/trading-day';
import { openDatabase } from '../../src/db/client';
import { withoutPrincipal } from '../../src/db/principal';
import { END_OF_UTC_DAY, OrderExpiryService } from '../../src/services/order-expiry';
import { PaperBroker } from '../../src/services/paper-broker';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { createPortfolio, ensureSecurities, footprint, recordOk, SYSTEM } from '../support/ledger';

/*
 * DAY orders expire at the end of their trading day: a sweep (run with no principal, as the
 * server's timer does, so on PostgreSQL it sees rows only because it says it runs for the
 * system) cancels them once, with audit entries and orderUpdated events, across processes and
 * against racing fills; neither recordFill nor the paper broker executes an order whose day has
 * ended, also before the sweep.
 */

const DAY = 86_400_000;

describeEachEngine('DAY order expiry', (db, engine) => {
  let server: TestServer;
  let url: string;
  let key: string;
  let userId: string;
  let pid: string;

  beforeAll(async () => {
    // The server's own sweep would race the ones the tests run: hourly here.
    server = await startTestServer(db(), { ORDER_EXPIRY_POLL_MS: '3600000' });
    url = server.url;
    ({ key, userId } = await createUserWithKey(server, 'USER'));
    await ensureSecurities(server, [['EXPY', 'USD']]);
    pid = await createPortfolio(url, key, 'expiry');
    await recordOk(url, key, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-02', amount: '1000000', currency: 'USD' });
    await recordOk(url, key, { portfolioId: pid, type: 'BUY', date: '2024-01-03', symbol: 'EXPY', quantity: '1000', price: '10' });
  });
  afterAll(() => server.close());

  const place = async (input: Record<string, unknown>): Promise<string> => {
    const res = await gql(url, key, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, { i: { portfolioId: pid, symbol: 'EXPY', type: 'LIMIT', limitPrice: '5', ...input } });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data.placeOrder.id as string;
  };
  const fill = (orderId: string, externalId: string, quantity: string, executedAt = new Date().toISOString()) =>
    gql(url, key, `mutation($i: FillInput!) { recordFill(input: $i) { id externalId } }`, { i: { orderId, externalId, quantity, price: '5', executedAt } });
  const order = async (id: string) => (await gql(url, key, `query($id: ID!) { order(id: $id) { status filledQty expiredAt timeInForce } }`, { id })).data.order;
  /** Pretends the order was placed at `at` (the sweep and the broker go by created_at). */
  const placedAt = (id: string, at: Date) => db().prisma.order.update({ where: { id }, data: { createdAt: at } });
  const sweep = (service: OrderExpiryService, now?: Date) => withoutPrincipal(() => service.expireDue(now));
  const expiryAudit = (ids: string[]) => db().prisma.auditLog.findMany({ where: { action: 'order.expire', entityId: { in: ids } }, orderBy: { id: 'asc' } });

  test('at the end of the UTC day, open DAY orders placed before it are CANCELLED with expiredAt, audited and published once; GTC, filled and later orders stay', async () => {
    const yesterday = new Date(Date.now() - DAY);
    const fresh = await place({ side: 'BUY', quantity: '10' });
    const partial = await place({ side: 'SELL', quantity: '10' });
    expect(codeOf(await fill(partial, 'exp-partial-1', '4'))).toBe('none');
    const filled = await place({ side: 'BUY', quantity: '3' });
    expect(codeOf(await fill(filled, 'exp-filled-1', '3'))).toBe('none');
    const gtc = await place({ side: 'BUY', quantity: '10', timeInForce: 'GTC' });
    const today = await place({ side: 'BUY', quantity: '10' });
    for (const id of [fresh, partial, filled, gtc]) await placedAt(id, yesterday);

    const events: { orderId: string; status: string }[] = [];
    const off = server.app.bus.subscribe('order.updated', (e) => void events.push({ orderId: e.orderId, status: e.status }));
    const expired = await sweep(server.app.services.orderExpiry);
    await new Promise((r) => setImmediate(r));
    off();

    expect(expired.sort()).toEqual([fresh, partial].sort());
    expect(events.filter((e) => e.orderId === fresh || e.orderId === partial).sort((a, b) => a.orderId.localeCompare(b.orderId))).toEqual(
      [fresh, partial].sort().map((orderId) => ({ orderId, status: 'CANCELLED' })),
    );
    const f = await order(fresh);
    expect(f).toMatchObject({ status: 'CANCELLED', filledQty: '0', timeInForce: 'DAY' });
    expect(Math.abs(Date.parse(f.expiredAt) - Date.now())).toBeLessThan(60_000);
    expect(await order(partial)).toMatchObject({ status: 'CANCELLED', filledQty: '4' });
    expect(await order(filled)).toMatchObject({ status: 'FILLED', expiredAt: null });
    expect(await order(gtc)).toMatchObject({ status: 'NEW', expiredAt: null });
    expect(await order(today)).toMatchObject({ status: 'NEW', expiredAt: null });

    const audit = await expiryAudit([fresh, partial, filled, gtc, today]);
    expect(audit.map((a) => [a.entityId, a.actorUserId, a.portfolioId, (a.before as any).status, (a.after as any).status, (a.after as any).filledQty]).sort()).toEqual(
      [
        [fresh, null, pid, 'NEW', 'CANCELLED', '0'],
        [partial, null, pid, 'PARTIALLY_FILLED', 'CANCELLED', '4'],
      ].sort(),
    );

    // Idempotent: a second sweep finds nothing, and an expired order takes no fill.
    expect(await sweep(server.app.services.orderExpiry)).toEqual([]);
    expect(await expiryAudit([fresh, partial])).toHaveLength(2);
    const late = await fill(fresh, 'exp-late-1', '1');
    expect(codeOf(late)).toBe('CONFLICT');
    expect(late.errors![0]!.message).toMatch(/is CANCELLED/);
    // The open SELL's reservation went with it: the whole holding can be offered again.
    const offered = await place({ side: 'SELL', quantity: '996', timeInForce: 'GTC' });
    expect(codeOf(await gql(url, key, `mutation($id: ID!) { cancelOrder(id: $id) { id } }`, { id: offered }))).toBe('none');
  });

  test('a fill on a DAY order whose day has ended is a CONFLICT before the sweep has run, and writes nothing; a replay of a fill booked in its day still returns it', async () => {
    const yesterday = new Date(Date.now() - DAY);
    const stale = await place({ side: 'BUY', quantity: '10' });
    const executedAt = new Date().toISOString();
    const booked = await fill(stale, 'ended-1', '2', executedAt);
    expect(codeOf(booked)).toBe('none');
    const gtc = await place({ side: 'BUY', quantity: '10', timeInForce: 'GTC' });
    await placedAt(stale, yesterday);
    await placedAt(gtc, yesterday);
    const before = await footprint(db().prisma, pid);
    const late = await fill(stale, 'ended-2', '1');
    expect(codeOf(late)).toBe('CONFLICT');
    expect(late.errors![0]!.message).toBe(
      `order ${stale} is a DAY order placed before the close of ${lastDayCloseAtOrBefore(new Date(), END_OF_UTC_DAY).toISOString()}: its trading day has ended, it takes no more fills (the expiry sweep cancels it)`,
    );
    expect(await footprint(db().prisma, pid)).toEqual(before);
    // Nothing was swept: the order is still open, as the sweep will find it.
    expect(await order(stale)).toMatchObject({ status: 'PARTIALLY_FILLED', filledQty: '2', expiredAt: null });
    // The fill booked while the day lasted replays as before; a GTC order of the same age fills.
    const replay = await fill(stale, 'ended-1', '2', executedAt);
    expect(replay.data.recordFill.id).toBe(booked.data.recordFill.id);
    expect(codeOf(await fill(gtc, 'ended-gtc', '1'))).toBe('none');
    expect(await sweep(server.app.services.orderExpiry)).toEqual([stale]);
  });

  test('recordFill and the sweep go by one rule: a server with the New York 16:00 close refuses a fill of the order placed before its last close and then expires it; the one placed after it fills', async () => {
    const nyServer = await startTestServer(db(), { ORDER_EXPIRY_POLL_MS: '3600000', ORDER_DAY_TIMEZONE: 'America/New_York', ORDER_DAY_CLOSE: '16:00' });
    const { trading, orderExpiry: ny } = nyServer.app.services;
    const close = parseDayClose('America/New_York', '16:00');
    const now = new Date();
    const cutoff = lastDayCloseAtOrBefore(now, close);
    const before = await place({ side: 'BUY', quantity: '2' });
    const after = await place({ side: 'BUY', quantity: '1' });
    await placedAt(before, new Date(cutoff.getTime() - 1000));
    // Just after the close, or now if the close was less than a second ago.
    await placedAt(after, new Date(Math.min(cutoff.getTime() + 1000, now.getTime())));
    const ctx = { actor: { userId, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'ny-fill' } };
    const fillNy = (orderId: string, externalId: string) => trading.recordFill(ctx, { orderId, externalId, quantity: new D(1), price: new D(5), executedAt: now });
    await expect(fillNy(before, 'ny-before')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(`placed before the close of ${cutoff.toISOString()}`) });
    await expect(fillNy(after, 'ny-after')).resolves.toMatchObject({ externalId: 'ny-after' });
    expect(await sweep(ny, now)).toEqual([before]);
    expect(await order(after)).toMatchObject({ status: 'FILLED', filledQty: '1' });
    await nyServer.close();
  });

  test('the clock is configurable: America/New_York at 16:00 expires by the local close, across the change to daylight saving time', async () => {
    const ny = new OrderExpiryService(db().prisma, server.app.bus, parseDayClose('America/New_York', '16:00'));
    // 2020-03-06 is a Friday in EST (16:00 = 21:00Z); 2020-03-09 a Monday in EDT (16:00 = 20:00Z).
    const before = await place({ side: 'BUY', quantity: '1' });
    const after = await place({ side: 'BUY', quantity: '1' });
    const monday = await place({ side: 'BUY', quantity: '1' });
    await placedAt(before, new Date('2020-03-06T20:59:00Z'));
    await placedAt(after, new Date('2020-03-06T21:01:00Z'));
    await placedAt(monday, new Date('2020-03-09T19:30:00Z'));
    // Saturday midday: only the order placed before Friday's close has expired.
    expect(await sweep(ny, new Date('2020-03-07T17:00:00Z'))).toEqual([before]);
    // Monday 15:59 EDT: Saturday's close (a calendar day: no exchange calendar) ended the late Friday order.
    expect(await sweep(ny, new Date('2020-03-09T19:59:00Z'))).toEqual([after]);
    expect(await sweep(ny, new Date('2020-03-09T20:00:00Z'))).toEqual([monday]);
  });

  test('the paper broker does not execute a DAY order whose day has ended, even before the sweep', async () => {
    const broker = new PaperBroker(db().prisma, server.app.bus, server.app.services.trading);
    const stop = broker.start();
    try {
      const stale = await place({ side: 'BUY', quantity: '2', limitPrice: '9' });
      const gtc = await place({ side: 'BUY', quantity: '2', limitPrice: '9', timeInForce: 'GTC' });
      const yesterday = new Date(Date.now() - DAY);
      await placedAt(stale, yesterday);
      await placedAt(gtc, yesterday);
      await server.app.services.marketData.ingestPrices(SYSTEM, [{ symbol: 'EXPY', at: new Date(Date.now() - 1000), close: new D('8') }]);
      await new Promise((r) => setImmediate(r));
      await broker.idle();
      expect(await order(gtc)).toMatchObject({ status: 'FILLED' });
      expect(await order(stale)).toMatchObject({ status: 'NEW', filledQty: '0' });
      expect(await sweep(server.app.services.orderExpiry)).toEqual([stale]);
    } finally {
      stop();
    }
  });

  test('sweeps in two processes and racing fills: every order ends either FILLED or expired, once', async () => {
    // A second server process is a second connection pool to the same database (PostgreSQL);
    // PGlite has one connection, so there the two sweepers share it.
    const other = engine === 'postgres' ? await openDatabase({ url: db().url!, poolSize: 4 }) : null;
    try {
      const sweepers = [server.app.services.orderExpiry, new OrderExpiryService((other ?? db()).prisma, server.app.bus)];
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(await place({ side: 'BUY', quantity: '1' }));
      // The sweeps run as at tomorrow, past today's close; the fills by the clock, before it (a fill
      // after the close is refused however the race goes): a fill and a sweep either side of a close.
      const tomorrow = new Date(Date.now() + DAY);
      const [fills, ...sweeps] = await Promise.all([
        Promise.all(ids.filter((_, i) => i % 2 === 0).map((id) => fill(id, `race-${id}`, '1'))),
        ...[0, 1, 2, 3].map((i) => sweep(sweepers[i % 2]!, tomorrow)),
      ]);
      expect(new Set(sweeps.flat()).size).toBe(sweeps.flat().length);
      // The earlier tests' open DAY orders expire with them.
      const expired = sweeps.flat().filter((id) => ids.includes(id));
      const filledIds = ids.filter((_, i) => i % 2 === 0).filter((_, i) => codeOf(fills[i]!) === 'none');
      for (let i = 0; i < fills.length; i++) expect(['none', 'CONFLICT']).toContain(codeOf(fills[i]!));
      expect([...expired, ...filledIds].sort()).toEqual([...ids].sort());
      const rows = await db().prisma.order.findMany({ where: { id: { in: ids } }, include: { fills: true } });
      for (const o of rows) {
        if (filledIds.includes(o.id)) expect([o.status, o.expiredAt, o.fills.length]).toEqual(['FILLED', null, 1]);
        else expect([o.status, o.expiredAt !== null, o.fills.length]).toEqual(['CANCELLED', true, 0]);
      }
      expect(await expiryAudit(ids)).toHaveLength(expired.length);
    } finally {
      await other?.close();
    }
  });
});
