import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { createPortfolio, ensureSecurities, footprint, gains, lots, record, recordOk, statementsOfFillNow } from '../support/ledger';

/*
 * A backdated SELL relieves only lots acquired on or before its date, by the portfolio's
 * method among those; behind a later SELL or SPLIT of the security, or a SPLIT on its own day, it
 * is refused, whether it is booked by recordTransaction or is a SELL order's fill (dated by its
 * executedAt).
 */

describeEachEngine('backdated SELL', (db) => {
  let server: TestServer;
  let url: string;
  let key: string;
  let userId: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    url = server.url;
    ({ key, userId } = await createUserWithKey(server, 'USER'));
    await ensureSecurities(server, [['BACK', 'USD']]);
  });
  afterAll(() => server.close());

  /** 10 @ 10 on 01-10 and 10 @ 20 on 03-10: LIFO and HIFO would both pick the second lot today. */
  const twoLots = async (method: string, name = `backdated ${method}`): Promise<string> => {
    const id = await createPortfolio(url, key, name, method);
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-01-02', amount: '10000', currency: 'USD' });
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-10', symbol: 'BACK', quantity: '10', price: '10' });
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-03-10', symbol: 'BACK', quantity: '10', price: '20' });
    return id;
  };

  test.each(['LIFO', 'HIFO', 'AVERAGE'])('%s: a SELL dated between the buys relieves only the lot held on its date', async (method) => {
    const id = await twoLots(method);
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-02-01', symbol: 'BACK', quantity: '4', price: '15' });
    // 4 of the 01-10 lot at its cost 10 each (AVERAGE pools only the lots held on 02-01: the same).
    expect(await gains(url, key, id)).toEqual([
      { symbol: 'BACK', quantity: '4', proceeds: '60', cost: '40', gain: '20', acquiredOn: '2024-01-10', soldOn: '2024-02-01', holdingDays: 22, longTerm: false },
    ]);
    expect((await lots(url, key, id)).map((l) => [l.acquiredOn, l.qtyOpen, l.costBasis])).toEqual([
      ['2024-01-10', '6', '60'],
      ['2024-03-10', '10', '200'],
    ]);
    // More than was held on its date is a shortfall even though 16 are held now.
    const over = await record(url, key, { portfolioId: id, type: 'SELL', date: '2024-02-05', symbol: 'BACK', quantity: '7', price: '15' });
    expect(codeOf(over)).toBe('BAD_USER_INPUT');
    expect(over.errors![0]!.message).toMatch(/holding 6, selling 7, short by 1/);
  });

  test('behind a later SELL or SPLIT of the security it is refused, naming that booking, and writes nothing', async () => {
    const id = await twoLots('FIFO');
    const later = await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-04-01', symbol: 'BACK', quantity: '5', price: '25' });
    let before = await footprint(db().prisma, id);
    const behindSell = await record(url, key, { portfolioId: id, type: 'SELL', date: '2024-02-01', symbol: 'BACK', quantity: '1', price: '15' });
    expect(codeOf(behindSell)).toBe('BAD_USER_INPUT');
    expect(behindSell.errors![0]!.message).toBe(
      `a SELL of BACK dated 2024-02-01 cannot be booked behind the SELL dated 2024-04-01 (transaction ${later.id}): lots are relieved in date order and booked history is not replayed`,
    );
    expect(await footprint(db().prisma, id)).toEqual(before);

    const split = await recordOk(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-05-01', symbol: 'BACK', splitRatio: '2' });
    before = await footprint(db().prisma, id);
    const behindSplit = await record(url, key, { portfolioId: id, type: 'SELL', date: '2024-04-15', symbol: 'BACK', quantity: '1', price: '15' });
    expect(behindSplit.errors![0]!.message).toMatch(new RegExp(`behind the SPLIT dated 2024-05-01 \\(transaction ${split.id}\\)`));
    expect(await footprint(db().prisma, id)).toEqual(before);

    // On the SPLIT's own day too (the sale came before the split); after the last SELL/SPLIT's date
    // is in order, and a later BUY does not stand in the way.
    expect(codeOf(await record(url, key, { portfolioId: id, type: 'SELL', date: '2024-05-01', symbol: 'BACK', quantity: '1', price: '15' }))).toBe('BAD_USER_INPUT');
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-06-01', symbol: 'BACK', quantity: '1', price: '12' });
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-05-02', symbol: 'BACK', quantity: '2', price: '13' });
    expect((await gains(url, key, id)).map((g) => [g.soldOn, g.acquiredOn, g.quantity])).toEqual([
      ['2024-04-01', '2024-01-10', '5'],
      ['2024-05-02', '2024-01-10', '2'],
    ]);
  });

  /** A GTC SELL order, as if placed on 2024-01-15 (a fill is not dated before its order's placement). */
  const sellOrder = async (portfolioId: string, quantity: string): Promise<string> => {
    const res = await gql(url, key, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, {
      i: { portfolioId, symbol: 'BACK', side: 'SELL', type: 'MARKET', quantity, timeInForce: 'GTC' },
    });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    const id = res.data.placeOrder.id as string;
    await db().prisma.order.update({ where: { id }, data: { createdAt: new Date('2024-01-15T14:00:00Z') } });
    return id;
  };
  const fill = (orderId: string, externalId: string, quantity: string, executedAt: string) =>
    gql(url, key, `mutation($i: FillInput!) { recordFill(input: $i) { id } }`, { i: { orderId, externalId, quantity, price: '15', executedAt } });

  test('a SELL fill dated behind a later SELL or SPLIT is refused the same way, naming it, and writes nothing; on or after its date it books', async () => {
    const id = await twoLots('FIFO', 'backdated fills');
    const later = await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-04-01', symbol: 'BACK', quantity: '5', price: '25' });
    const oid = await sellOrder(id, '4');
    let before = await footprint(db().prisma, id);
    const behindSell = await fill(oid, 'late-sell-1', '1', '2024-02-01T15:00:00Z');
    expect(codeOf(behindSell)).toBe('BAD_USER_INPUT');
    expect(behindSell.errors![0]!.message).toBe(
      `a SELL of BACK dated 2024-02-01 cannot be booked behind the SELL dated 2024-04-01 (transaction ${later.id}): lots are relieved in date order and booked history is not replayed`,
    );
    expect(await footprint(db().prisma, id)).toEqual(before);

    const split = await recordOk(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-05-01', symbol: 'BACK', splitRatio: '2' });
    before = await footprint(db().prisma, id);
    const behindSplit = await fill(oid, 'late-sell-2', '1', '2024-04-30T23:59:59Z');
    expect(codeOf(behindSplit)).toBe('BAD_USER_INPUT');
    expect(behindSplit.errors![0]!.message).toMatch(new RegExp(`behind the SPLIT dated 2024-05-01 \\(transaction ${split.id}\\)`));
    expect(await footprint(db().prisma, id)).toEqual(before);

    // On the split's own day the sale came before the split (trades before a split on its day), so
    // it is refused too; the day after is in order, and so is today.
    expect(codeOf(await fill(oid, 'late-sell-on-split-day', '1', '2024-05-01T10:00:00Z'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await fill(oid, 'late-sell-3', '1', '2024-05-02T10:00:00Z'))).toBe('none');
    expect(codeOf(await fill(oid, 'late-sell-4', '3', new Date().toISOString()))).toBe('none');
    expect((await gains(url, key, id)).map((g) => [g.soldOn, g.acquiredOn, g.quantity])).toEqual([
      ['2024-04-01', '2024-01-10', '5'],
      ['2024-05-02', '2024-01-10', '1'],
      [new Date().toISOString().slice(0, 10), '2024-01-10', '3'],
    ]);
  });

  // The fill path is the hot one (BENCHMARKS.md): the check rides in the read a fill makes anyway.
  test('a SELL fill dated today with no later relief still takes two statements: the read and the booking', async () => {
    const id = await twoLots('FIFO', 'fills today');
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-04-01', symbol: 'BACK', quantity: '1', price: '25' });
    const oid = await sellOrder(id, '2');
    expect(await statementsOfFillNow(db(), userId, oid, '15', [{ externalId: 'count-1', quantity: '1' }, { externalId: 'count-2', quantity: '1' }])).toHaveLength(2);
  });
});
