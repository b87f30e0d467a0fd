import { Prisma } from '../../src/generated/prisma/client';
import { D } from '../../src/domain/decimal';
import { auditCte } from '../../src/services/audit';
import { asSystem } from '../../src/db/principal';
import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type TestServer } from '../support/server';
import { cash, createPortfolio, ensureSecurities, footprint, gains, lots, record, recordOk } from '../support/ledger';

/*
 * The ledger through the real HTTP API: every transaction type, tax lots by cost-basis
 * method, cash, realized gains, idempotent externalId, and every bad input refused with
 * nothing written.
 *
 * Worked example (IRS Publication 550 "Identifying the shares sold" style, the same as
 * test/unit/lots.test.ts):
 *   lot A  100 sh @ 10 = 1000  bought 2023-01-05
 *   lot B  100 sh @ 12 = 1200  bought 2023-03-01
 *   lot C  100 sh @ 11 = 1100  bought 2023-06-01
 *   sell   150 sh @ 15 = 2250  on     2024-02-01 (no fee)
 * FIFO    relieves A 100 (cost 1000, proceeds 1500, gain 500, 392 days, long-term)
 *              and B  50 (cost  600, proceeds  750, gain 150, 337 days, short-term)
 * LIFO    relieves C 100 (cost 1100, gain 400, 245 days) and B 50 (cost 600, gain 150)
 * HIFO    relieves B 100 (cost 1200, gain 300) and C 50 (cost 550, gain 200)
 * AVERAGE pools 300 sh at 3300 = 11/sh: relieves (in FIFO order) A 100 at 1100 (gain 400)
 *         and B 50 at 550 (gain 200); B's other 50 and C's 100 are re-based to 11/sh
 *         (550 and 1100).
 * With a 2-for-1 split on 2023-09-01 in between, the same sale is 300 sh @ 7.5 = 2250
 * and the costs and gains are the same (total cost is unchanged by a split).
 * Cash: deposit 10000 − 3300 bought + 2250 sold = 8950.
 */

const EXAMPLE: Record<string, { rows: [string, string, string, string, string, number, boolean][]; open: [string, string, string][] }> = {
  // [acquiredOn, quantity, proceeds, cost, gain, holdingDays, longTerm]; open lots [acquiredOn, qtyOpen, costBasis]
  FIFO: {
    rows: [
      ['2023-01-05', '100', '1500', '1000', '500', 392, true],
      ['2023-03-01', '50', '750', '600', '150', 337, false],
    ],
    open: [['2023-03-01', '50', '600'], ['2023-06-01', '100', '1100']],
  },
  LIFO: {
    rows: [
      ['2023-03-01', '50', '750', '600', '150', 337, false],
      ['2023-06-01', '100', '1500', '1100', '400', 245, false],
    ],
    open: [['2023-01-05', '100', '1000'], ['2023-03-01', '50', '600']],
  },
  HIFO: {
    rows: [
      ['2023-03-01', '100', '1500', '1200', '300', 337, false],
      ['2023-06-01', '50', '750', '550', '200', 245, false],
    ],
    open: [['2023-01-05', '100', '1000'], ['2023-06-01', '50', '550']],
  },
  AVERAGE: {
    rows: [
      ['2023-01-05', '100', '1500', '1100', '400', 392, true],
      ['2023-03-01', '50', '750', '550', '200', 337, false],
    ],
    open: [['2023-03-01', '50', '550'], ['2023-06-01', '100', '1100']],
  },
};

function byAcquired<T extends { acquiredOn: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => (a.acquiredOn < b.acquiredOn ? -1 : a.acquiredOn > b.acquiredOn ? 1 : 0));
}

describeEachEngine('ledger', (db) => {
  let server: TestServer;
  let url: string;
  let key: string;
  let other: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    url = server.url;
    key = (await createUserWithKey(server, 'USER')).key;
    other = (await createUserWithKey(server, 'USER')).key;
    await ensureSecurities(server, [['ACME', 'USD'], ['BETA', 'USD'], ['EURO', 'EUR'], ['NEVER', 'USD']]);
  });
  afterAll(() => server.close());

  async function bookExample(method: string, split: boolean) {
    const id = await createPortfolio(url, key, `example ${method} ${split}`, method);
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2023-01-02', amount: '10000', currency: 'USD' });
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2023-01-05', symbol: 'ACME', quantity: '100', price: '10' });
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2023-03-01', symbol: 'ACME', quantity: '100', price: '12' });
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2023-06-01', symbol: 'ACME', quantity: '100', price: '11' });
    if (split) await recordOk(url, key, { portfolioId: id, type: 'SPLIT', date: '2023-09-01', symbol: 'ACME', splitRatio: '2' });
    const sell = await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-02-01', symbol: 'ACME', quantity: split ? '300' : '150', price: split ? '7.5' : '15' });
    expect(sell.amount).toBe('2250');
    return id;
  }

  describe.each(['FIFO', 'LIFO', 'HIFO', 'AVERAGE'])('%s worked example', (method) => {
    test.each([false, true])('split in between: %s', async (split) => {
      const id = await bookExample(method, split);
      const factor = split ? 2 : 1;
      const got = byAcquired(await gains(url, key, id));
      expect(got).toEqual(
        EXAMPLE[method]!.rows.map(([acquiredOn, q, proceeds, cost, gain, holdingDays, longTerm]) => ({
          symbol: 'ACME',
          quantity: String(Number(q) * factor),
          proceeds,
          cost,
          gain,
          acquiredOn,
          soldOn: '2024-02-01',
          holdingDays,
          longTerm,
        })),
      );
      const open = (await lots(url, key, id)).map((l) => [l.acquiredOn, l.qtyOpen, l.costBasis]);
      expect(open).toEqual(EXAMPLE[method]!.open.map(([d, q, c]) => [d, String(Number(q) * factor), c]));
      expect(await cash(db().prisma, id)).toEqual({ USD: '8950' });
      // Closed lots stay listed with openOnly: false.
      expect((await lots(url, key, id, false)).length).toBe(3);
    });
  });

  test('fees add to a buy’s cost and reduce a sell’s proceeds; every cash type moves cash', async () => {
    const id = await createPortfolio(url, key, 'fees');
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-01-02', amount: '5000', currency: 'USD' });
    const buy = await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-03', symbol: 'ACME', quantity: '10', price: '100', fee: '5' });
    expect(buy).toMatchObject({ amount: '-1005', fee: '5', currency: 'USD' });
    expect((await lots(url, key, id))[0]).toMatchObject({ qtyOpen: '10', costBasis: '1005' });
    const sell = await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-02-03', symbol: 'ACME', quantity: '10', price: '110', fee: '5' });
    expect(sell.amount).toBe('1095');
    expect(await gains(url, key, id)).toEqual([expect.objectContaining({ proceeds: '1095', cost: '1005', gain: '90', holdingDays: 31, longTerm: false })]);
    await recordOk(url, key, { portfolioId: id, type: 'DIVIDEND', date: '2024-02-05', symbol: 'ACME', amount: '12.5' });
    await recordOk(url, key, { portfolioId: id, type: 'INTEREST', date: '2024-02-06', amount: '3.25', currency: 'USD' });
    await recordOk(url, key, { portfolioId: id, type: 'FEE', date: '2024-02-07', amount: '1.75', currency: 'USD' });
    await recordOk(url, key, { portfolioId: id, type: 'WITHDRAWAL', date: '2024-02-08', amount: '100', currency: 'USD' });
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-02-08', amount: '250', currency: 'EUR' });
    // 5000 − 1005 + 1095 + 12.5 + 3.25 − 1.75 − 100
    expect(await cash(db().prisma, id)).toEqual({ USD: '5004', EUR: '250' });
    const page = await gql(url, key, `query($id: ID!) { portfolio(id: $id) { transactions(first: 3) { totalCount nodes { type date amount } pageInfo { hasNextPage endCursor } } } }`, { id });
    expect(page.data.portfolio.transactions.totalCount).toBe(8);
    expect(page.data.portfolio.transactions.nodes.map((n: any) => n.type)).toEqual(['DEPOSIT', 'WITHDRAWAL', 'FEE']);
    expect(page.data.portfolio.transactions.pageInfo.hasNextPage).toBe(true);
    const next = await gql(url, key, `query($id: ID!, $a: String) { portfolio(id: $id) { transactions(first: 10, after: $a) { nodes { type } } } }`, { id, a: page.data.portfolio.transactions.pageInfo.endCursor });
    expect(next.data.portfolio.transactions.nodes.map((n: any) => n.type)).toEqual(['INTEREST', 'DIVIDEND', 'SELL', 'BUY', 'DEPOSIT']);
    // realizedGains(from, to) filters on the sale date.
    expect(await gains(url, key, id, '2024-02-04')).toEqual([]);
    expect(await gains(url, key, id, '2024-02-03', '2024-02-03')).toHaveLength(1);
  });

  test('shorts: refused without allowShort; with it a short lot opens and a later BUY covers it', async () => {
    const id = await createPortfolio(url, key, 'shorts', 'FIFO', true);
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-01-02', symbol: 'BETA', quantity: '10', price: '50' });
    expect(await lots(url, key, id)).toEqual([expect.objectContaining({ qtyOpen: '-10', qtyOriginal: '-10', costBasis: '-500' })]);
    // Cover 4 @ 40: proceeds 4/10 of 500 = 200, cost 160, gain 40.
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-10', symbol: 'BETA', quantity: '4', price: '40' });
    // Cover the other 6 @ 45 (proceeds 300, cost 270, gain 30) and open a long lot of 4 @ 45 = 180.
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-20', symbol: 'BETA', quantity: '10', price: '45' });
    expect((await gains(url, key, id)).map((g) => [g.quantity, g.proceeds, g.cost, g.gain, g.longTerm])).toEqual([
      ['4', '200', '160', '40', false],
      ['6', '300', '270', '30', false],
    ]);
    expect(await lots(url, key, id)).toEqual([expect.objectContaining({ qtyOpen: '4', costBasis: '180', acquiredOn: '2024-01-20' })]);
    expect(await cash(db().prisma, id)).toEqual({ USD: String(500 - 160 - 450) });
  });

  test('changing the cost-basis method applies to later sells only and is audited', async () => {
    const id = await createPortfolio(url, key, 'method change');
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-02', symbol: 'ACME', quantity: '10', price: '10' });
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-03', symbol: 'ACME', quantity: '10', price: '20' });
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-01-04', symbol: 'ACME', quantity: '5', price: '30' });
    const res = await gql(url, key, `mutation($id: ID!) { updatePortfolio(id: $id, input: { costBasisMethod: LIFO }) { costBasisMethod } }`, { id });
    expect(res.data.updatePortfolio.costBasisMethod).toBe('LIFO');
    await recordOk(url, key, { portfolioId: id, type: 'SELL', date: '2024-01-05', symbol: 'ACME', quantity: '5', price: '30' });
    // First sale FIFO from the @10 lot (cost 50); the second LIFO from the @20 lot (cost 100).
    expect((await gains(url, key, id)).map((g) => [g.soldOn, g.cost])).toEqual([
      ['2024-01-04', '50'],
      ['2024-01-05', '100'],
    ]);
    const audit = await db().prisma.auditLog.findMany({ where: { portfolioId: id, action: 'portfolio.update' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.before).toEqual({ costBasisMethod: 'FIFO' });
    expect(audit[0]!.after).toEqual({ costBasisMethod: 'LIFO' });
  });

  test('externalId: the same content returns the first booking, other content is a CONFLICT', async () => {
    const id = await createPortfolio(url, key, 'idempotent');
    const input = { portfolioId: id, type: 'BUY', date: '2024-01-02', symbol: 'ACME', quantity: '10', price: '10', externalId: 'broker-1' };
    const first = await recordOk(url, key, input);
    const again = await recordOk(url, key, { ...input, price: '10.000' });
    expect(again.id).toBe(first.id);
    const before = await footprint(db().prisma, id);
    const conflict = await record(url, key, { ...input, quantity: '11' });
    expect(codeOf(conflict)).toBe('CONFLICT');
    expect(conflict.errors![0]!.message).toMatch(/broker-1.*quantity/);
    expect(await footprint(db().prisma, id)).toEqual(before);
    expect(before.transactions).toBe(1);
    expect(before.audit).toBe(2); // portfolio.create + one transaction.record
  });

  test('a backdated transaction marks the NAV series stale from its date', async () => {
    const id = await createPortfolio(url, key, 'backdated');
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-03-01', amount: '100', currency: 'USD' });
    await db().prisma.portfolio.update({ where: { id }, data: { navStaleFrom: null } });
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-01-15', amount: '100', currency: 'USD' });
    expect((await db().prisma.portfolio.findUniqueOrThrow({ where: { id } })).navStaleFrom?.toISOString().slice(0, 10)).toBe('2024-01-15');
    await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-02-15', amount: '100', currency: 'USD' });
    expect((await db().prisma.portfolio.findUniqueOrThrow({ where: { id } })).navStaleFrom?.toISOString().slice(0, 10)).toBe('2024-01-15');
  });

  describe('bad input: refused with a clear message and nothing written', () => {
    let id: string;
    let foreign: string;
    beforeAll(async () => {
      id = await createPortfolio(url, key, 'bad input');
      foreign = await createPortfolio(url, other, 'someone else’s');
      await recordOk(url, key, { portfolioId: id, type: 'DEPOSIT', date: '2024-01-02', amount: '10000', currency: 'USD' });
      await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-03', symbol: 'ACME', quantity: '100', price: '10', externalId: 'x-1' });
    });

    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['oversell', { type: 'SELL', symbol: 'ACME', quantity: '150', price: '11' }, 'BAD_USER_INPUT', /holding 100, selling 150, short by 50/],
      ['sell of a security never held', { type: 'SELL', symbol: 'NEVER', quantity: '1', price: '11' }, 'BAD_USER_INPUT', /holds none.*short by 1/],
      ['sell dated before the buy', { type: 'SELL', date: '2024-01-02', symbol: 'ACME', quantity: '1', price: '11' }, 'BAD_USER_INPUT', /holds none/],
      ['zero quantity', { type: 'BUY', symbol: 'ACME', quantity: '0', price: '11' }, 'BAD_USER_INPUT', /quantity must be greater than 0/],
      ['negative quantity', { type: 'SELL', symbol: 'ACME', quantity: '-5', price: '11' }, 'BAD_USER_INPUT', /quantity must be greater than 0/],
      ['price with 11 decimals', { type: 'BUY', symbol: 'ACME', quantity: '1', price: '10.12345678901' }, 'BAD_USER_INPUT', /price has more than 10 decimal places/],
      ['quantity with 11 decimals', { type: 'BUY', symbol: 'ACME', quantity: '0.00000000001', price: '10' }, 'BAD_USER_INPUT', /quantity has more than 10 decimal places/],
      ['amount with 11 decimals', { type: 'DEPOSIT', amount: '1.00000000001', currency: 'USD' }, 'BAD_USER_INPUT', /amount has more than 10/],
      ['negative deposit', { type: 'DEPOSIT', amount: '-5', currency: 'USD' }, 'BAD_USER_INPUT', /amount must be greater than 0/],
      ['negative fee', { type: 'BUY', symbol: 'ACME', quantity: '1', price: '10', fee: '-1' }, 'BAD_USER_INPUT', /fee must not be negative/],
      ['split ratio 0', { type: 'SPLIT', symbol: 'ACME', splitRatio: '0' }, 'BAD_USER_INPUT', /splitRatio must be greater than 0/],
      ['split ratio −2', { type: 'SPLIT', symbol: 'ACME', splitRatio: '-2' }, 'BAD_USER_INPUT', /splitRatio must be greater than 0/],
      ['split without ratio', { type: 'SPLIT', symbol: 'ACME' }, 'BAD_USER_INPUT', /splitRatio is required/],
      ['unknown symbol', { type: 'BUY', symbol: 'NOPE', quantity: '1', price: '1' }, 'BAD_USER_INPUT', /unknown symbol "NOPE"/],
      ['buy without price', { type: 'BUY', symbol: 'ACME', quantity: '1' }, 'BAD_USER_INPUT', /price is required/],
      ['deposit without currency', { type: 'DEPOSIT', amount: '10' }, 'BAD_USER_INPUT', /currency is required/],
      ['wrong currency for the security', { type: 'BUY', symbol: 'ACME', quantity: '1', price: '1', currency: 'EUR' }, 'BAD_USER_INPUT', /differs from ACME/],
      ['same externalId, different content', { type: 'BUY', symbol: 'ACME', quantity: '100', price: '10.5', externalId: 'x-1' }, 'CONFLICT', /x-1.*price/],
      ['future date', { type: 'DEPOSIT', amount: '10', currency: 'USD', date: '2999-01-01' }, 'BAD_USER_INPUT', /in the future/],
    ];

    test.each(cases)('%s', async (_name, fields, code, message) => {
      const before = await footprint(db().prisma, id);
      const res = await record(url, key, { portfolioId: id, date: '2024-02-01', ...fields });
      expect(codeOf(res)).toBe(code);
      expect(res.errors![0]!.message).toMatch(message);
      expect(await footprint(db().prisma, id)).toEqual(before);
    });

    test('a transaction in a foreign portfolio reads exactly like one in a nonexistent portfolio', async () => {
      const before = await footprint(db().prisma, foreign);
      const input = { type: 'DEPOSIT', date: '2024-02-01', amount: '10', currency: 'USD' };
      const a = await record(url, key, { portfolioId: foreign, ...input });
      const missing = '00000000-0000-4000-8000-000000000000';
      const b = await record(url, key, { portfolioId: missing, ...input });
      expect(codeOf(a)).toBe('NOT_FOUND');
      expect(codeOf(b)).toBe('NOT_FOUND');
      expect(a.errors![0]!.message.replace(foreign, 'ID')).toBe(b.errors![0]!.message.replace(missing, 'ID'));
      expect(await footprint(db().prisma, foreign)).toEqual(before);
    });

    test('the audit log shows only what was booked', async () => {
      const actions = (await db().prisma.auditLog.findMany({ where: { portfolioId: id }, orderBy: { id: 'asc' } })).map((a) => a.action);
      expect(actions).toEqual(['portfolio.create', 'transaction.record', 'transaction.record']);
    });
  });

  // The unlocked fill path relies on this: a booking whose gate yields no row writes nothing at all.
  test('a gated booking whose gate finds the data changed writes nothing, with its lots, gains, cash and audit entry', async () => {
    const id = await createPortfolio(url, key, 'gated');
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-02', symbol: 'ACME', quantity: '10', price: '10' });
    await recordOk(url, key, { portfolioId: id, type: 'BUY', date: '2024-01-03', symbol: 'ACME', quantity: '10', price: '12' });
    const { ledger } = server.app.services;
    const prisma = db().prisma;
    const portfolio = await prisma.portfolio.findUniqueOrThrow({ where: { id } });
    const security = await prisma.security.findUniqueOrThrow({ where: { symbol: 'ACME' } });
    const sell = { type: 'SELL' as const, date: '2024-02-01', security, quantity: new D(15), price: new D(20), fee: new D(1), amount: null, currency: 'USD', splitRatio: null, externalId: null, note: null };
    const lots = await prisma.$transaction((tx) => ledger.openLots(tx, id, security.id, 'SELL'));
    const before = await footprint(prisma, id);
    const published: unknown[] = [];
    const audit = (booked: { transactionId: string }, gated: { from: Prisma.Sql }) => [
      auditCte({ actor: null, meta: { requestId: 'gated' } }, gated, { action: 'test.gated', entityType: 'Transaction', entityId: booked.transactionId, portfolioId: id }),
    ];
    const refused = await ledger.book(prisma, portfolio, sell, (fn) => published.push(fn), {
      lots,
      alsoWrite: audit,
      gate: Prisma.sql`gate AS (SELECT id AS gate_portfolio FROM portfolios WHERE id = ${id}::uuid AND xmin::text = '0' FOR UPDATE)`,
    });
    expect(refused).toMatchObject({ written: false, lotsChanged: 2, realizedGains: 2 });
    expect(published).toEqual([]);
    expect(await footprint(prisma, id)).toEqual(before);
    // The same booking with a gate that finds the portfolio unchanged writes all of it.
    const version = (await prisma.$queryRaw<{ version: string }[]>`SELECT xmin::text AS version FROM portfolios WHERE id = ${id}::uuid`)[0]!.version;
    const booked = await ledger.book(prisma, portfolio, sell, (fn) => published.push(fn), {
      lots,
      alsoWrite: audit,
      gate: Prisma.sql`gate AS (SELECT id AS gate_portfolio FROM portfolios WHERE id = ${id}::uuid AND xmin::text = ${version} FOR UPDATE)`,
    });
    expect(booked.written).toBe(true);
    expect(published).toHaveLength(1);
    const after = await footprint(prisma, id);
    expect([after.transactions, after.realized, after.audit]).toEqual([before.transactions + 1, 2, before.audit + 1]);
    expect(after.lots.map((l: { qtyOpen: string }) => l.qtyOpen).sort()).toEqual(['0', '5']);
    expect(after.balances).toEqual({ USD: String(-100 - 120 + 15 * 20 - 1) });
  });
  // realized_gains has one foreign key for its lot, portfolio and security (the lot's): a gain
  // that names another portfolio's lot, or its lot with another security, is refused.
  test('the database refuses a realized gain whose portfolio or security is not its lot\'s', async () => {
    const mine = await createPortfolio(url, key, 'gain owner');
    const theirs = await createPortfolio(url, key, 'gain other');
    const buy = await recordOk(url, key, { portfolioId: mine, type: 'BUY', date: '2024-01-02', symbol: 'ACME', quantity: '10', price: '10' });
    const prisma = db().prisma;
    const { lot, acme, beta } = await asSystem(async () => ({
      lot: await prisma.lot.findFirstOrThrow({ where: { portfolioId: mine } }),
      acme: await prisma.security.findUniqueOrThrow({ where: { symbol: 'ACME' } }),
      beta: await prisma.security.findUniqueOrThrow({ where: { symbol: 'BETA' } }),
    }));
    const gain = (portfolioId: string, securityId: string) =>
      asSystem(() => prisma.$executeRaw`
        INSERT INTO realized_gains (id, portfolio_id, lot_id, transaction_id, security_id, quantity, proceeds, cost, gain, currency, acquired_on, sold_on, holding_days, long_term)
        VALUES (gen_random_uuid(), ${portfolioId}::uuid, ${lot.id}::uuid, ${buy.id}::uuid, ${securityId}::uuid, 1, 1, 1, 0, 'USD', '2024-01-02', '2024-01-03', 1, false)`);
    await expect(gain(theirs, acme.id)).rejects.toThrow(/realized_gains_portfolio_id_security_id_lot_id_fkey/);
    await expect(gain(mine, beta.id)).rejects.toThrow(/realized_gains_portfolio_id_security_id_lot_id_fkey/);
    expect(await gain(mine, acme.id)).toBe(1);
  });
});
