import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { D } from '../../src/domain/decimal';
import { ROOT, spawnServer, type ServerProcess } from '../support/process';
import { until } from '../support/live';

/*
 * Issue 6, build items 6 and 7: `npm start` on the embedded default (PGlite, the demo seeded,
 * its market simulator on) and the README's `npx tsx examples/watch-nav.ts` in another
 * terminal, with nothing but the server's address given: the example finds the demo key's
 * first portfolio and prints its NAV, then the changes the simulator's ticks make.
 */
describe('the demo drives live NAV; examples/watch-nav.ts prints it [embedded]', () => {
  let dataDir: string;
  let server: ServerProcess;
  let watcher: ChildProcess | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'fg-demo-live-'));
    // Only the address and a quicker simulator differ from `npm start`'s defaults.
    server = await spawnServer({ DATA_DIR: dataDir, SEED_DEMO: '1', MARKET_SIMULATOR_INTERVAL_MS: '300' }, 120_000);
  }, 150_000);
  afterAll(() => {
    watcher?.kill('SIGKILL');
    server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** `npx tsx examples/watch-nav.ts` pointed at the server; what it prints, stdout and stderr together. */
  const example = (env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/watch-nav.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', FOLIOGRAPH_URL: `ws://127.0.0.1:${server.port}/graphql`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    watcher = child;
    const run = { child, out: '', exited: new Promise<number | null>((resolve) => child.once('exit', resolve)) };
    child.stdout!.on('data', (d: Buffer) => (run.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (run.out += d.toString()));
    return run;
  };

  test('the example subscribes with the demo key and prints the first NAV, then the simulator moves it', async () => {
    const run = example();
    const { child } = run;
    const ticks = () => [...run.out.matchAll(/^#(\d+) (\S+) {2}NAV (-?\d+(?:\.\d+)?)(?: {2}([+-]\d+(?:\.\d+)?) \((-?\d+\.\d{3})%\))?$/gm)];
    await until(() => ticks().length >= 3, 60_000, `three NAV lines from the example; it printed:\n${run.out}`);
    expect(run.out).toMatch(/^watching [0-9a-f-]{36} at ws:\/\/127\.0\.0\.1:\d+\/graphql/m);
    const [first, ...later] = ticks();
    // The snapshot on subscribe has no previous NAV; each tick after it names its change,
    // and the change is the difference of the NAVs printed, exactly.
    expect(first![4]).toBeUndefined();
    let previous = first![3]!;
    let seq = Number(first![1]);
    for (const t of later) {
      expect(Number(t[1])).toBeGreaterThan(seq);
      seq = Number(t[1]);
      expect(t[4]).toBeDefined();
      expect(new D(t[3]!).minus(previous).toFixed()).toBe(new D(t[4]!).toFixed());
      previous = t[3]!;
    }
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  }, 90_000);

  test('with a key the server refuses, the example says so and exits 1 instead of retrying in silence', async () => {
    const run = example({ FOLIOGRAPH_API_KEY: 'fg_not_a_key' });
    expect(await run.exited).toBe(1);
    expect(run.out).toContain('the server refused the key (4403)');
  }, 60_000);
});
