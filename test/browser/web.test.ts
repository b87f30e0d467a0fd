import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { gql, startTestServer, type TestServer } from '../support/server';
import { describeInBrowser, launchBrowser, SCREENSHOTS, until } from '../support/browser';
import { seedDemo } from '../../src/server/demo';
import { createLogger } from '../../src/logger';
import { DEMO_API_KEY } from '../../src/db/demo-data';

/*
 * End to end in headless Chromium against the real server over the demo dataset, as `npm start`
 * serves it: the GraphiQL IDE runs a query and a navUpdated subscription, and the dashboard signs
 * in and shows the NAV move after a price is ingested through the API. With UPDATE_SCREENSHOTS=1 it refreshes the screenshots
 * in docs/screenshots (shown in the README).
 */
describeInBrowser('browser: IDE and dashboard', () => {
  let db: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let origin: string;
  let portfolio: { id: string; name: string };
  let aapl: { quantity: string; price: string };
  const pageErrors: string[] = [];

  /** A new AAPL tick through ingestPrices, as a price feed would send it. */
  async function tick(close: number): Promise<void> {
    const res = await gql(server.url, DEMO_API_KEY, 'mutation($p: [PriceInput!]!) { ingestPrices(input: $p) { accepted errors { message } } }', {
      p: [{ symbol: 'AAPL', at: new Date().toISOString(), close: close.toFixed(2) }],
    });
    expect(res.data?.ingestPrices).toMatchObject({ accepted: 1 });
  }

  async function newPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return page;
  }

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    server = await startTestServer(db);
    await seedDemo(server.app.services, async () => true, createLogger('silent'));
    origin = new URL(server.url).origin;
    const res = await gql(server.url, DEMO_API_KEY, '{ portfolios(first: 1) { nodes { id name valuation { holdings { symbol quantity price } } } } }');
    const first = res.data.portfolios.nodes[0];
    portfolio = { id: first.id, name: first.name };
    aapl = first.valuation.holdings.find((h: { symbol: string }) => h.symbol === 'AAPL');
    expect(aapl).toBeDefined();
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await db?.drop();
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  test('GraphiQL is served at /graphql to browsers and runs a query and a navUpdated subscription', async () => {
    const page = await newPage();
    await page.goto(`${origin}/graphql`);
    await page.fill('input[name=apiKey]', DEMO_API_KEY);
    await page.click('text=Save key');
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    // Monaco renders spaces as no-break spaces.
    const response = { innerText: async () => (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ') };

    // The first example tab: who am I and my portfolios (over HTTP, with the Authorization header).
    await page.locator('.graphiql-tab', { hasText: 'Portfolios' }).first().click();
    await page.click('.graphiql-execute-button');
    await until('the query result', () => response.innerText(), (t) => t.includes(portfolio.name));

    // The navUpdated example (over graphql-ws, with connectionParams): the current NAV at once,
    // then a new one after a price is ingested.
    await page.locator('.graphiql-tab', { hasText: 'NavUpdated' }).click();
    await until('the NavUpdated tab', () => page.locator('.graphiql-query-editor').innerText(), (t) => t.includes('navUpdated'));
    // GraphiQL takes the operation name from the editor a moment after a tab switch.
    await page.waitForTimeout(1000);
    await page.click('.graphiql-execute-button');
    await until('the first navUpdated event', () => response.innerText(), (t) => /"seq": \d+/.test(t));
    const before = await response.innerText();
    await tick(Number(aapl.price) + 5);
    await until('a navUpdated event after the tick', () => response.innerText(), (t) => t !== before);
    expect(await response.innerText()).toMatch(/"change": "-?\d/);

    // The docs come from the server's schema, or from the bundled schema.graphql.
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('text=Root Types');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'ide.png') });
    await page.close();
  }, 90_000);

  test('the dashboard signs in with an API key and shows the NAV change after a price is ingested', async () => {
    const page = await newPage();
    await page.goto(`${origin}/`);
    await page.fill('input[name=apiKey]', DEMO_API_KEY);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('[data-testid=nav-value]', { timeout: 30_000 });
    await until('the navUpdated subscription', () => page.innerText('[data-testid=nav-mode]'), (t) => t.includes('live'));
    await page.waitForSelector('[data-testid=nav-chart]', { timeout: 30_000 });
    expect(await page.innerText('[data-testid=holdings]')).toContain('AAPL');

    const before = await page.innerText('[data-testid=nav-value]');
    await tick(Number(aapl.price) + 12.5);
    await until('the NAV to change', () => page.innerText('[data-testid=nav-value]'), (t) => t !== before);
    // AAPL rose from the previous tick: the change shown is positive.
    expect(await page.innerText('[data-testid=nav-change]')).toMatch(/^\+\$/);
    await page.waitForTimeout(2500); // holdings and exposure follow the NAV (at most every 2 s)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    await page.close();
  }, 90_000);

  test('the alert feed shows an alert as it triggers, and acknowledges it', async () => {
    const rule = await gql(server.url, DEMO_API_KEY, 'mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: { portfolioId: portfolio.id, type: 'PRICE_ABOVE', symbol: 'AAPL', threshold: (Number(aapl.price) + 40).toFixed(2) },
    });
    expect(rule.errors).toBeUndefined();
    const page = await newPage();
    await page.goto(`${origin}/`);
    await page.fill('input[name=apiKey]', DEMO_API_KEY);
    await page.click('button:has-text("Sign in")');
    const feed = () => page.innerText('[data-testid=alerts]');
    await until('the alert feed', feed, (t) => !t.includes('Loading'));
    await until('the navUpdated subscription', () => page.innerText('[data-testid=nav-mode]'), (t) => t.includes('live'));
    await page.waitForTimeout(500); // alertTriggered goes out on the same socket just after

    await tick(Number(aapl.price) + 45);
    await until('the triggered alert', feed, (t) => /price above/i.test(t));
    await page.click('[data-testid=alerts] button:has-text("Acknowledge")');
    await until('the acknowledgement', () => page.locator('[data-testid=alerts] li.acked').count(), (n) => n === 1);
    const events = await gql(server.url, DEMO_API_KEY, 'query($id: ID!) { portfolio(id: $id) { alertEvents { nodes { acknowledgedAt } } } }', { id: portfolio.id });
    expect(events.data.portfolio.alertEvents.nodes.at(-1).acknowledgedAt).toEqual(expect.any(String));
    await page.close();
  }, 60_000);

  test('a wrong key is refused at sign-in', async () => {
    const page = await newPage();
    await page.goto(`${origin}/`);
    await page.fill('input[name=apiKey]', 'fg_not_a_key');
    await page.click('button:has-text("Sign in")');
    await until('the sign-in error', () => page.locator('[role=alert]').innerText(), (t) => t.includes('not valid'));
    await page.close();
  }, 30_000);
});

describe('web routes without a browser', () => {
  let db: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    server = await startTestServer(db);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  test('API clients keep /graphql: a GET with a query, or without text/html, reaches the API', async () => {
    const viaGet = await fetch(`${new URL(server.url).origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'text/html, application/json', 'apollo-require-preflight': '1' } });
    expect(await viaGet.json()).toEqual({ data: { __typename: 'Query' } });
    const plain = await fetch(`${new URL(server.url).origin}/graphql`);
    expect(plain.headers.get('content-type')).not.toMatch(/text\/html/);
    const ide = await fetch(`${new URL(server.url).origin}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(ide.status).toBe(200);
    expect(ide.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await ide.text()).not.toMatch(/https?:\/\//);
  });
});

describe('IDE_ENABLED=0', () => {
  let db: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    server = await startTestServer(db, { IDE_ENABLED: '0' });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  test('browsers get 404 at /graphql; the API is unaffected', async () => {
    const ide = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(ide.status).toBe(404);
    const api = await gql(server.url, null, '{ __typename }');
    expect(api.data).toEqual({ __typename: 'Query' });
  });
});
