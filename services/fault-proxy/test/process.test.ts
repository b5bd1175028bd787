import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { deadPort, get, tcpUpstream, TcpClient } from './helpers.ts';

// The bundle as the container runs it: a real process, real environment, real signals.
const BUNDLE = fileURLToPath(new URL('../dist/proxy.js', import.meta.url));
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run 'npm run build' first`);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function run(env: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const options: SpawnOptions = { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] };
  const child = spawn(process.execPath, [BUNDLE], options);
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

describe('the bundled proxy as a process', () => {
  test('exits 78 with the problem on stderr when CG_PROXY_ROUTES is bad', async () => {
    const p = run({ CG_PROXY_ROUTES: '[{"name":"worker","listen_port":0}]' });
    const [code] = (await once(p.child, 'exit')) as [number];
    expect(code).toBe(78);
    const line = 'fault-proxy: config error: CG_PROXY_ROUTES[0].listen_port=0 must be an integer between 1 and 65535';
    expect(p.stderr()).toContain(line);
  });

  test('forwards, lifts its toxics and exits 0 within a second of SIGTERM, even holding a connection', async () => {
    const upstream = await tcpUpstream();
    const [listenPort, controlPort] = [await deadPort(), await deadPort()];
    const routes = [{ name: 'echo', listen_port: listenPort, upstream_host: '127.0.0.1', upstream_port: upstream }];
    const p = run({ CG_PROXY_ROUTES: JSON.stringify(routes), CG_PROXY_CONTROL_PORT: String(controlPort) });
    await new Promise<void>((resolve, reject) => {
      p.child.stdout?.on('data', () => p.stdout().includes('\n') && resolve());
      p.child.once('exit', () => reject(new Error(`exited: ${p.stderr()}`)));
    });
    expect(p.stdout()).toBe(`fault-proxy control=${controlPort} routes=echo:${listenPort}->127.0.0.1:${upstream}\n`);
    expect((await get(`http://127.0.0.1:${controlPort}/healthz`)).body).toBe('{"ok":true}');
    const client = new TcpClient(listenPort);
    client.socket.write('hello');
    await client.receive('hello');
    const body = JSON.stringify({ route: 'echo', kind: 'timeout', duration_ms: 60_000 });
    expect((await get(`http://127.0.0.1:${controlPort}/toxics`, { method: 'POST', body })).status).toBe(201);

    const t0 = performance.now();
    p.child.kill('SIGTERM');
    const [code] = (await once(p.child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1000);
    await client.closed;
  });
});
