import { D } from '../../src/domain/decimal';
import { PaperBroker } from '../../src/services/paper-broker';
import { describeEachEngine } from '../support/db';
import { createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { createPortfolio, ensureSecurities, lots, recordOk, SYSTEM } from '../support/ledger';

/* The paper broker books through recordFill: MARKET at the latest quote on placement, LIMIT/STOP when a price crosses. */
describeEachEngine('paper broker', (db) => {
  let server: TestServer;
  let broker: PaperBroker;
  let stop: () => void;
  let key: string;
  let pid: string;
  let tick = 0;

  const ingest = async (close: string) => {
    await server.app.services.marketData.ingestPrices(SYSTEM, [{ symbol: 'PAPR', at: new Date(Date.now() - 60_000 + ++tick * 10), close: new D(close) }]);
    await new Promise((r) => setImmediate(r));
    await broker.idle();
  };
  const place = async (input: Record<string, unknown>) => {
    const res = await gql(server.url, key, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, { i: { portfolioId: pid, symbol: 'PAPR', ...input } });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    await new Promise((r) => setImmediate(r));
    await broker.idle();
    return res.data.placeOrder.id as string;
  };
  const order = async (id: string) => (await gql(server.url, key, `query($id: ID!) { order(id: $id) { status filledQty avgFillPrice fills { price venue } } }`, { id })).data.order;

  beforeAll(async () => {
    server = await startTestServer(db());
    broker = new PaperBroker(db().prisma, server.app.bus, server.app.services.trading);
    stop = broker.start();
    key = (await createUserWithKey(server, 'USER')).key;
    await ensureSecurities(server, [['PAPR', 'USD']]);
    pid = await createPortfolio(server.url, key, 'paper');
    await recordOk(server.url, key, { portfolioId: pid, type: 'DEPOSIT', date: '2024-01-02', amount: '100000', currency: 'USD' });
  });
  afterAll(async () => {
    stop();
    await server.close();
  });

  test('without a quote a MARKET order waits; the next price fills it', async () => {
    const id = await place({ side: 'BUY', type: 'MARKET', quantity: '1' });
    expect((await order(id)).status).toBe('NEW');
    await ingest('100');
    expect(await order(id)).toMatchObject({ status: 'FILLED', filledQty: '1', avgFillPrice: '100', fills: [{ price: '100', venue: 'PAPER' }] });
  });

  test('a MARKET order fills at the latest quote when placed', async () => {
    const id = await place({ side: 'BUY', type: 'MARKET', quantity: '10' });
    expect(await order(id)).toMatchObject({ status: 'FILLED', filledQty: '10', avgFillPrice: '100' });
  });

  test('LIMIT and STOP orders fill when an ingested price crosses their level, once', async () => {
    const limit = await place({ side: 'BUY', type: 'LIMIT', quantity: '5', limitPrice: '95' });
    const stopOrder = await place({ side: 'SELL', type: 'STOP', quantity: '6', stopPrice: '90' });
    await ingest('96');
    expect((await order(limit)).status).toBe('NEW');
    await ingest('94.5');
    expect(await order(limit)).toMatchObject({ status: 'FILLED', avgFillPrice: '94.5' });
    expect((await order(stopOrder)).status).toBe('NEW');
    await ingest('89');
    expect(await order(stopOrder)).toMatchObject({ status: 'FILLED', avgFillPrice: '89' });
    await ingest('89');
    const open = await lots(server.url, key, pid);
    expect(open.reduce((a, l) => a + Number(l.qtyOpen), 0)).toBe(1 + 10 + 5 - 6);
    expect(await db().prisma.fill.count({ where: { order: { portfolioId: pid } } })).toBe(4);
  });
});
