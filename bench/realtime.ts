/*
 * Live NAV over graphql-ws (issue 6, "Speed"), on PostgreSQL.
 *
 * One server process (`node --import tsx src/server/main.ts`, spawned on a fresh database
 * created on PG_URL), the load generator in this process, a raw `ws` broadcaster (the
 * baseline) in a third process; all on loopback.
 *
 * Setup through the services: 500 USD securities, 1,000 portfolios each holding 3 of them
 * (portfolio p holds B(400 + p % 100), so one of B400..B499 is held by exactly 10 portfolios
 * and 10 of them move exactly 10 % of the portfolios; plus two of B000..B399), one MANAGER key.
 * 10,000 `navUpdated` subscriptions, the same document, 10 per portfolio, over 1,000 sockets
 * with 10 subscriptions each (a client watching 10 portfolios; the 10 subscribers of a
 * portfolio sit on 10 different sockets).
 *
 * Measured:
 *  - memory per idle subscription (server heap and RSS from /metrics, min of several samples):
 *    retained, after a full GC forced through the server's inspector on loopback; after the
 *    server's own next major GC (nothing forced); and as sampled 2 s after the subscribes,
 *    garbage included;
 *  - ticks moving 10 % of the portfolios: ingestPrices over HTTP, latency from the request's
 *    start to each affected subscriber's receipt (timestamped on arrival, parsed afterwards);
 *  - ticks moving every portfolio: the same to all 10,000, beside the raw baseline in the
 *    same run: the same 10,000 payloads (graphql-ws `next` messages, serialized per message)
 *    sent by a bare `ws` server to 1,000 sockets × 10 ids, from the trigger request's start;
 *  - 1,000 ticks/s over the 500 securities (a 50-price ingestPrices every 50 ms) for 20 s
 *    with the 10,000 subscribers attached: server CPU from foliograph_process_cpu_seconds_total.
 *
 * Usage: npx tsx bench/realtime.ts [reps=5]   (PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres;
 *        REALTIME_COALESCE_MS passed through to the server, default the server's 50 ms; SUSTAIN_S, default 20;
 *        SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/rt-prof", added to the server's node flags;
 *        OWN_GC_WAIT_S, default 120, how long to wait, idle, for the server's own major GC after the subscribes (0: not at all);
 *        SUBSCRIBE_TIMEOUT_S, default 300, how long the 10,000 subscribes may take on a loaded machine;
 *        SUSTAIN_PROFILE=<file.cpuprofile>: the server's CPU profile of the sustained phase alone, taken through its inspector;
 *        SUBSCRIBE_HEAP_PROFILE=<file.heapprofile>: the server's sampled allocations from the 10,000 subscribes to the memory sample after them,
 *        every allocation collected or not, or with SUBSCRIBE_HEAP_PROFILE_OF=retained only what a full GC left)
 */
import os from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { Client } from 'pg';
import { openDatabase } from '../src/db/client';
import { applyMigrations } from '../src/db/migrate';
import { createServices } from '../src/services';
import { createEventBus } from '../src/events/redis-bus';
import { createLogger } from '../src/logger';
import { D } from '../src/domain/decimal';

const ROOT = path.resolve(__dirname, '..');
const N_SEC = 500;
const N_PORT = 1000;
const SUBS_PER_PORT = 10;
const SOCKETS = 1000;
const SUBS_PER_SOCKET = (N_PORT * SUBS_PER_PORT) / SOCKETS;
const NAV_SUB = `subscription($id: ID!) { navUpdated(portfolioId: $id) { portfolioId nav previousNav change changePct asOf seq } }`;
const INGEST = `mutation($input: [PriceInput!]!) { ingestPrices(input: $input) { accepted rejected } }`;
const sym = (i: number) => `B${String(i).padStart(3, '0')}`;
const holdings = (p: number) => [400 + (p % 100), (p * 7) % 400, (p * 13 + 5) % 400 === (p * 7) % 400 ? (p * 13 + 6) % 400 : (p * 13 + 5) % 400];
/** Socket s carries portfolios (s + 100k) % 1000, k = 0..9. */
const portfolioOf = (s: number, k: number) => (s + 100 * k) % N_PORT;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the raw baseline process

/** A bare ws server: each socket names its (id, portfolio) pairs; POST /broadcast sends one `next` per pair of the given portfolios. */
function rawServer() {
  const subs = new Map<number, { ws: WebSocket; id: string }[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const updates = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      let sent = 0;
      for (const [p, update] of Object.entries(updates)) {
        for (const s of subs.get(Number(p)) ?? []) {
          s.ws.send(JSON.stringify({ id: s.id, type: 'next', payload: { data: { navUpdated: update } } }));
          sent++;
        }
      }
      res.end(String(sent));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.once('message', (d) => {
      for (const [id, p] of JSON.parse(String(d)) as [string, number][]) {
        let list = subs.get(p);
        if (!list) subs.set(p, (list = []));
        list.push({ ws, id });
      }
      ws.send('ok');
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`));
}

// ---------------------------------------------------------------- helpers

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function scrape(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(foliograph_(?:process_cpu_seconds_total|process_resident_memory_bytes|nodejs_heap_size_used_bytes|nodejs_external_memory_bytes|nodejs_gc_duration_seconds_count\{kind="major"\})) ([\d.e+]+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

const MAJOR_GCS = 'foliograph_nodejs_gc_duration_seconds_count{kind="major"}';

interface Memory {
  rss: number;
  heap: number;
}

/**
 * The server's RSS and heap, idle (minimum of a few samples):
 *  - `asIs`: 2 s after the phase, as they are: with whatever garbage the phase left that V8
 *    has not collected yet (how much depends on when its next major GC comes, not on what
 *    the subscriptions hold);
 *  - `ownGc` (when `waitOwnGcS` is given): after the server's own next major GC, nothing forced,
 *    waited for up to that many seconds of idleness (null if none came), with when it came;
 *  - `retained`: after two full GCs forced through the server's inspector: what is still referenced.
 */
async function memory(base: string, inspectPort: number, waitOwnGcS = 0) {
  await sleep(2000);
  const sample = async (): Promise<Memory> => {
    let rss = Infinity;
    let heap = Infinity;
    for (let i = 0; i < 6; i++) {
      const m = await scrape(base);
      rss = Math.min(rss, m.foliograph_process_resident_memory_bytes!);
      heap = Math.min(heap, m.foliograph_nodejs_heap_size_used_bytes!);
      await sleep(500);
    }
    return { rss, heap };
  };
  const majors = async () => (await scrape(base))[MAJOR_GCS] ?? 0;
  const before = await majors();
  const asIs = await sample();
  let ownGc: (Memory & { afterS: number }) | null = null;
  if (waitOwnGcS) {
    const t0 = performance.now();
    let gcs = before;
    while (gcs === before && performance.now() - t0 < waitOwnGcS * 1000) {
      await sleep(1000);
      gcs = await majors();
    }
    // 2 s before the first sample, ~3 s of sampling, then the wait.
    if (gcs > before) ownGc = { ...(await sample()), afterS: 5 + (performance.now() - t0) / 1000 };
  }
  await collectGarbage(inspectPort);
  return { asIs, ownGc, retained: await sample() };
}

/** A session on the server's inspector (it runs with --inspect on loopback): `call` sends one protocol command and resolves with its result. */
async function inspector(inspectPort: number) {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(target!.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 2 ** 30 });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let nextId = 1;
  const call = (method: string, params?: object) => {
    const id = nextId++;
    ws.send(JSON.stringify({ id, method, params }));
    return new Promise<unknown>((resolve) =>
      ws.on('message', (d) => {
        const msg = JSON.parse(String(d)) as { id?: number; result?: unknown };
        if (msg.id === id) resolve(msg.result);
      }),
    );
  };
  return { call, close: () => ws.close() };
}

/** Two full GCs through the inspector (HeapProfiler.collectGarbage). */
async function collectGarbage(inspectPort: number) {
  const session = await inspector(inspectPort);
  for (let i = 0; i < 2; i++) await session.call('HeapProfiler.collectGarbage');
  session.close();
}

/** The main thread's time on a CPU and runnable but waiting for one, in seconds (Linux /proc; null elsewhere). */
function schedstat(pid: number): { onCpu: number; waiting: number } | null {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { onCpu: onCpu! / 1e9, waiting: waiting! / 1e9 };
  } catch {
    return null;
  }
}

interface HeapProfileNode {
  selfSize: number;
  children: HeapProfileNode[];
}

interface Received {
  t: number;
  d: Buffer;
}

// ---------------------------------------------------------------- main

async function main() {
  const REPS = Number(process.argv[2] ?? 5);
  const SUSTAIN_S = Number(process.env.SUSTAIN_S ?? 20);

  const ADMIN_URL = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const NAME = `fg_bench_rt_${process.pid}`;
  const u = new URL(ADMIN_URL);
  u.pathname = `/${NAME}`;
  const dbUrl = u.toString();
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${NAME}`);
  const children: ChildProcess[] = [];
  try {
    // ------------------------------------------------ setup through the services
    let t = performance.now();
    const db = await openDatabase({ url: dbUrl, poolSize: 10 });
    await applyMigrations(db);
    const pgVersion = (await db.prisma.$queryRawUnsafe<{ v: string }[]>("SELECT current_setting('server_version') AS v"))[0]!.v;
    const log = createLogger('silent');
    const services = createServices(db.prisma, await createEventBus(undefined, log));
    const SYSTEM = { actor: { userId: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' as const, apiKeyId: null }, meta: { requestId: 'bench' } };
    const user = await services.identity.createUser(SYSTEM, { email: 'bench@bench.local', role: 'MANAGER' });
    const key = (await services.identity.createApiKey(SYSTEM, { name: 'bench', userId: user.id })).key;
    const ctx = { actor: { userId: user.id, role: 'MANAGER' as const, apiKeyId: null }, meta: { requestId: 'bench' } };
    const pool = async <T>(n: number, width: number, fn: (i: number) => Promise<T>) => {
      const out: T[] = new Array(n);
      let next = 0;
      await Promise.all(Array.from({ length: width }, async () => {
        while (next < n) {
          const i = next++;
          out[i] = await fn(i);
        }
      }));
      return out;
    };
    await pool(N_SEC, 8, (i) => services.securities.upsert(ctx, { symbol: sym(i), name: `Bench ${i}`, currency: 'USD' } as never));
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await services.marketData.ingestPrices(ctx, Array.from({ length: N_SEC }, (_, i) => ({ symbol: sym(i), date: day, close: new D(20 + (i % 50)) })) as never);
    const portfolioIds = await pool(N_PORT, 8, async (p) => {
      const pf = await services.portfolios.create(ctx, { name: `RT ${p}`, baseCurrency: 'USD' });
      await services.ledger.record(ctx, { portfolioId: pf.id, type: 'DEPOSIT', date: day, amount: new D(100_000), currency: 'USD' } as never);
      for (const s of holdings(p)) await services.ledger.record(ctx, { portfolioId: pf.id, type: 'BUY', date: day, symbol: sym(s), quantity: new D(10 + (p % 17)), price: new D(20) } as never);
      return pf.id;
    });
    await db.close();
    const setupS = (performance.now() - t) / 1000;
    const indexOf = new Map(portfolioIds.map((id, i) => [id, i]));

    // ------------------------------------------------ the server and the raw broadcaster
    const port = await freePort();
    const inspectPort = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      DATABASE_URL: dbUrl,
      LOG_LEVEL: 'warn',
      SEED_DEMO: '0',
      MARKET_SIMULATOR: '0',
      PAPER_BROKER: '0',
      RATE_LIMIT_PER_KEY: '0',
      RATE_LIMIT_PER_IP: '0',
      WS_MAX_CONNECTIONS_PER_KEY: '0',
      WS_MAX_SUBSCRIPTIONS: '100000',
      ...(process.env.REALTIME_COALESCE_MS ? { REALTIME_COALESCE_MS: process.env.REALTIME_COALESCE_MS } : {}),
    };
    const server = spawn(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, ...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'src/server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(server);
    // LOG_LEVEL=warn hides the 'listening' line: readiness by polling /readyz.
    await waitFor(async () => {
      try {
        return (await fetch(`${base}/readyz`)).ok;
      } catch {
        return false;
      }
    }, 120_000, 'the server to be ready');
    const raw = spawn(process.execPath, ['--import', 'tsx', __filename, '--raw-server'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(raw);
    const rawPort = await new Promise<number>((resolve) => {
      let out = '';
      raw.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    });

    let seqAt = 1;
    const nextAt = () => new Date(Date.now() + seqAt++).toISOString();
    const ingest = async (prices: { symbol: string; close: string }[]) => {
      const at = nextAt();
      const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query: INGEST, variables: { input: prices.map((p) => ({ ...p, at })) } }) });
      const body = (await res.json()) as { data?: { ingestPrices: { rejected: number } }; errors?: unknown };
      if (!body.data || body.data.ingestPrices.rejected) throw new Error(JSON.stringify(body).slice(0, 500));
      return performance.now();
    };

    const mem0 = await memory(base, inspectPort);

    // ------------------------------------------------ 1,000 sockets × 10 subscriptions
    const inbox: Received[] = [];
    let counting = false;
    let counted = 0;
    const gqlSockets: WebSocket[] = [];
    t = performance.now();
    await pool(SOCKETS, 50, async (s) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false });
      gqlSockets[s] = ws;
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
        ws.once('message', (d) => {
          if (JSON.parse(String(d)).type !== 'connection_ack') reject(new Error(String(d)));
          else resolve();
        });
      });
      ws.on('message', (d: Buffer) => {
        if (counting) counted++;
        else inbox.push({ t: performance.now(), d });
      });
    });
    const connectS = (performance.now() - t) / 1000;
    const mem1 = await memory(base, inspectPort);
    let profiled: number | null = null;
    const heapProfiler = process.env.SUBSCRIBE_HEAP_PROFILE ? await inspector(inspectPort) : null;
    // Every allocation sampled, collected or not (what the sample "as it is" holds), or (=retained) only what survives the full GC.
    const retainedOnly = process.env.SUBSCRIBE_HEAP_PROFILE_OF === 'retained';
    await heapProfiler?.call('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: !retainedOnly, includeObjectsCollectedByMinorGC: !retainedOnly });
    const subscribeCpu0 = (await scrape(base)).foliograph_process_cpu_seconds_total!;
    t = performance.now();
    for (let s = 0; s < SOCKETS; s++)
      for (let k = 0; k < SUBS_PER_SOCKET; k++) gqlSockets[s]!.send(JSON.stringify({ id: `${s}.${k}`, type: 'subscribe', payload: { query: NAV_SUB, variables: { id: portfolioIds[portfolioOf(s, k)] } } }));
    await waitFor(() => inbox.length >= N_PORT * SUBS_PER_PORT, Number(process.env.SUBSCRIBE_TIMEOUT_S ?? 300) * 1000, 'the 10,000 first NAVs');
    const subscribeS = (performance.now() - t) / 1000;
    const subscribeCpu = (await scrape(base)).foliograph_process_cpu_seconds_total! - subscribeCpu0;
    const firstErrors = inbox.filter((m) => !m.d.includes('"navUpdated"')).length;
    if (firstErrors) throw new Error(`subscribe failed: ${String(inbox.find((m) => !m.d.includes('"navUpdated"'))!.d)}`);
    inbox.length = 0;
    const ownGcWaitS = Number(process.env.OWN_GC_WAIT_S ?? 120);
    const mem2 = await memory(base, inspectPort, ownGcWaitS);
    if (heapProfiler) {
      const { profile } = (await heapProfiler.call('HeapProfiler.getSamplingProfile')) as { profile: unknown };
      await heapProfiler.call('HeapProfiler.stopSampling');
      writeFileSync(process.env.SUBSCRIBE_HEAP_PROFILE!, JSON.stringify(profile));
      heapProfiler.close();
      const total = (n: HeapProfileNode): number => n.children.reduce((sum, c) => sum + total(c), n.selfSize);
      profiled = total((profile as { head: HeapProfileNode }).head);
    }

    // Raw sockets: the same 1,000 × 10 (id, portfolio) layout on the bare ws server.
    const rawSockets: WebSocket[] = [];
    await pool(SOCKETS, 50, async (s) => {
      const ws = new WebSocket(`ws://127.0.0.1:${rawPort}/`, { perMessageDeflate: false });
      rawSockets[s] = ws;
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send(JSON.stringify(Array.from({ length: SUBS_PER_SOCKET }, (_, k) => [`${s}.${k}`, portfolioOf(s, k)]))));
        ws.once('message', () => resolve());
      });
      ws.on('message', (d: Buffer) => inbox.push({ t: performance.now(), d }));
    });

    /** Latencies of the messages received since `from`, one per subscription id; the payloads by portfolio index. */
    const collect = async (t0: number, expected: number, timeoutMs = 30_000) => {
      await waitFor(() => inbox.length >= expected, timeoutMs, `${expected} messages (got ${inbox.length})`).catch((e) => console.warn(String(e)));
      await sleep(200); // anything extra (there should be nothing)
      const got = inbox.splice(0);
      const ids = new Set<string>();
      const lat: number[] = [];
      const payloads: Record<number, unknown> = {};
      for (const m of got) {
        const msg = JSON.parse(String(m.d)) as { id: string; payload: { data: { navUpdated: { portfolioId: string } } } };
        ids.add(msg.id);
        lat.push(m.t - t0);
        const u = msg.payload?.data?.navUpdated;
        if (u) payloads[indexOf.get(u.portfolioId) ?? -1] = u;
      }
      return { n: got.length, distinct: ids.size, p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: Math.max(...lat), first: Math.min(...lat), payloads };
    };

    let tick = 0;
    const priceFor = (s: number) => (20 + (s % 50) + (++tick % 1000) / 100).toFixed(2);
    const tenth: { p50: number; p99: number; n: number; response: number }[] = [];
    const all: { p50: number; p99: number; n: number; first: number; response: number }[] = [];
    const rawRes: { p50: number; p99: number; n: number; first: number }[] = [];
    // warm-up: one tick of everything
    await ingest(Array.from({ length: N_SEC }, (_, s) => ({ symbol: sym(s), close: priceFor(s) })));
    await collect(0, N_PORT * SUBS_PER_PORT);

    for (let r = 0; r < REPS; r++) {
      // 10 % of the portfolios: 10 of B400..B499 (each held by exactly 10 portfolios).
      const secs = Array.from({ length: 10 }, (_, i) => 400 + ((r * 10 + i) % 100));
      let t0 = performance.now();
      const ra = (await ingest(secs.map((s) => ({ symbol: sym(s), close: priceFor(s) })))) - t0;
      const a = await collect(t0, 100 * SUBS_PER_PORT);
      tenth.push({ ...a, response: ra });
      await sleep(300);

      // every portfolio: all 500 securities.
      t0 = performance.now();
      const rb = (await ingest(Array.from({ length: N_SEC }, (_, s) => ({ symbol: sym(s), close: priceFor(s) })))) - t0;
      const b = await collect(t0, N_PORT * SUBS_PER_PORT);
      all.push({ ...b, response: rb });
      await sleep(300);

      // raw ws: the payloads just delivered, to the same layout.
      const body = JSON.stringify(b.payloads);
      t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${rawPort}/broadcast`, { method: 'POST', body });
      await res.text();
      const c = await collect(t0, N_PORT * SUBS_PER_PORT);
      rawRes.push(c);
      console.log(
        `rep ${r + 1}: 10% tick (ingest response ${ra.toFixed(0)} ms) ${a.n} msgs (${a.distinct} subs) p50 ${a.p50.toFixed(1)} p99 ${a.p99.toFixed(1)} ms | all (ingest response ${rb.toFixed(0)} ms) ${b.n} msgs (${b.distinct}) first ${b.first.toFixed(0)} p50 ${b.p50.toFixed(0)} p99 ${b.p99.toFixed(0)} ms | raw ${c.n} first ${c.first.toFixed(0)} p50 ${c.p50.toFixed(0)} p99 ${c.p99.toFixed(0)} ms | load ${os.loadavg()[0]!.toFixed(2)}`,
      );
      await sleep(300);
    }

    // ------------------------------------------------ sustained: 1,000 ticks/s over 500 securities
    counting = true;
    counted = 0;
    const profiler = process.env.SUSTAIN_PROFILE ? await inspector(inspectPort) : null;
    if (profiler) {
      await profiler.call('Profiler.enable');
      await profiler.call('Profiler.start');
    }
    const cpu0 = (await scrape(base)).foliograph_process_cpu_seconds_total!;
    const benchCpu0 = process.cpuUsage();
    const sched0 = schedstat(server.pid!);
    const w0 = performance.now();
    const responseMs: number[] = [];
    let sentTicks = 0;
    let okTicks = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let cursor = 0;
    const batches = SUSTAIN_S * 20;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < batches; i++) {
      const due = w0 + i * 50;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const prices = Array.from({ length: 50 }, () => {
        const s = cursor++ % N_SEC;
        return { symbol: sym(s), close: priceFor(s) };
      });
      sentTicks += 50;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const started = performance.now();
      pending.push(
        ingest(prices).then(
          (done) => {
            responseMs.push(done - started);
            okTicks += 50;
            inFlight--;
          },
          (e) => {
            inFlight--;
            console.warn(String(e));
          },
        ),
      );
    }
    const sendWall = (performance.now() - w0) / 1000;
    await Promise.all(pending);
    const wall = (performance.now() - w0) / 1000;
    const benchCpu = process.cpuUsage(benchCpu0);
    const benchCores = (benchCpu.user + benchCpu.system) / 1e6 / wall;
    const sched1 = schedstat(server.pid!);
    const starved = sched0 && sched1 ? `; the server's event loop ran ${((sched1.onCpu - sched0.onCpu) / wall * 100).toFixed(0)} % of the time and waited, runnable, for a CPU ${((sched1.waiting - sched0.waiting) / wall * 100).toFixed(0)} %` : '';
    const cpu1 = (await scrape(base)).foliograph_process_cpu_seconds_total!;
    if (profiler) {
      const { profile } = (await profiler.call('Profiler.stop')) as { profile: unknown };
      writeFileSync(process.env.SUSTAIN_PROFILE!, JSON.stringify(profile));
      profiler.close();
    }
    await sleep(500);
    const delivered = counted;
    counting = false;
    const cores = (cpu1 - cpu0) / wall;
    const loadAfter = os.loadavg();

    // ------------------------------------------------ report
    const perSub = (a: number, b: number) => ((b - a) / (N_PORT * SUBS_PER_PORT) / 1024).toFixed(1);
    const perSubs = (a: Memory, b: Memory) => `${perSub(a.heap, b.heap)} / ${perSub(a.rss, b.rss)} KiB`;
    const tenthP50 = median(tenth.map((x) => x.p50));
    const tenthP99 = median(tenth.map((x) => x.p99));
    const allP99 = median(all.map((x) => x.p99));
    const rawP99 = median(rawRes.map((x) => x.p99));
    console.log('');
    console.log(`machine: ${os.cpus().length} vCPU ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${pgVersion}; load average ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`setup ${setupS.toFixed(0)} s; ${SOCKETS} sockets connected in ${connectS.toFixed(1)} s; ${N_PORT * SUBS_PER_PORT} subscriptions to first NAV in ${subscribeS.toFixed(1)} s (server CPU ${subscribeCpu.toFixed(1)} s, ${((subscribeCpu / (N_PORT * SUBS_PER_PORT)) * 1e6).toFixed(0)} µs per subscription); coalesce ${process.env.REALTIME_COALESCE_MS ?? '50 (default)'} ms`);
    console.log(`| measure | figure | target |\n|---|---|---|`);
    console.log(`| memory per idle subscription, retained (heap / RSS after a full GC forced through the inspector, ÷ 10,000), beyond the ${SOCKETS.toLocaleString("en-US")} open sockets | ${perSubs(mem1.retained, mem2.retained)} | < 20 KB |`);
    console.log(`| the same with the sockets counted in (against the server before any socket) | ${perSubs(mem0.retained, mem2.retained)} | |`);
    console.log(`| heap / RSS after the server's own next major GC, nothing forced, beyond the sockets' retained memory | ${mem2.ownGc ? `${perSubs(mem1.retained, mem2.ownGc)}, ${mem2.ownGc.afterS.toFixed(0)} s after the subscribes` : ownGcWaitS ? `no major GC of its own within ${ownGcWaitS} s` : 'not waited for (OWN_GC_WAIT_S=0)'} | |`);
    console.log(`| heap / RSS as sampled 2 s after the subscribes, no GC forced or waited for (the subscribes' garbage not collected yet, beside what they hold), beyond the sockets as sampled | ${perSubs(mem1.asIs, mem2.asIs)} | |`);
    if (profiled !== null) console.log(`| allocations sampled in the server from the subscribes to the memory samples after them (${process.env.SUBSCRIBE_HEAP_PROFILE}), ${retainedOnly ? 'what a full GC left' : 'every allocation, collected or not'}, ÷ 10,000 | ${(profiled / (N_PORT * SUBS_PER_PORT) / 1024).toFixed(1)} KiB | |`);
    console.log(`| tick moving 10 % (100 portfolios, 1,000 subscribers), ingest start → receipt, median of ${REPS}: p50 / p99 | ${tenthP50.toFixed(1)} / ${tenthP99.toFixed(1)} ms | p99 < 100 ms |`);
    console.log(`| (the ingestPrices response itself: 10 prices / 500 prices, median) | ${median(tenth.map((x) => x.response)).toFixed(1)} / ${median(all.map((x) => x.response)).toFixed(0)} ms | |`);
    console.log(`| tick moving every portfolio (10,000 subscribers): p50 / p99 | ${median(all.map((x) => x.p50)).toFixed(0)} / ${allP99.toFixed(0)} ms (first ${median(all.map((x) => x.first)).toFixed(0)}) | p99 < 1 s, ≤ 2× raw |`);
    console.log(`| raw ws broadcast, same payloads, same layout: p50 / p99 | ${median(rawRes.map((x) => x.p50)).toFixed(0)} / ${rawP99.toFixed(0)} ms (first ${median(rawRes.map((x) => x.first)).toFixed(0)}) | |`);
    console.log(`| ratio p99 / raw p99 (median over reps of per-rep ratios: ${median(all.map((x, i) => x.p99 / rawRes[i]!.p99)).toFixed(2)}) | ${(allP99 / rawP99).toFixed(2)} × | ≤ 2× |`);
    console.log(`| ${SUSTAIN_S} s at ${(sentTicks / sendWall).toFixed(0)} ticks/s sent, ${(okTicks / wall).toFixed(0)}/s acknowledged over ${wall.toFixed(1)} s (ingest response p50 ${pct(responseMs, 0.5).toFixed(0)} / p99 ${pct(responseMs, 0.99).toFixed(0)} ms, ≤ ${maxInFlight} in flight), ${delivered} messages delivered (${(delivered / wall).toFixed(0)}/s): server CPU | ${cores.toFixed(2)} cores (the load generator, receiving: ${benchCores.toFixed(2)} cores${starved}) | < 1 core |`);
    console.log(`per rep (10 %: p50/p99; all: p99; raw: p99): ${tenth.map((x, i) => `${x.p50.toFixed(0)}/${x.p99.toFixed(0)}, ${all[i]!.p99.toFixed(0)}, ${rawRes[i]!.p99.toFixed(0)}`).join(' | ')}`);

    for (const ws of [...gqlSockets, ...rawSockets]) ws.terminate();
  } finally {
    for (const c of children) {
      c.kill('SIGTERM');
      await new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)));
    }
    await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
    await admin.end();
  }
}

if (process.argv.includes('--raw-server')) rawServer();
else
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
