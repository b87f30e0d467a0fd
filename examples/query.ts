// A typed GraphQL client in a few lines: the operations below are typed by GraphQL Code
// Generator's client preset (examples/generated, made by `npm install` / `npm run generate`).
//
//   npm start                      # in another terminal: the demo on http://localhost:4000
//   npx tsx examples/query.ts      # the demo key by default
//
// FOLIOGRAPH_URL (default http://localhost:4000/graphql) and FOLIOGRAPH_API_KEY
// (default the demo key) point it elsewhere. `--buy SYMBOL QUANTITY` also places a MARKET
// order in the first portfolio (the demo's paper broker fills it at the latest quote).
import { graphql } from './generated';
import type { TypedDocumentString } from './generated/graphql';

// The same variable as examples/watch-nav.ts: a ws:// address works here too.
const url = (process.env.FOLIOGRAPH_URL ?? 'http://localhost:4000/graphql').replace(/^ws/, 'http');
const apiKey = process.env.FOLIOGRAPH_API_KEY ?? 'fg_demo_local_key_not_for_production';

const PortfoliosQuery = graphql(`
  query ExamplePortfolios {
    me {
      email
      role
    }
    portfolios(first: 10) {
      nodes {
        id
        name
        baseCurrency
      }
    }
  }
`);

const ValuationQuery = graphql(`
  query ExampleValuation($id: ID!, $from: Date!, $to: Date!) {
    portfolio(id: $id) {
      name
      baseCurrency
      valuation {
        asOf
        nav
        cashValue
        positionsValue
        holdings {
          symbol
          quantity
          price
          marketValueBase
          unrealizedPnlBase
          weight
        }
      }
      navHistory(from: $from, to: $to) {
        date
        nav
      }
    }
  }
`);

const PlaceOrderMutation = graphql(`
  mutation ExamplePlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      id
      symbol
      side
      quantity
      status
      avgFillPrice
    }
  }
`);

/** POSTs one typed operation; the result and the variables are checked by the compiler. */
async function execute<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await res.json()) as { data?: R; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  return body.data as R;
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const pct = (fraction: string) => `${(Number(fraction) * 100).toFixed(2)}%`;
// Display only: the API's decimals are exact strings; Number is fine for printing two places.
const money = (amount: string) => Number(amount).toFixed(2);

async function main() {
  const { me, portfolios } = await execute(PortfoliosQuery);
  console.log(`Signed in as ${me?.email} (${me?.role}); ${portfolios.nodes.length} portfolio(s)`);
  const first = portfolios.nodes[0];
  if (!first) return;

  const buy = process.argv.indexOf('--buy');
  if (buy > 0) {
    const [symbol, quantity] = process.argv.slice(buy + 1, buy + 3);
    if (!symbol || !quantity) throw new Error('usage: --buy SYMBOL QUANTITY');
    const { placeOrder } = await execute(PlaceOrderMutation, { input: { portfolioId: first.id, symbol, side: 'BUY', type: 'MARKET', quantity } });
    console.log(`Order ${placeOrder.id}: ${placeOrder.side} ${placeOrder.quantity} ${placeOrder.symbol} → ${placeOrder.status}${placeOrder.avgFillPrice ? ` at ${placeOrder.avgFillPrice}` : ''}`);
  }

  const { portfolio } = await execute(ValuationQuery, { id: first.id, from: day(-30), to: day(0) });
  if (!portfolio) throw new Error(`portfolio ${first.id} not found`);
  const v = portfolio.valuation;
  console.log(`\n${portfolio.name}: NAV ${v.nav} ${portfolio.baseCurrency} (positions ${v.positionsValue}, cash ${v.cashValue}) as of ${v.asOf}`);
  console.table(
    v.holdings.map((h) => ({ symbol: h.symbol, quantity: h.quantity, price: h.price, [`value ${portfolio.baseCurrency}`]: money(h.marketValueBase), weight: pct(h.weight), [`P&L ${portfolio.baseCurrency}`]: money(h.unrealizedPnlBase) })),
  );
  const series = portfolio.navHistory;
  if (series.length > 1) {
    const [a, b] = [series[0]!, series[series.length - 1]!];
    console.log(`NAV ${a.date} → ${b.date}: ${a.nav} → ${b.nav} (${pct(String(Number(b.nav) / Number(a.nav) - 1))}, flows included)`);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  if (/fetch failed|ECONNREFUSED/.test(`${err.message} ${(err as { cause?: Error }).cause?.message ?? ''}`)) console.error(`Is the server running at ${url}? (npm start)`);
  process.exit(1);
});
