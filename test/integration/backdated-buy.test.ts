import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { createPortfolio, ensureSecurities, footprint, gains, lots, record, recordOk, statementsOfFillNow } from '../support/ledger';

/*
 * Lot reliefs in date order (date-order.ts): a BUY dated before a SELL or a
 * short-covering BUY of the security already booked is refused, whatever the method, since that
 * relief might have taken the new lot in date order; and a short-covering BUY is a relief a
 * backdated SELL or SPLIT cannot be booked behind; where shorting is allowed, a backdated SELL
 * that would open a short lot is refused behind any later BUY (which would have covered it). By
 * recordTransaction and by a fill alike, naming the booking in the way and writing nothing.
 */

describeEachEngine('backdated BUY and short covers', (db) => {
  let server: TestServer;
  let url: string;
  let key: string;
  let userId: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    url = server.url;
    ({ key, userId } = await createUserWithKey(server, 'USER'));
    await ensureSecurities(server, [['BBUY', 'USD'], ['COVR', 'USD'], ['SHRT', 'USD']]);
  });
  afterAll(() => server.close());

  const funded = async (name: string, method = 'FIFO', allowShort = false): Promise<string> => {
    const id = await createPortfolio(url, key, name, method, allowShort);
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-01-02', amount: '10000', currency: 'USD' });
    return id;
  };
  const trade = (portfolioId: string, type: string, symbol: string, date: string, quantity: string, price: string) => record(url, key, { portfolioId, type, date, symbol, quantity, price });
  const refusal = (type: string, symbol: string, date: string, later: { id: string; type: string; date: string }) =>
    `a ${type} of ${symbol} dated ${date} cannot be booked behind the ${later.type} dated ${later.date} (transaction ${later.id}): lots are relieved in date order and booked history is not replayed`;
  const lotRows = async (id: string) => (await lots(url, key, id, false)).map((l) => [l.acquiredOn, l.qtyOpen, l.costBasis]);

  /** An order as if placed on 2024-01-15 (a fill is not dated before its order's placement). */
  const order = async (portfolioId: string, symbol: string, side: 'BUY' | 'SELL', quantity: string): Promise<string> => {
    const res = await gql(url, key, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, {
      i: { portfolioId, symbol, side, type: 'MARKET', quantity, timeInForce: 'GTC' },
    });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    const id = res.data.placeOrder.id as string;
    await db().prisma.order.update({ where: { id }, data: { createdAt: new Date('2024-01-15T14:00:00Z') } });
    return id;
  };
  const fill = (orderId: string, externalId: string, quantity: string, executedAt: string) =>
    gql(url, key, `mutation($i: FillInput!) { recordFill(input: $i) { id } }`, { i: { orderId, externalId, quantity, price: '12', executedAt } });

  // In date order FIFO's and AVERAGE's SELL of 04-01 would have taken (part of) a lot bought on
  // 02-01, HIFO's one at 30, LIFO's the 02-01 lot once the SELL went past the 03-10 lot.
  test.each(['FIFO', 'LIFO', 'HIFO', 'AVERAGE'])('%s: a BUY dated before a booked SELL is refused, naming it, and writes nothing; on or after its date it books', async (method) => {
    const id = await funded(`backdated buy ${method}`, method);
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-03-10', symbol: 'BBUY', quantity: '10', price: '20' });
    const sell = await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-04-01', symbol: 'BBUY', quantity: '10', price: '25' });
    const before = await footprint(db().prisma, id);
    const behind = await trade(id, 'BUY', 'BBUY', '2024-02-01', '5', '30');
    expect(codeOf(behind)).toBe('BAD_USER_INPUT');
    expect(behind.errors![0]!.message).toBe(refusal('BUY', 'BBUY', '2024-02-01', sell));
    expect(await footprint(db().prisma, id)).toEqual(before);

    // The SELL's own day keeps booking order (the SELL came first), and later days are in order.
    expect(codeOf(await trade(id, 'BUY', 'BBUY', '2024-04-01', '2', '24'))).toBe('none');
    expect(codeOf(await trade(id, 'BUY', 'BBUY', '2024-05-01', '3', '26'))).toBe('none');
    expect(await lotRows(id)).toEqual([
      ['2024-03-10', '0', '0'],
      ['2024-04-01', '2', '48'],
      ['2024-05-01', '3', '78'],
    ]);
  });

  test('a BUY fill dated before a booked SELL is refused the same way and writes nothing; dated today it books', async () => {
    const id = await funded('backdated buy fill');
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-10', symbol: 'BBUY', quantity: '10', price: '10' });
    const sell = await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-04-01', symbol: 'BBUY', quantity: '4', price: '25' });
    const oid = await order(id, 'BBUY', 'BUY', '5');
    const before = await footprint(db().prisma, id);
    const behind = await fill(oid, 'backdated-buy-1', '2', '2024-03-29T15:00:00Z');
    expect(codeOf(behind)).toBe('BAD_USER_INPUT');
    expect(behind.errors![0]!.message).toBe(refusal('BUY', 'BBUY', '2024-03-29', sell));
    expect(await footprint(db().prisma, id)).toEqual(before);
    expect(codeOf(await fill(oid, 'backdated-buy-2', '2', '2024-04-01T15:00:00Z'))).toBe('none');
    expect(codeOf(await fill(oid, 'backdated-buy-3', '3', new Date().toISOString()))).toBe('none');
  });

  /** Short 10 on 02-01, covered by 4 on 04-01 (realized gains): the cover is a lot relief. */
  const covered = async (name: string) => {
    const id = await funded(name, 'FIFO', true);
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-02-01', symbol: 'COVR', quantity: '10', price: '15' });
    const cover = await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-04-01', symbol: 'COVR', quantity: '4', price: '12' });
    expect(await gains(url, key, id)).toHaveLength(1);
    return { id, cover };
  };

  test('behind a BUY that covered short lots a SELL, a SPLIT and a BUY are refused, naming the cover, and write nothing', async () => {
    const { id, cover } = await covered('behind a cover');
    const before = await footprint(db().prisma, id);
    for (const [type, fields] of [
      ['SELL', { quantity: '1', price: '14' }],
      ['SPLIT', { splitRatio: '2' }],
      ['BUY', { quantity: '1', price: '13' }],
    ] as const) {
      const res = await record(url, key, { portfolioId: id, type, date: '2024-03-01', symbol: 'COVR', ...fields });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message).toBe(refusal(type, 'COVR', '2024-03-01', cover));
    }
    expect(await footprint(db().prisma, id)).toEqual(before);
    // A BUY that covered nothing is no relief: a SELL dated before one books within what is held
    // on its date (06-01 covers the 6 short and leaves 2); beyond it, it would open a short lot
    // the BUY would have covered in date order.
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-06-01', symbol: 'COVR', quantity: '8', price: '11' });
    const buy = await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-07-01', symbol: 'COVR', quantity: '5', price: '11' });
    expect(codeOf(await trade(id, 'SELL', 'COVR', '2024-06-15', '1', '14'))).toBe('none');
    expect((await trade(id, 'SELL', 'COVR', '2024-06-16', '2', '14')).errors![0]!.message).toMatch(new RegExp(`behind the BUY dated 2024-07-01 \\(transaction ${buy.id}\\): it would open a short lot`));
  });

  test('SELL and BUY fills dated behind a short cover are refused the same way and write nothing', async () => {
    const { id, cover } = await covered('fills behind a cover');
    const before = await footprint(db().prisma, id);
    for (const side of ['SELL', 'BUY'] as const) {
      const res = await fill(await order(id, 'COVR', side, '1'), `behind-cover-${side}`, '1', '2024-03-01T15:00:00Z');
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message).toBe(refusal(side, 'COVR', '2024-03-01', cover));
    }
    const after = await footprint(db().prisma, id);
    expect({ ...after, orders: [], audit: 0 }).toEqual({ ...before, orders: [], audit: 0 });
  });

  const shortRefusal = (date: string, buy: { id: string; date: string }) =>
    `a SELL of SHRT dated ${date} cannot be booked behind the BUY dated ${buy.date} (transaction ${buy.id}): ` +
    `it would open a short lot, which in date order that BUY would have covered, and booked history is not replayed`;

  test('where shorting is allowed, a SELL that would open a short lot behind a BUY that covered nothing is refused, naming the BUY, and writes nothing; one within the holding, or with no BUY after it, books', async () => {
    const id = await funded('short behind a buy', 'FIFO', true);
    const buy1 = await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-03-01', symbol: 'SHRT', quantity: '5', price: '10' });
    let before = await footprint(db().prisma, id);
    // Nothing held on 02-01: a short of 3, which in date order the BUY of 03-01 would have covered.
    const behind = await trade(id, 'SELL', 'SHRT', '2024-02-01', '3', '15');
    expect(codeOf(behind)).toBe('BAD_USER_INPUT');
    expect(behind.errors![0]!.message).toBe(shortRefusal('2024-02-01', buy1));
    expect(await footprint(db().prisma, id)).toEqual(before);

    expect(codeOf(await trade(id, 'SELL', 'SHRT', '2024-03-05', '2', '15'))).toBe('none');
    const buy2 = await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-05-01', symbol: 'SHRT', quantity: '4', price: '11' });
    // Within the 3 held on 04-01 a later BUY is no obstacle; 5 on 04-15 would be short 3 of them.
    expect(codeOf(await trade(id, 'SELL', 'SHRT', '2024-04-01', '1', '15'))).toBe('none');
    before = await footprint(db().prisma, id);
    const behind2 = await trade(id, 'SELL', 'SHRT', '2024-04-15', '5', '15');
    expect(behind2.errors![0]!.message).toBe(shortRefusal('2024-04-15', buy2));
    expect(await footprint(db().prisma, id)).toEqual(before);
    // After the last BUY the short opens: 6 held, 10 sold.
    expect(codeOf(await trade(id, 'SELL', 'SHRT', '2024-05-02', '10', '15'))).toBe('none');
    expect((await lots(url, key, id)).map((l) => [l.acquiredOn, l.qtyOpen])).toEqual([['2024-05-02', '-4']]);
  });

  test('a SELL fill that would open a short lot behind a BUY is refused the same way and writes nothing; dated today it opens the short in two statements', async () => {
    const id = await funded('fill short behind a buy', 'FIFO', true);
    const buy = await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-03-01', symbol: 'SHRT', quantity: '5', price: '10' });
    const oid = await order(id, 'SHRT', 'SELL', '10');
    const before = await footprint(db().prisma, id);
    const behind = await fill(oid, 'short-behind-buy', '3', '2024-02-01T15:00:00Z');
    expect(codeOf(behind)).toBe('BAD_USER_INPUT');
    expect(behind.errors![0]!.message).toBe(shortRefusal('2024-02-01', buy));
    expect(await footprint(db().prisma, id)).toEqual(before);

    // Today: the read a fill makes anyway carries the check (BENCHMARKS.md: the hot path).
    expect(await statementsOfFillNow(db(), userId, oid, '12', [{ externalId: 'short-today-1', quantity: '1' }, { externalId: 'short-today-2', quantity: '7' }])).toHaveLength(2);
    expect((await lots(url, key, id)).map((l) => [l.acquiredOn, l.qtyOpen])).toEqual([[new Date().toISOString().slice(0, 10), '-3']]);
  });
});
