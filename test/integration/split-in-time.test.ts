import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { createPortfolio, ensureSecurities, footprint, gains, lots, record, recordOk, statementsOfFillNow } from '../support/ledger';

/*
 * Splits and the ledger's date order (trades before a split on its own day): a BUY dated on or
 * before splits already booked opens its lot restated by them, exactly as booking in date order
 * would have; a SPLIT behind a later SELL or SPLIT, a SELL on a booked split's day, a BUY that
 * would cover short lots a later split restated, and a fill executed before its order was
 * placed are refused, writing nothing.
 */

describeEachEngine('splits in date order', (db) => {
  let server: TestServer;
  let url: string;
  let key: string;
  let userId: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    url = server.url;
    ({ key, userId } = await createUserWithKey(server, 'USER'));
    await ensureSecurities(server, [['STEP', 'USD'], ['HALF', 'USD'], ['WAY', 'USD'], ['SHRT', 'USD'], ['FILL', 'USD'], ['FRAC', 'USD']]);
  });
  afterAll(() => server.close());

  const funded = async (name: string, allowShort = false): Promise<string> => {
    const id = await createPortfolio(url, key, name, 'FIFO', allowShort);
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-01-02', amount: '100000', currency: 'USD' });
    return id;
  };
  const buy = (portfolioId: string, symbol: string, date: string, quantity: string, price: string, fee?: string) =>
    recordOk(url, key, { portfolioId, type: 'BUY', date, symbol, quantity, price, ...(fee ? { fee } : {}) });
  const split = (portfolioId: string, symbol: string, date: string, splitRatio: string) => recordOk(url, key, { portfolioId, type: 'SPLIT', date, symbol, splitRatio });
  const lotRows = async (id: string, openOnly = true) => (await lots(url, key, id, openOnly)).map((l) => [l.acquiredOn, l.qtyOriginal, l.qtyOpen, l.costBasis, l.closedOn]);
  const holdings = async (id: string, asOf?: string) => {
    const res = await gql(url, key, `query($id: ID!, $d: Date) { portfolio(id: $id) { valuation(asOf: $d) { holdings { symbol quantity costBasis } } } }`, { id, d: asOf });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data.portfolio.valuation.holdings;
  };
  const actions = (symbol: string) => db().prisma.corporateAction.count({ where: { security: { symbol } } });

  test('BUYs dated on or before booked splits open lots restated by them: the lots, a later SELL’s gains and the holdings are those of booking in date order', async () => {
    // In date order (trades before a split on its day): 10 on 01-10, 6 on 03-01, SPLIT 2 on
    // 03-01, 4 on 04-01, SPLIT 3 on 05-01, 1 on 06-01, then a SELL of 100 on 07-01.
    const inOrder = await funded('splits in order');
    await buy(inOrder, 'STEP', '2024-01-10', '10', '30', '1');
    await buy(inOrder, 'STEP', '2024-03-01', '6', '32');
    await split(inOrder, 'STEP', '2024-03-01', '2');
    await buy(inOrder, 'STEP', '2024-04-01', '4', '17');
    await split(inOrder, 'STEP', '2024-05-01', '3');
    await buy(inOrder, 'STEP', '2024-06-01', '1', '6');
    await recordOk(url, key, { portfolioId: inOrder, type: 'SELL', date: '2024-07-01', symbol: 'STEP', quantity: '100', price: '7' });

    // The same, the splits booked first: each BUY restated by the splits dated on or after it.
    const late = await funded('splits booked first');
    await split(late, 'STEP', '2024-03-01', '2');
    await split(late, 'STEP', '2024-05-01', '3');
    await buy(late, 'STEP', '2024-06-01', '1', '6');
    await buy(late, 'STEP', '2024-04-01', '4', '17');
    await buy(late, 'STEP', '2024-03-01', '6', '32'); // the split's own day: before it
    const booked = await buy(late, 'STEP', '2024-01-10', '10', '30', '1');
    // The transaction is what was traded: 10 pre-split shares at 30.
    expect(booked).toMatchObject({ quantity: '10', price: '30', amount: '-301' });
    expect((await lotRows(late)).sort()).toEqual([
      ['2024-01-10', '60', '60', '301', null],
      ['2024-03-01', '36', '36', '192', null],
      ['2024-04-01', '12', '12', '68', null],
      ['2024-06-01', '1', '1', '6', null],
    ]);
    await recordOk(url, key, { portfolioId: late, type: 'SELL', date: '2024-07-01', symbol: 'STEP', quantity: '100', price: '7' });

    const sorted = async (id: string, openOnly: boolean) => (await lotRows(id, openOnly)).sort();
    expect(await sorted(late, false)).toEqual(await sorted(inOrder, false));
    expect((await gains(url, key, late)).sort()).toEqual((await gains(url, key, inOrder)).sort());
    expect(await gains(url, key, late)).toHaveLength(3);
    // The holdings replayed from the transactions (a past date) agree with the lots (now).
    expect(await holdings(late, '2024-07-31')).toEqual([{ symbol: 'STEP', quantity: '9', costBasis: expect.any(String) }]);
    expect((await holdings(late)).map((h: any) => [h.symbol, h.quantity, h.costBasis])).toEqual([['STEP', '9', (await holdings(inOrder))[0].costBasis]]);
  });

  test('a lot is restated split by split, rounded as each split rounded the lots it found', async () => {
    // 3.3333333333 × 1.5 = 4.99999999995 → 5 (10 places), × 3 = 15; one restatement by the
    // product of the ratios, 4.5, would give 14.99999999985 → 14.999999999(8 or 9).
    const inOrder = await funded('rounding in order');
    await buy(inOrder, 'HALF', '2024-02-01', '3.3333333333', '9');
    await split(inOrder, 'HALF', '2024-03-01', '1.5');
    await split(inOrder, 'HALF', '2024-05-01', '3');
    const late = await funded('rounding late');
    await split(late, 'HALF', '2024-03-01', '1.5');
    await split(late, 'HALF', '2024-05-01', '3');
    await buy(late, 'HALF', '2024-02-01', '3.3333333333', '9');
    expect(await lotRows(inOrder)).toEqual([['2024-02-01', '15', '15', '29.9999999997', null]]);
    expect(await lotRows(late)).toEqual(await lotRows(inOrder));
  });

  test('a SPLIT behind a later SELL or SPLIT is refused, naming it, and writes nothing (its corporate action neither); on a SELL’s own day it books', async () => {
    const id = await funded('split behind');
    await buy(id, 'WAY', '2024-01-10', '10', '30');
    const sell = await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-06-01', symbol: 'WAY', quantity: '4', price: '40' });
    const before = await footprint(db().prisma, id);
    const recorded = await actions('WAY');
    const behindSell = await record(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-04-01', symbol: 'WAY', splitRatio: '2' });
    expect(codeOf(behindSell)).toBe('BAD_USER_INPUT');
    expect(behindSell.errors![0]!.message).toBe(
      `a SPLIT of WAY dated 2024-04-01 cannot be booked behind the SELL dated 2024-06-01 (transaction ${sell.id}): lots are relieved in date order and booked history is not replayed`,
    );
    expect(await footprint(db().prisma, id)).toEqual(before);
    expect(await actions('WAY')).toBe(recorded);

    // On the SELL's own day the SELL came first: the split restates what it left.
    await recordOk(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-06-01', symbol: 'WAY', splitRatio: '2' });
    expect(await lotRows(id)).toEqual([['2024-01-10', '20', '12', '180', null]]);
    const later = await recordOk(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-09-01', symbol: 'WAY', splitRatio: '2' });
    const beforeSplit = await footprint(db().prisma, id);
    const behindSplit = await record(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-08-01', symbol: 'WAY', splitRatio: '2' });
    expect(codeOf(behindSplit)).toBe('BAD_USER_INPUT');
    expect(behindSplit.errors![0]!.message).toMatch(new RegExp(`^a SPLIT of WAY dated 2024-08-01 cannot be booked behind the SPLIT dated 2024-09-01 \\(transaction ${later.id}\\)`));
    expect(await footprint(db().prisma, id)).toEqual(beforeSplit);
  });

  test('a SELL on the day of a split already booked is refused (it came before the split), naming the split', async () => {
    const id = await funded('sell on split day');
    await buy(id, 'WAY', '2024-01-10', '10', '30');
    const s = await split(id, 'WAY', '2024-06-01', '2');
    const before = await footprint(db().prisma, id);
    const res = await record(url, key, { portfolioId: id, type: 'SELL', date: '2024-06-01', symbol: 'WAY', quantity: '1', price: '15' });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(new RegExp(`^a SELL of WAY dated 2024-06-01 cannot be booked behind the SPLIT dated 2024-06-01 \\(transaction ${s.id}\\)`));
    expect(await footprint(db().prisma, id)).toEqual(before);
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-06-02', symbol: 'WAY', quantity: '1', price: '15' });
  });

  test('a BUY that would cover short lots a later split restated is refused, naming the split, and writes nothing; after the split it covers', async () => {
    const id = await funded('short behind split', true);
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-01-10', symbol: 'SHRT', quantity: '10', price: '50' });
    const s = await split(id, 'SHRT', '2024-03-01', '2');
    expect(await lotRows(id)).toEqual([['2024-01-10', '-20', '-20', '-500', null]]);
    const before = await footprint(db().prisma, id);
    const res = await record(url, key, { portfolioId: id, type: 'BUY', date: '2024-02-01', symbol: 'SHRT', quantity: '5', price: '45' });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toBe(
      `a BUY of SHRT dated 2024-02-01 cannot cover short lots behind the SPLIT dated 2024-03-01 (transaction ${s.id}): the split restated them in post-split shares and booked history is not replayed`,
    );
    expect(await footprint(db().prisma, id)).toEqual(before);
    await buy(id, 'SHRT', '2024-03-02', '5', '22');
    expect(await lotRows(id)).toEqual([['2024-01-10', '-20', '-15', '-375', null]]);
  });

  test('a fractional lot through non-integer splits: the past-date valuation (the NAV replay) has the lot’s digits', async () => {
    const id = await funded('fractional splits');
    await buy(id, 'FRAC', '2024-02-01', '3.3333333333', '9');
    // 4.99999999995 → 5, × 0.3333333333 = 1.6666666665, × 0.7777777777 = 1.29629629603703703705 → 1.296296296
    await split(id, 'FRAC', '2024-03-01', '1.5');
    await split(id, 'FRAC', '2024-04-01', '0.3333333333');
    await split(id, 'FRAC', '2024-05-01', '0.7777777777');
    expect(await lotRows(id)).toEqual([['2024-02-01', '1.296296296', '1.296296296', '29.9999999997', null]]);
    expect((await holdings(id)).map((h: any) => [h.symbol, h.quantity])).toEqual([['FRAC', '1.296296296']]);
    expect((await holdings(id, '2024-03-01')).map((h: any) => [h.symbol, h.quantity])).toEqual([['FRAC', '5']]);
    expect((await holdings(id, '2024-07-31')).map((h: any) => [h.symbol, h.quantity])).toEqual([['FRAC', '1.296296296']]);
  });

  const placeOrder = async (portfolioId: string, side: 'BUY' | 'SELL', quantity: string): Promise<string> => {
    const res = await gql(url, key, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, {
      i: { portfolioId, symbol: 'FILL', side, type: 'MARKET', quantity, timeInForce: 'GTC' },
    });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data.placeOrder.id as string;
  };
  /** Pretends the order was placed at `at`, so that fills dated then are not before its placement. */
  const placedAt = (id: string, at: string) => db().prisma.order.update({ where: { id }, data: { createdAt: new Date(at) } });
  const fill = (orderId: string, externalId: string, quantity: string, executedAt: string) =>
    gql(url, key, `mutation($i: FillInput!) { recordFill(input: $i) { id } }`, { i: { orderId, externalId, quantity, price: '20', executedAt } });

  test('a BUY fill dated before a booked split opens its lot restated by it; a SELL fill on the split’s day is refused', async () => {
    const id = await funded('fills and splits');
    await buy(id, 'FILL', '2024-01-10', '10', '30');
    const s = await split(id, 'FILL', '2024-05-01', '2');
    const oid = await placeOrder(id, 'BUY', '10');
    await placedAt(oid, '2024-04-01T14:00:00Z');
    expect(codeOf(await fill(oid, 'split-buy-1', '3', '2024-04-30T15:00:00Z'))).toBe('none');
    expect(codeOf(await fill(oid, 'split-buy-2', '2', '2024-05-01T15:00:00Z'))).toBe('none'); // its day: before it
    expect(codeOf(await fill(oid, 'split-buy-3', '1', '2024-05-02T15:00:00Z'))).toBe('none');
    expect(await lotRows(id)).toEqual([
      ['2024-01-10', '20', '20', '300', null],
      ['2024-04-30', '6', '6', '60', null],
      ['2024-05-01', '4', '4', '40', null],
      ['2024-05-02', '1', '1', '20', null],
    ]);
    const sid = await placeOrder(id, 'SELL', '5');
    await placedAt(sid, '2024-04-01T14:00:00Z');
    const before = await footprint(db().prisma, id);
    const onSplitDay = await fill(sid, 'split-sell-1', '1', '2024-05-01T16:00:00Z');
    expect(codeOf(onSplitDay)).toBe('BAD_USER_INPUT');
    expect(onSplitDay.errors![0]!.message).toMatch(new RegExp(`^a SELL of FILL dated 2024-05-01 cannot be booked behind the SPLIT dated 2024-05-01 \\(transaction ${s.id}\\)`));
    expect(await footprint(db().prisma, id)).toEqual(before);
  });

  test('a fill executed before its order was placed is a BAD_USER_INPUT and writes nothing; within the clock-skew allowance it books', async () => {
    const id = await funded('fill before placement');
    const oid = await placeOrder(id, 'BUY', '10');
    await placedAt(oid, '2024-04-01T14:00:00Z');
    const before = await footprint(db().prisma, id);
    const early = await fill(oid, 'early-1', '1', '2024-04-01T13:54:59.999Z');
    expect(codeOf(early)).toBe('BAD_USER_INPUT');
    expect(early.errors![0]!.message).toBe(`executedAt 2024-04-01T13:54:59.999Z is before order ${oid} was placed (2024-04-01T14:00:00.000Z)`);
    const days = await fill(oid, 'early-2', '1', '2024-03-01T15:00:00Z');
    expect(codeOf(days)).toBe('BAD_USER_INPUT');
    expect(await footprint(db().prisma, id)).toEqual(before);
    expect(codeOf(await fill(oid, 'early-3', '1', '2024-04-01T13:55:00Z'))).toBe('none');
  });

  // The fill path is the hot one (BENCHMARKS.md): the splits ride in the read a fill makes anyway.
  test('a BUY fill dated today with no split still takes two statements: the read and the booking', async () => {
    const id = await funded('buy fills today');
    const oid = await placeOrder(id, 'BUY', '5');
    expect(await statementsOfFillNow(db(), userId, oid, '15', [{ externalId: 'count-buy-1', quantity: '1' }, { externalId: 'count-buy-2', quantity: '1' }])).toHaveLength(2);
    expect((await lotRows(id)).map((l) => l[2])).toEqual(['1', '1']);
  });
});
