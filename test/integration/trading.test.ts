import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { D } from '../../src/domain/decimal';
import { cash, createPortfolio, ensureSecurities, footprint, gains, lots, record, recordOk } from '../support/ledger';

/*
 * Orders and fills through the real HTTP API; concurrency on PostgreSQL: racing SELLs,
 * replayed fills and two OS processes filling one order.
 */

const ORDER_FIELDS = 'id symbol side type quantity limitPrice stopPrice timeInForce status filledQty avgFillPrice clientOrderId fills { externalId quantity price fee }';
const run = promisify(execFile);

describeEachEngine('trading', (db, engine) => {
  let server: TestServer;
  let url: string;
  let key: string;
  let userId: string;
  let otherKey: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    url = server.url;
    ({ key, userId } = await createUserWithKey(server, 'USER'));
    otherKey = (await createUserWithKey(server, 'USER')).key;
    await ensureSecurities(server, [['ACME', 'USD'], ['BETA', 'USD']]);
  });
  afterAll(() => server.close());

  const place = (input: Record<string, unknown>, k = key) => gql(url, k, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { ${ORDER_FIELDS} } }`, { i: input });
  const cancel = (id: string, k = key) => gql(url, k, `mutation($id: ID!) { cancelOrder(id: $id) { ${ORDER_FIELDS} } }`, { id });
  /** Executed when its order was placed unless the input says otherwise: the same instant for every replay, and not before the placement. */
  const fill = async (input: Record<string, unknown>, k = key) => {
    const placed = await db().prisma.order.findUnique({ where: { id: String(input.orderId) }, select: { createdAt: true } });
    const executedAt = (placed?.createdAt ?? new Date()).toISOString();
    return gql(url, k, `mutation($i: FillInput!) { recordFill(input: $i) { id externalId quantity price fee transactionId } }`, { i: { executedAt, ...input } });
  };
  const order = (id: string) => gql(url, key, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id });

  async function funded(name: string, holding?: string): Promise<string> {
    const id = await createPortfolio(url, key, name);
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-01-02', amount: '100000', currency: 'USD' });
    if (holding) await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-03', symbol: 'ACME', quantity: holding, price: '10' });
    return id;
  }

  test('partial fills: PARTIALLY_FILLED with filledQty and VWAP, then FILLED; lots and cash follow', async () => {
    const pid = await funded('partial fills');
    const placed = await place({ portfolioId: pid, symbol: 'acme', side: 'BUY', type: 'LIMIT', quantity: '100', limitPrice: '11', timeInForce: 'GTC' });
    expect(placed.data.placeOrder).toMatchObject({ symbol: 'ACME', status: 'NEW', filledQty: '0', avgFillPrice: null, timeInForce: 'GTC' });
    const oid = placed.data.placeOrder.id;
    // 30 @ 10 then 70 @ 11: VWAP (300 + 770) / 100 = 10.7
    expect(codeOf(await fill({ orderId: oid, externalId: 'e-1', quantity: '30', price: '10', fee: '1' }))).toBe('none');
    expect((await order(oid)).data.order).toMatchObject({ status: 'PARTIALLY_FILLED', filledQty: '30', avgFillPrice: '10' });
    const f2 = await fill({ orderId: oid, externalId: 'e-2', quantity: '70', price: '11' });
    expect(f2.data.recordFill).toMatchObject({ externalId: 'e-2', quantity: '70', price: '11', fee: '0' });
    const o = (await order(oid)).data.order;
    expect(o).toMatchObject({ status: 'FILLED', filledQty: '100', avgFillPrice: '10.7' });
    expect(o.fills.map((f: any) => f.externalId)).toEqual(['e-1', 'e-2']);
    expect((await lots(url, key, pid)).map((l) => [l.qtyOpen, l.costBasis])).toEqual([
      ['30', '301'],
      ['70', '770'],
    ]);
    expect(await cash(db().prisma, pid)).toEqual({ USD: String(100000 - 301 - 770) });
    const audit = await db().prisma.auditLog.findMany({ where: { portfolioId: pid }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['portfolio.create', 'transaction.record', 'order.place', 'fill.record', 'fill.record']);
    // Replays of a booked fill, even once the order is FILLED, return it and book nothing.
    const before = await footprint(db().prisma, pid);
    const replay = await fill({ orderId: oid, externalId: 'e-2', quantity: '70', price: '11' });
    expect(replay.data.recordFill.id).toBe(f2.data.recordFill.id);
    expect(await footprint(db().prisma, pid)).toEqual(before);
  });

  test('BUY fills cover a short lot, then open a long one; the VWAP stays exact when the stored average rounds', async () => {
    const pid = await createPortfolio(url, key, 'fills cover shorts', 'FIFO', true);
    await recordOk(url, key, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-02', amount: '10000', currency: 'USD' });
    await recordOk(url, key, { portfolioId: pid, type: 'SELL', date: '2024-01-02', symbol: 'BETA', quantity: '10', price: '50' });
    const oid = (await place({ portfolioId: pid, symbol: 'BETA', side: 'BUY', type: 'MARKET', quantity: '15' })).data.placeOrder.id;
    const fills = [
      { quantity: '3', price: '40' },
      { quantity: '7', price: '41' },
      { quantity: '5', price: '41.01' },
    ];
    let value = new D(0);
    let filled = new D(0);
    for (const [i, f] of fills.entries()) {
      expect(codeOf(await fill({ orderId: oid, externalId: `cover-${i}`, ...f }))).toBe('none');
      value = value.plus(new D(f.quantity).times(f.price));
      filled = filled.plus(f.quantity);
      // (120 + 287 + 205.05) / 15 = 40.80333…: rounded for the API, kept exact for the next fill.
      expect((await order(oid)).data.order.avgFillPrice).toBe(value.div(filled).toDecimalPlaces(10).toFixed());
    }
    expect((await order(oid)).data.order.avgFillPrice).toBe('40.8033333333');
    // The short lot (-10 at -500) is covered 3 @ 40 (proceeds 150, cost 120) and 7 @ 41 (350, 287);
    // the last fill opens a long lot.
    expect((await gains(url, key, pid)).map((g) => [g.quantity, g.proceeds, g.cost, g.gain])).toEqual([
      ['3', '150', '120', '30'],
      ['7', '350', '287', '63'],
    ]);
    expect((await lots(url, key, pid)).map((l) => [l.qtyOpen, l.costBasis])).toEqual([['5', '205.05']]);
  });

  test('a SELL order fills against lots; clientOrderId makes placement idempotent; orders list by status', async () => {
    const pid = await funded('sell order', '50');
    const input = { portfolioId: pid, symbol: 'ACME', side: 'SELL', type: 'MARKET', quantity: '20', clientOrderId: 'c-1' };
    const a = await place(input);
    const b = await place(input);
    expect(b.data.placeOrder.id).toBe(a.data.placeOrder.id);
    expect(codeOf(await place({ ...input, quantity: '21' }))).toBe('CONFLICT');
    await fill({ orderId: a.data.placeOrder.id, externalId: 's-1', quantity: '20', price: '12' });
    expect((await lots(url, key, pid))[0]).toMatchObject({ qtyOpen: '30', costBasis: '300' });
    await place({ portfolioId: pid, symbol: 'ACME', side: 'BUY', type: 'STOP', quantity: '5', stopPrice: '15' });
    const list = await gql(url, key, `query($id: ID!) { portfolio(id: $id) { all: orders { totalCount } filled: orders(status: FILLED) { nodes { id } } open: orders(status: NEW) { nodes { type } } } }`, { id: pid });
    expect(list.data.portfolio.all.totalCount).toBe(2);
    expect(list.data.portfolio.filled.nodes).toEqual([{ id: a.data.placeOrder.id }]);
    expect(list.data.portfolio.open.nodes).toEqual([{ type: 'STOP' }]);
  });

  test('cancelling a PARTIALLY_FILLED order keeps its fills and filled quantity, is audited, and the order takes no more fills', async () => {
    const pid = await funded('cancel partial');
    const oid = (await place({ portfolioId: pid, symbol: 'ACME', side: 'BUY', type: 'MARKET', quantity: '10' })).data.placeOrder.id;
    expect(codeOf(await fill({ orderId: oid, externalId: 'cp-1', quantity: '4', price: '10' }))).toBe('none');
    const cancelled = await cancel(oid);
    expect(cancelled.data.cancelOrder).toMatchObject({ status: 'CANCELLED', filledQty: '4', avgFillPrice: '10', fills: [{ externalId: 'cp-1', quantity: '4' }] });
    const audit = await db().prisma.auditLog.findFirstOrThrow({ where: { entityId: oid, action: 'order.cancel' } });
    expect([audit.before, audit.after]).toEqual([{ status: 'PARTIALLY_FILLED' }, { status: 'CANCELLED', filledQty: '4' }]);
    const before = await footprint(db().prisma, pid);
    expect(codeOf(await fill({ orderId: oid, externalId: 'cp-2', quantity: '1', price: '10' }))).toBe('CONFLICT');
    expect(await footprint(db().prisma, pid)).toEqual(before);
    expect((await lots(url, key, pid)).map((l) => l.qtyOpen)).toEqual(['4']);
  });

  describe('bad input: refused with a clear message and nothing written', () => {
    let pid: string;
    let open: string;
    let cancelled: string;
    let filled: string;
    beforeAll(async () => {
      pid = await funded('bad orders', '100');
      open = (await place({ portfolioId: pid, symbol: 'ACME', side: 'BUY', type: 'LIMIT', quantity: '10', limitPrice: '10' })).data.placeOrder.id;
      await fill({ orderId: open, externalId: 'b-1', quantity: '4', price: '9.5' });
      cancelled = (await place({ portfolioId: pid, symbol: 'ACME', side: 'BUY', type: 'MARKET', quantity: '10' })).data.placeOrder.id;
      await cancel(cancelled);
      filled = (await place({ portfolioId: pid, symbol: 'ACME', side: 'BUY', type: 'MARKET', quantity: '10' })).data.placeOrder.id;
      await fill({ orderId: filled, externalId: 'b-2', quantity: '10', price: '10' });
    });

    const orderCases: [string, Record<string, unknown>, RegExp][] = [
      ['LIMIT without limitPrice', { side: 'BUY', type: 'LIMIT', quantity: '1' }, /limitPrice is required/],
      ['STOP without stopPrice', { side: 'BUY', type: 'STOP', quantity: '1' }, /stopPrice is required/],
      ['STOP_LIMIT without stopPrice', { side: 'BUY', type: 'STOP_LIMIT', quantity: '1', limitPrice: '5' }, /stopPrice is required/],
      ['MARKET with a limit price', { side: 'BUY', type: 'MARKET', quantity: '1', limitPrice: '5' }, /limitPrice is not allowed/],
      ['zero quantity', { side: 'BUY', type: 'MARKET', quantity: '0' }, /quantity must be greater than 0/],
      ['negative quantity', { side: 'BUY', type: 'MARKET', quantity: '-3' }, /quantity must be greater than 0/],
      ['limit price with 11 decimals', { side: 'BUY', type: 'LIMIT', quantity: '1', limitPrice: '1.00000000001' }, /more than 10 decimal places/],
      ['unknown security', { side: 'BUY', type: 'MARKET', quantity: '1', symbol: 'NOPE' }, /unknown symbol "NOPE"/],
      ['SELL that would oversell', { side: 'SELL', type: 'MARKET', quantity: '115' }, /114 available.*short by 1/],
    ];
    test.each(orderCases)('placeOrder: %s', async (_n, fields, message) => {
      const before = await footprint(db().prisma, pid);
      const res = await place({ portfolioId: pid, symbol: 'ACME', ...fields });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(message);
      expect(await footprint(db().prisma, pid)).toEqual(before);
    });

    const fillCases: [string, () => Record<string, unknown>, string, RegExp][] = [
      ['fill for a cancelled order', () => ({ orderId: cancelled, externalId: 'f-1', quantity: '1', price: '10' }), 'CONFLICT', /is CANCELLED/],
      ['fill for a filled order', () => ({ orderId: filled, externalId: 'f-2', quantity: '1', price: '10' }), 'CONFLICT', /is FILLED/],
      ['overfill', () => ({ orderId: open, externalId: 'f-3', quantity: '7', price: '10' }), 'BAD_USER_INPUT', /overfill.*6 left/],
      ['zero quantity', () => ({ orderId: open, externalId: 'f-4', quantity: '0', price: '10' }), 'BAD_USER_INPUT', /quantity must be greater than 0/],
      ['negative quantity', () => ({ orderId: open, externalId: 'f-4n', quantity: '-1', price: '10' }), 'BAD_USER_INPUT', /quantity must be greater than 0, got -1/],
      ['price with 11 decimals', () => ({ orderId: open, externalId: 'f-5', quantity: '1', price: '9.00000000001' }), 'BAD_USER_INPUT', /price has more than 10/],
      ['price above the BUY limit', () => ({ orderId: open, externalId: 'f-6', quantity: '1', price: '10.01' }), 'BAD_USER_INPUT', /above the BUY limit/],
      ['replay with different content', () => ({ orderId: open, externalId: 'b-1', quantity: '4', price: '9.6' }), 'CONFLICT', /b-1.*price/],
      ['unknown order', () => ({ orderId: '00000000-0000-4000-8000-000000000000', externalId: 'f-7', quantity: '1', price: '10' }), 'NOT_FOUND', /order .* not found/],
    ];
    test.each(fillCases)('recordFill: %s', async (_n, input, code, message) => {
      const before = await footprint(db().prisma, pid);
      const res = await fill(input());
      expect(codeOf(res)).toBe(code);
      expect(res.errors![0]!.message).toMatch(message);
      expect(await footprint(db().prisma, pid)).toEqual(before);
    });

    test('cancelling a filled or cancelled order is a CONFLICT', async () => {
      const before = await footprint(db().prisma, pid);
      expect(codeOf(await cancel(filled))).toBe('CONFLICT');
      expect(codeOf(await cancel(cancelled))).toBe('CONFLICT');
      expect(await footprint(db().prisma, pid)).toEqual(before);
    });

    test('another owner’s order reads like a nonexistent one', async () => {
      const before = await footprint(db().prisma, pid);
      const missing = '00000000-0000-4000-8000-000000000000';
      const a = await fill({ orderId: open, externalId: 'x-1', quantity: '1', price: '10' }, otherKey);
      const b = await fill({ orderId: missing, externalId: 'x-1', quantity: '1', price: '10' }, otherKey);
      expect([codeOf(a), codeOf(b)]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
      expect(a.errors![0]!.message.replace(open, 'ID')).toBe(b.errors![0]!.message.replace(missing, 'ID'));
      expect(codeOf(await cancel(open, otherKey))).toBe('NOT_FOUND');
      const q = await gql(url, otherKey, `query($id: ID!) { order(id: $id) { id } }`, { id: open });
      expect(q.data.order).toBeNull();
      expect(codeOf(await place({ portfolioId: pid, symbol: 'ACME', side: 'BUY', type: 'MARKET', quantity: '1' }, otherKey))).toBe('NOT_FOUND');
      expect(await footprint(db().prisma, pid)).toEqual(before);
    });

    test('the audit log shows only what was booked', async () => {
      const actions = (await db().prisma.auditLog.findMany({ where: { portfolioId: pid }, orderBy: { id: 'asc' } })).map((a) => a.action);
      expect(actions).toEqual(['portfolio.create', 'transaction.record', 'transaction.record', 'order.place', 'fill.record', 'order.place', 'order.cancel', 'order.place', 'fill.record']);
    });
  });

  if (engine !== 'postgres') return;

  describe('concurrency on PostgreSQL', () => {
    test('twenty concurrent SELLs of 10 against 100 held: exactly ten succeed; lots and cash reconcile', async () => {
      const pid = await funded('race sells', '100');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => record(url, key, { portfolioId: pid, type: 'SELL', date: '2024-02-01', symbol: 'ACME', quantity: '10', price: '12.34', fee: '0.01', note: `r${i}` })),
      );
      const codes = results.map(codeOf);
      expect(codes.filter((c) => c === 'none')).toHaveLength(10);
      expect(codes.filter((c) => c === 'BAD_USER_INPUT')).toHaveLength(10);
      expect(await lots(url, key, pid)).toEqual([]);
      const all = await lots(url, key, pid, false);
      expect(all.map((l) => [l.qtyOpen, l.costBasis])).toEqual([['0', '0']]);
      const realized = await db().prisma.realizedGain.aggregate({ where: { portfolioId: pid }, _sum: { quantity: true, cost: true, proceeds: true } });
      expect(realized._sum.quantity?.toFixed()).toBe('100');
      expect(realized._sum.cost?.toFixed()).toBe('1000');
      expect(realized._sum.proceeds?.toFixed()).toBe('1233.9'); // 10 × (123.4 − 0.01)
      // 100000 − 1000 + 1233.90
      expect(await cash(db().prisma, pid)).toEqual({ USD: '100233.9' });
      expect(await db().prisma.transaction.count({ where: { portfolioId: pid, type: 'SELL' } })).toBe(10);
    });

    // SELL fills take the unlocked fast path, recordTransaction the locked one: racing for the same
    // lots, every sale lands whole or not at all and exactly the 100 held are sold (the 10-share
    // sales can always take what the 50-share fills leave). Both are dated today, as fills are: a
    // sale dated before one already booked would be refused for that, not for the race.
    test('SELL fills and SELL transactions racing for 100 held: exactly 100 sold; lots, gains, cash, orders and audit reconcile', async () => {
      for (let round = 0; round < 3; round++) {
        const pid = await funded(`race fills and sells ${round}`, '100');
        const orders = [];
        for (const name of ['A', 'B']) orders.push((await place({ portfolioId: pid, symbol: 'ACME', side: 'SELL', type: 'MARKET', quantity: '50', clientOrderId: name })).data.placeOrder.id as string);
        const [fills, sells] = await Promise.all([
          Promise.all(orders.map((orderId, i) => fill({ orderId, externalId: `race-${round}-${i}`, quantity: '50', price: '12' }))),
          Promise.all(Array.from({ length: 5 }, (_, i) => record(url, key, { portfolioId: pid, type: 'SELL', date: new Date().toISOString().slice(0, 10), symbol: 'ACME', quantity: '10', price: '12', note: `r${i}` }))),
        ]);
        for (const r of [...fills, ...sells]) expect(['none', 'BAD_USER_INPUT']).toContain(codeOf(r));
        const filled = fills.filter((r) => codeOf(r) === 'none').length;
        const sold = sells.filter((r) => codeOf(r) === 'none').length;
        expect(filled * 50 + sold * 10).toBe(100);
        expect(await lots(url, key, pid)).toEqual([]);
        const realized = await db().prisma.realizedGain.aggregate({ where: { portfolioId: pid }, _sum: { quantity: true, cost: true, proceeds: true } });
        expect([realized._sum.quantity?.toFixed(), realized._sum.cost?.toFixed(), realized._sum.proceeds?.toFixed()]).toEqual(['100', '1000', '1200']);
        expect(await cash(db().prisma, pid)).toEqual({ USD: '100200' });
        expect(await db().prisma.transaction.count({ where: { portfolioId: pid, type: 'SELL' } })).toBe(filled + sold);
        expect(await db().prisma.fill.count({ where: { orderId: { in: orders } } })).toBe(filled);
        const statuses = (await db().prisma.order.findMany({ where: { id: { in: orders } } })).map((o) => [o.status, o.filledQty.toFixed()]).sort();
        expect(statuses).toEqual([...Array(filled).fill(['FILLED', '50']), ...Array(2 - filled).fill(['NEW', '0'])].sort());
        const audit = await db().prisma.auditLog.groupBy({ by: ['action'], where: { portfolioId: pid }, _count: true });
        expect(Object.fromEntries(audit.map((a) => [a.action, a._count]))).toEqual({ 'portfolio.create': 1, 'transaction.record': 2 + sold, 'order.place': 2, ...(filled ? { 'fill.record': filled } : {}) });
      }
    });

    test('ten concurrent replays of one fill: one booking', async () => {
      const pid = await funded('replays');
      const oid = (await place({ portfolioId: pid, symbol: 'BETA', side: 'BUY', type: 'MARKET', quantity: '50' })).data.placeOrder.id;
      const results = await Promise.all(Array.from({ length: 10 }, () => fill({ orderId: oid, externalId: 'replayed', quantity: '20', price: '5' })));
      expect(results.map(codeOf)).toEqual(Array(10).fill('none'));
      expect(new Set(results.map((r) => r.data.recordFill.id)).size).toBe(1);
      expect(await db().prisma.fill.count({ where: { orderId: oid } })).toBe(1);
      expect(await db().prisma.transaction.count({ where: { portfolioId: pid, type: 'BUY' } })).toBe(1);
      expect((await order(oid)).data.order).toMatchObject({ status: 'PARTIALLY_FILLED', filledQty: '20' });
      expect(await cash(db().prisma, pid)).toEqual({ USD: '99900' });
      expect(await db().prisma.auditLog.count({ where: { portfolioId: pid, action: 'fill.record' } })).toBe(1);
    });

    test('two OS processes booking fills for the same order: no overfill', async () => {
      const pid = await funded('two processes');
      const oid = (await place({ portfolioId: pid, symbol: 'BETA', side: 'BUY', type: 'MARKET', quantity: '100' })).data.placeOrder.id;
      const worker = path.resolve(__dirname, '../support/fill-worker.ts');
      const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
      const spawn = (prefix: string) => run(tsx, [worker, db().url!, oid, userId, 'USER', prefix, '10', '10', '5'], { timeout: 60_000 });
      const outs = await Promise.all([spawn('p1'), spawn('p2')]);
      const results = outs.map((o) => JSON.parse(o.stdout.trim().split('\n').at(-1)!) as { ok: number; refused: Record<string, number> });
      expect(results[0]!.ok + results[1]!.ok).toBe(10);
      expect((results[0]!.refused.BAD_USER_INPUT ?? 0) + (results[0]!.refused.CONFLICT ?? 0) + (results[1]!.refused.BAD_USER_INPUT ?? 0) + (results[1]!.refused.CONFLICT ?? 0)).toBe(10);
      expect((await order(oid)).data.order).toMatchObject({ status: 'FILLED', filledQty: '100', avgFillPrice: '5' });
      expect(await db().prisma.fill.count({ where: { orderId: oid } })).toBe(10);
      const held = await db().prisma.lot.aggregate({ where: { portfolioId: pid }, _sum: { qtyOpen: true } });
      expect(held._sum.qtyOpen?.toFixed()).toBe('100');
      expect(await cash(db().prisma, pid)).toEqual({ USD: '99500' });
    }, 90_000);
  });
});
