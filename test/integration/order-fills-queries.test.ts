import { D } from '../../src/domain/decimal';
import { describeEachEngine } from '../support/db';
import { countQueries, type CountingDatabase } from '../support/query-counter';
import { createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { SYSTEM } from '../support/ledger';

/* No N+1 on Order.fills: a page of orders with their fills runs as many statements for 40 orders as for 2. */

const LIST = `query($id: ID!, $first: Int) { portfolio(id: $id) { orders(first: $first) { nodes { id status fills { externalId quantity price } } } } }`;

describeEachEngine('Order.fills query count', (db) => {
  let counting: CountingDatabase;
  let server: TestServer;
  let key: string;
  let pid: string;
  const fillsByOrder = new Map<string, string[]>();

  beforeAll(async () => {
    counting = countQueries(db());
    // Background work (webhook claims, the DAY-order sweep) would land in the count at random: hourly here.
    server = await startTestServer(counting.db, { WEBHOOK_POLL_MS: '3600000', ORDER_EXPIRY_POLL_MS: '3600000' });
    const owner = await createUserWithKey(server, 'USER');
    key = owner.key;
    const s = server.app.services;
    await s.securities.upsert(SYSTEM, { symbol: 'NPF', name: 'NPF', currency: 'USD' });
    const ctx = { actor: { userId: owner.userId, role: 'USER' as const, apiKeyId: null }, meta: { requestId: 'seed' } };
    pid = (await s.portfolios.create(ctx, { name: 'fills', baseCurrency: 'USD' })).id;
    await s.ledger.record(ctx, { portfolioId: pid, type: 'DEPOSIT', date: '2024-04-01', amount: new D(1_000_000), currency: 'USD' });
    for (let i = 0; i < 40; i++) {
      const order = await s.trading.placeOrder(ctx, { portfolioId: pid, symbol: 'NPF', side: 'BUY', type: 'MARKET', quantity: new D(10), timeInForce: 'GTC' });
      // Every third order has no fill yet: its list must come back empty, not missing.
      const n = i % 3;
      const ids: string[] = [];
      for (let f = 0; f < n; f++) {
        const externalId = `npf-${i}-${f}`;
        await s.trading.recordFill(ctx, { orderId: order.id, externalId, quantity: new D(2), price: new D(10 + f), executedAt: new Date(Date.now() - 60_000 + f * 1000) });
        ids.push(externalId);
      }
      fillsByOrder.set(order.id, ids);
    }
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await counting?.close();
  });

  async function statementsFor(first: number): Promise<number> {
    counting.reset();
    const res = await gql(server.url, key, LIST, { id: pid, first });
    expect(res.errors).toBeUndefined();
    const nodes = res.data.portfolio.orders.nodes as { id: string; fills: { externalId: string }[] }[];
    expect(nodes).toHaveLength(first);
    // Each order gets its own fills, oldest first.
    for (const n of nodes) expect(n.fills.map((f) => f.externalId)).toEqual(fillsByOrder.get(n.id));
    return counting.statements.length;
  }

  test('listing 40 orders with their fills runs as many statements as listing 2', async () => {
    await statementsFor(2); // warm: first-request work out of the way
    const two = await statementsFor(2);
    const forty = await statementsFor(40);
    expect(two).toBeGreaterThanOrEqual(3);
    expect(forty).toBe(two);
    expect(counting.statements.filter((q) => /FROM "public"\."fills"/.test(q))).toHaveLength(1);
  });
});
