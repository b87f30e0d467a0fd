import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { spawnServer, type ServerProcess } from '../support/process';

const KEY = 'fg_bootstrap_key_for_the_shutdown_test';

describe('the server process (embedded database)', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'fg-shutdown-'));
    server = await spawnServer({ DATA_DIR: dataDir, BOOTSTRAP_API_KEY: KEY });
  }, 90_000);
  afterAll(() => {
    server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('BOOTSTRAP_API_KEY makes an ADMIN who owns that key', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ query: '{ me { role email } }' }),
    });
    expect(((await res.json()) as any).data.me).toEqual({ role: 'ADMIN', email: 'admin@foliograph.local' });
  });

  test('SIGTERM lets an in-flight request finish, closes sockets, refuses new work and exits 0', async () => {
    const body = JSON.stringify({ query: '{ me { role } }' });
    // A request whose body is only half sent when the signal arrives: it is in flight.
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let response = '';
    socket.on('data', (d) => (response += d.toString()));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n` +
        body.slice(0, 10),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/graphql`, 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));

    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));

    // New connections are refused while the in-flight request is still being served.
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
    socket.end(body.slice(10));
    await new Promise((r) => socket.once('close', r));
    expect(response).toMatch(/^HTTP\/1.1 200/);
    expect(response).toContain('{"data":{"me":{"role":"ADMIN"}}}');

    expect(await wsClosed).toBe(1001);
    const exitCode = await server.exited;
    if (exitCode !== 0) console.log(server.output());
    expect(exitCode).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  }, 30_000);
});
