import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, startTestServer, type TestServer } from '../support/server';
import { createPortfolio, ensureSecurities, footprint, lots, record, recordOk } from '../support/ledger';

/*
 * A SPLIT booked in any portfolio records the split in the security's corporate actions, once;
 * in one portfolio a split is booked once.
 */

describeEachEngine('SPLIT → corporate actions', (db, engine) => {
  let server: TestServer;
  let url: string;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    url = server.url;
    key = (await createUserWithKey(server, 'USER')).key;
    otherKey = (await createUserWithKey(server, 'USER')).key;
    await ensureSecurities(server, [['SPLT', 'USD'], ['RACE', 'USD']]);
  });
  afterAll(() => server.close());

  const holding = async (k: string, name: string, symbol = 'SPLT'): Promise<string> => {
    const id = await createPortfolio(url, k, name);
    await recordOk(url, k, { portfolioId: id, type: 'BUY', date: '2024-01-10', symbol, quantity: '10', price: '30' });
    return id;
  };
  const actions = async (symbol: string) =>
    (await db().prisma.corporateAction.findMany({ where: { security: { symbol } }, orderBy: { exDate: 'asc' } })).map((a) => ({
      type: a.type,
      exDate: a.exDate.toISOString().slice(0, 10),
      ratio: a.ratio?.toFixed() ?? null,
    }));

  test('the first SPLIT records the action; the same split in another owner’s portfolio finds it; another date is another action', async () => {
    const mine = await holding(key, 'split mine');
    const theirs = await holding(otherKey, 'split theirs');
    await recordOk(url, key, { portfolioId: mine, type: 'SPLIT', date: '2024-06-10', symbol: 'SPLT', splitRatio: '2' });
    expect(await actions('SPLT')).toEqual([{ type: 'SPLIT', exDate: '2024-06-10', ratio: '2' }]);
    // The same ratio written differently is the same split.
    await recordOk(url, otherKey, { portfolioId: theirs, type: 'SPLIT', date: '2024-06-10', symbol: 'SPLT', splitRatio: '2.000' });
    expect(await actions('SPLT')).toEqual([{ type: 'SPLIT', exDate: '2024-06-10', ratio: '2' }]);
    for (const [k, id] of [[key, mine], [otherKey, theirs]] as const) expect((await lots(url, k, id)).map((l) => [l.qtyOpen, l.costBasis])).toEqual([['20', '300']]);

    await recordOk(url, key, { portfolioId: mine, type: 'SPLIT', date: '2024-09-02', symbol: 'SPLT', splitRatio: '1.5' });
    expect(await actions('SPLT')).toEqual([
      { type: 'SPLIT', exDate: '2024-06-10', ratio: '2' },
      { type: 'SPLIT', exDate: '2024-09-02', ratio: '1.5' },
    ]);
  });

  test('a SPLIT contradicting the recorded ratio is a CONFLICT naming it, and writes nothing', async () => {
    const id = await holding(key, 'split contradicting');
    const before = await footprint(db().prisma, id);
    const res = await record(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-06-10', symbol: 'SPLT', splitRatio: '3' });
    expect(codeOf(res)).toBe('CONFLICT');
    expect(res.errors![0]!.message).toMatch(/SPLT's split on 2024-06-10 is recorded with splitRatio 2 .*splitRatio 3 contradicts it/);
    expect(await footprint(db().prisma, id)).toEqual(before);
    expect((await actions('SPLT'))[0]).toEqual({ type: 'SPLIT', exDate: '2024-06-10', ratio: '2' });
  });

  test('the same SPLIT again in one portfolio is a CONFLICT naming the first booking and writes nothing; its externalId replays it', async () => {
    const id = await holding(key, 'split twice');
    const first = await recordOk(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-06-10', symbol: 'SPLT', splitRatio: '2', externalId: 'split-1' });
    const before = await footprint(db().prisma, id);
    for (const again of [{}, { splitRatio: '2.0' }, { externalId: 'split-2' }, { splitRatio: '3' }]) {
      const res = await record(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-06-10', symbol: 'SPLT', splitRatio: '2', ...again });
      expect(codeOf(res)).toBe('CONFLICT');
      expect(res.errors![0]!.message).toBe(
        `SPLT's split on 2024-06-10 is already booked in this portfolio (transaction ${first.id}, splitRatio 2): booking it again would apply it twice`,
      );
      expect(await footprint(db().prisma, id)).toEqual(before);
    }
    const replay = await recordOk(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-06-10', symbol: 'SPLT', splitRatio: '2', externalId: 'split-1' });
    expect(replay.id).toBe(first.id);
    expect(await footprint(db().prisma, id)).toEqual(before);
    expect((await lots(url, key, id)).map((l) => [l.qtyOpen, l.costBasis])).toEqual([['20', '300']]);
  });

  test('first SPLITs of one split racing with different ratios: one books, the other is a CONFLICT', async () => {
    const a = await holding(key, 'race a', 'RACE');
    const b = await holding(otherKey, 'race b', 'RACE');
    const results = await Promise.all([
      record(url, key, { portfolioId: a, type: 'SPLIT', date: '2024-07-01', symbol: 'RACE', splitRatio: '2' }),
      record(url, otherKey, { portfolioId: b, type: 'SPLIT', date: '2024-07-01', symbol: 'RACE', splitRatio: '4' }),
    ]);
    const codes = results.map(codeOf).sort();
    expect(codes).toEqual(['CONFLICT', 'none']);
    const winner = results.findIndex((r) => codeOf(r) === 'none');
    expect(await actions('RACE')).toEqual([{ type: 'SPLIT', exDate: '2024-07-01', ratio: winner === 0 ? '2' : '4' }]);
    const loser = winner === 0 ? [otherKey, b] : [key, a];
    expect((await lots(url, loser[0]!, loser[1]!)).map((l) => l.qtyOpen)).toEqual(['10']);
    expect(await db().prisma.transaction.count({ where: { type: 'SPLIT', security: { symbol: 'RACE' } } })).toBe(1);
  });

  if (engine !== 'postgres') return;

  test('ten identical SPLITs of one portfolio at once on PostgreSQL: one books, nine are CONFLICTs, the lots multiplied once', async () => {
    const id = await holding(key, 'split race', 'RACE');
    const results = await Promise.all(Array.from({ length: 10 }, () => record(url, key, { portfolioId: id, type: 'SPLIT', date: '2024-08-01', symbol: 'RACE', splitRatio: '3' })));
    expect(results.map(codeOf).sort()).toEqual([...Array(9).fill('CONFLICT'), 'none']);
    expect((await lots(url, key, id)).map((l) => [l.qtyOpen, l.costBasis])).toEqual([['30', '300']]);
    expect(await db().prisma.transaction.count({ where: { portfolioId: id, type: 'SPLIT' } })).toBe(1);
    expect(await db().prisma.auditLog.count({ where: { portfolioId: id, action: 'transaction.record' } })).toBe(2);
  });
});
