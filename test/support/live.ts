import WebSocket from 'ws';
import type { Client } from 'graphql-ws';
import { gql, type TestServer } from './server';

/** Values of one subscription, with a way to wait for the n-th or for one that matches. */
export function collect<T = any>(client: Client, query: string, variables?: Record<string, unknown>) {
  const values: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] }[] = [];
  const waiters: (() => void)[] = [];
  let error: unknown;
  let completed = false;
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        values.push(v as never);
        waiters.splice(0).forEach((w) => w());
      },
      error: (e) => {
        error = e;
        waiters.splice(0).forEach((w) => w());
      },
      complete: () => {
        completed = true;
        waiters.splice(0).forEach((w) => w());
      },
    },
  );
  const until = async (pred: () => boolean, timeoutMs = 10_000, what = 'condition') => {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(values)} error=${String(error)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return {
    values,
    stop,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    until,
    waitFor: async (pred: (v: (typeof values)[number]) => boolean, timeoutMs = 10_000) => {
      await until(() => values.some(pred), timeoutMs, 'a matching value');
      return values.find(pred)!;
    },
  };
}

/** A raw graphql-transport-ws socket, for protocol misbehaviour. */
export async function rawSocket(wsUrl: string): Promise<{ ws: WebSocket; messages: any[]; closed: Promise<number>; send: (m: unknown) => void }> {
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
  const messages: any[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d))));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, messages, closed, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
}

export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A security, a portfolio owned by `owner` with cash and one position, through the API. */
export async function livePortfolio(url: string, admin: string, owner: string, symbol: string, opts: { cash: string; qty: string; price: string }) {
  const sec = await gql(url, admin, `mutation($i: SecurityInput!) { upsertSecurity(input: $i) { id } }`, { i: { symbol, name: symbol, currency: 'USD' } });
  if (sec.errors) throw new Error(JSON.stringify(sec.errors));
  const p = await gql(url, owner, `mutation($i: CreatePortfolioInput!) { createPortfolio(input: $i) { id } }`, { i: { name: `P-${symbol}-${Math.random()}`, baseCurrency: 'USD' } });
  if (p.errors) throw new Error(JSON.stringify(p.errors));
  const id = p.data.createPortfolio.id as string;
  const tx = `mutation($i: TransactionInput!) { recordTransaction(input: $i) { id } }`;
  for (const i of [
    { portfolioId: id, type: 'DEPOSIT', date: '2024-01-02', amount: opts.cash, currency: 'USD' },
    { portfolioId: id, type: 'BUY', date: '2024-01-03', symbol, quantity: opts.qty, price: opts.price },
  ]) {
    const r = await gql(url, owner, tx, { i });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
  }
  return id;
}

export const INGEST = `mutation($input: [PriceInput!]!) { ingestPrices(input: $input) { accepted rejected errors { index message } } }`;
export const NAV_SUB = `subscription($id: ID!) { navUpdated(portfolioId: $id) { portfolioId nav previousNav change changePct asOf seq } }`;
export const ALERT_SUB = `subscription($id: ID) { alertTriggered(portfolioId: $id) { id ruleId portfolioId type value message triggeredAt } }`;

export async function ingest(server: Pick<TestServer, 'url'>, key: string, symbol: string, close: string, at = new Date()) {
  const r = await gql(server.url, key, INGEST, { input: [{ symbol, at: at.toISOString(), close }] });
  if (r.errors || r.data.ingestPrices.rejected) throw new Error(JSON.stringify(r));
}
