/**
 * Prints a portfolio's live NAV as it changes, over graphql-ws.
 *
 *   npm start                                   # the embedded demo, with its market simulator
 *   npx tsx examples/watch-nav.ts <portfolioId> # in another terminal
 *
 * Without a portfolio id it watches the key's first portfolio. FOLIOGRAPH_URL (default
 * ws://localhost:4000/graphql) and FOLIOGRAPH_API_KEY (default: the demo key) override.
 */
import WebSocket from 'ws';
import { CloseCode, createClient } from 'graphql-ws';

const url = process.env.FOLIOGRAPH_URL ?? 'ws://localhost:4000/graphql';
const key = process.env.FOLIOGRAPH_API_KEY ?? 'fg_demo_local_key_not_for_production';

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${key}` },
  // Survive server restarts: NAV needs no replay (a snapshot comes on every subscribe). A key
  // the server refuses (4403) is not retried: it would never print anything.
  retryAttempts: Infinity,
  shouldRetry: (e) => !isForbidden(e),
});

function isForbidden(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === CloseCode.Forbidden;
}

async function firstPortfolio(): Promise<string> {
  for await (const r of client.iterate<{ portfolios: { nodes: { id: string; name: string }[] } }>({ query: '{ portfolios(first: 1) { nodes { id name } } }' })) {
    const p = r.data?.portfolios.nodes[0];
    if (!p) throw new Error(r.errors?.[0]?.message ?? 'this key reads no portfolio');
    return p.id;
  }
  throw new Error('no answer');
}

async function main() {
  const portfolioId = process.argv[2] ?? (await firstPortfolio());
  console.log(`watching ${portfolioId} at ${url} (Ctrl-C to stop)`);
  const query = `subscription($id: ID!) { navUpdated(portfolioId: $id) { nav previousNav change changePct asOf seq } }`;
  for await (const r of client.iterate<{ navUpdated: { nav: string; change: string | null; changePct: string | null; asOf: string; seq: number } }>({ query, variables: { id: portfolioId } })) {
    if (r.errors) {
      console.error(r.errors.map((e) => `${(e.extensions as { code?: string } | undefined)?.code ?? 'ERROR'}: ${e.message}`).join('\n'));
      process.exit(1);
    }
    const u = r.data!.navUpdated;
    const pct = u.changePct ? ` (${(Number(u.changePct) * 100).toFixed(3)}%)` : '';
    console.log(`#${u.seq} ${u.asOf}  NAV ${u.nav}${u.change ? `  ${u.change.startsWith('-') ? '' : '+'}${u.change}${pct}` : ''}`);
  }
}

process.on('SIGINT', () => {
  void Promise.resolve(client.dispose()).then(() => process.exit(0));
});
main().catch((err: unknown) => {
  console.error(isForbidden(err) ? `the server refused the key (${CloseCode.Forbidden}): set FOLIOGRAPH_API_KEY` : err);
  process.exit(1);
});
