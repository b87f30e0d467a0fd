// Cold start to /readyz on the embedded database.
// Usage: npx tsx bench/cold-start.ts [runs=3]
// Measures, in one run: a bare `node --import tsx` process (the floor every start pays),
// the server's first start on an empty data directory (migrations), the first start with the
// demo seed, and a restart on an existing database.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { median } from './support';

const ROOT = path.resolve(__dirname, '..');
const runs = Number(process.argv[2] ?? 3);

async function timeToReady(env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', MARKET_SIMULATOR: '0', ...env },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (res.status === 200) return performance.now() - started;
      } catch {
        /* not listening yet */
      }
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function bare(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', '0'], { cwd: ROOT, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', () => resolve(performance.now() - started)));
}


async function main() {
  const rows: Record<string, number[]> = { 'node --import tsx (floor)': [], 'empty dir, SEED_DEMO=0': [], 'empty dir, SEED_DEMO=1': [], 'restart, existing database': [] };
  for (let i = 0; i < runs; i++) {
    rows['node --import tsx (floor)']!.push(await bare());
    const empty = mkdtempSync(path.join(tmpdir(), 'fg-bench-'));
    rows['empty dir, SEED_DEMO=0']!.push(await timeToReady({ DATA_DIR: empty, SEED_DEMO: '0' }));
    rmSync(empty, { recursive: true, force: true });
    const demo = mkdtempSync(path.join(tmpdir(), 'fg-bench-'));
    rows['empty dir, SEED_DEMO=1']!.push(await timeToReady({ DATA_DIR: demo, SEED_DEMO: '1' }));
    rows['restart, existing database']!.push(await timeToReady({ DATA_DIR: demo, SEED_DEMO: '1' }));
    rmSync(demo, { recursive: true, force: true });
  }
  const floor = median(rows['node --import tsx (floor)']!);
  console.log(`| case | median ms | runs (ms) | × floor |\n|---|---:|---|---:|`);
  for (const [name, xs] of Object.entries(rows)) {
    console.log(`| ${name} | ${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(', ')} | ${(median(xs) / floor).toFixed(1)} |`);
  }
}

void main();
