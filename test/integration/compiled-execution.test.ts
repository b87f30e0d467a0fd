import { describeEachEngine } from '../support/db';
import { codeOf, createUserWithKey, gql, startTestServer, type GqlResponse, type TestServer } from '../support/server';

/*
 * A document's first execution over HTTP is graphql-js's, the ones after it graphql-jit's
 * (src/server/compiled-execution.ts): whatever the document, the answers must not differ.
 */
describeEachEngine('compiled execution of repeated queries', (db) => {
  let server: TestServer;
  let owner: { userId: string; key: string };
  let portfolioId: string;

  beforeAll(async () => {
    server = await startTestServer(db());
    owner = await createUserWithKey(server, 'USER');
    const create = `mutation($input: CreatePortfolioInput!) { createPortfolio(input: $input) { id } }`;
    for (const name of ['First', 'Second']) {
      portfolioId = (await gql(server.url, owner.key, create, { input: { name, baseCurrency: 'EUR' } })).data.createPortfolio.id;
    }
    const deposit = `mutation($input: TransactionInput!) { recordTransaction(input: $input) { id } }`;
    const booked = await gql(server.url, owner.key, deposit, { input: { portfolioId, type: 'DEPOSIT', date: '2024-01-02', amount: '1234.56', currency: 'EUR' } });
    expect(codeOf(booked)).toBe('none');
  });
  afterAll(() => server.close());

  /** The same request three times: interpreted, compiled, compiled again. */
  async function thrice(query: string, variables?: Record<string, unknown>): Promise<GqlResponse<any>> {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await gql(server.url, owner.key, query, variables));
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    return answers[0]!;
  }

  test('a connection counts its nodes (totalCount is a function on the model)', async () => {
    const res = await thrice(`query($first: Int) { portfolios(first: $first) { totalCount nodes { name } pageInfo { hasNextPage } } }`, { first: 1 });
    expect(res.data.portfolios).toEqual({ totalCount: 2, nodes: [{ name: 'First' }], pageInfo: { hasNextPage: true } });
  });

  test('a valuation answers the same Decimals, as strings', async () => {
    const res = await thrice(`query($id: ID!) { portfolio(id: $id) { valuation { nav cashValue complete holdings { symbol } cash { currency balance balanceBase } } } }`, { id: portfolioId });
    expect(res.data.portfolio.valuation).toEqual({ nav: '1234.56', cashValue: '1234.56', complete: true, holdings: [], cash: [{ currency: 'EUR', balance: '1234.56', balanceBase: '1234.56' }] });
  });

  test("a resolver's coded error keeps its code, path and location, and nulls what it must", async () => {
    const query = `query($id: ID!, $sc: String) { portfolio(id: $id) { name stressTest(scenario: $sc) { impact } } }`;
    const res = await thrice(query, { id: portfolioId, sc: 'NOPE' });
    expect(res.status).toBe(200);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.path).toEqual(['portfolio', 'stressTest']);
    expect((res.errors?.[0] as { locations?: unknown }).locations).toEqual([{ line: 1, column: query.indexOf('stressTest') + 1 }]);
  });

  test('an omitted argument gets its default as graphql-js parses it (a Decimal, not its text)', async () => {
    // risk(confidence: Decimal = "0.95") compares the confidence before it reads anything.
    const query = `query($id: ID!, $f: Date!, $t: Date!, $c: Decimal) { portfolio(id: $id) { risk(from: $f, to: $t, confidence: $c) { volatility } } }`;
    const res = await thrice(query, { id: portfolioId, f: '2024-01-02', t: '2024-01-05' });
    expect(codeOf(res)).not.toBe('INTERNAL_SERVER_ERROR');
  });

  test('refused variables are a 400 BAD_USER_INPUT in graphql-js words', async () => {
    const query = `query($id: ID!) { portfolio(id: $id) { name } }`;
    const missing = await thrice(query);
    expect(missing.status).toBe(400);
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    expect(missing.errors?.[0]?.message).toBe('Variable "$id" of required type "ID!" was not provided.');
    const wrong = await thrice(query, { id: { not: 'an id' } });
    expect(wrong.status).toBe(400);
    expect(codeOf(wrong)).toBe('BAD_USER_INPUT');
    // The same document with good variables still answers.
    expect((await thrice(query, { id: portfolioId })).data.portfolio.name).toBe('Second');
  });
});
