import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToxic, liftAllToxics, liftToxic, listToxics } from '../../src/stack/fault-proxy.ts';
import { proxyImage } from '../../src/stack/service-images.ts';
import { silentProgress } from '../../src/util/progress.ts';
import { root } from './cli.ts';

// The fault proxy's image, run for real in Docker between loopback and an upstream container
// on a network of the test's own: every fault mode takes effect (measured from outside) and
// lifts, when told and by its own expiry.

const NETWORK = 'chaos-gate-proxy-test';
const UPSTREAM = 'chaos-gate-proxy-test-upstream';
const PROXY = 'chaos-gate-proxy-test-proxy';
// Answers n bytes (?n=, default 2) after ms (?ms=, default 0).
const SERVER =
  "require('http').createServer((q,s)=>{const u=new URL(q.url,'http://h');setTimeout(()=>s.end('x'.repeat(Number(u.searchParams.get('n')||2))),Number(u.searchParams.get('ms')||0))}).listen(4000)";

let control = '';
let data = '';

const docker = (...args: string[]) => execa('docker', args, { reject: false, timeout: 120_000 });
const cleanup = async () => {
  await docker('rm', '-f', PROXY, UPSTREAM);
  await docker('network', 'rm', NETWORK);
};

async function hostPort(container: string, port: number): Promise<number> {
  const { stdout } = await docker('port', container, `${port}/tcp`);
  return Number(stdout.trim().split('\n')[0]?.split(':').at(-1));
}

/** One request through the proxy: status (0: no answer), body length and time taken. */
async function get(path = '/', timeoutMs = 3000): Promise<{ status: number; bytes: number; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${data}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.arrayBuffer();
    return { status: res.status, bytes: body.byteLength, ms: performance.now() - t0 };
  } catch {
    return { status: 0, bytes: 0, ms: performance.now() - t0 };
  }
}

async function median(n = 5): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push((await get()).ms);
  return ms.sort((a, b) => a - b)[Math.floor(n / 2)] ?? 0;
}

beforeAll(async () => {
  await cleanup();
  const image = await proxyImage(root, { progress: silentProgress });
  expect((await docker('network', 'create', NETWORK)).exitCode).toBe(0);
  expect(
    (await docker('run', '-d', '--name', UPSTREAM, '--network', NETWORK, 'node:24-alpine', 'node', '-e', SERVER))
      .exitCode,
  ).toBe(0);
  const routes = JSON.stringify([
    { name: 'upstream', listen_port: 4000, upstream_host: UPSTREAM, upstream_port: 4000 },
  ]);
  const run = await docker(
    'run',
    '-d',
    '--name',
    PROXY,
    '--network',
    NETWORK,
    '-p',
    '127.0.0.1::7070',
    '-p',
    '127.0.0.1::4000',
    '-e',
    `CG_PROXY_ROUTES=${routes}`,
    image.ref,
  );
  expect(run.exitCode, run.stderr).toBe(0);
  control = `http://127.0.0.1:${await hostPort(PROXY, 7070)}`;
  data = `http://127.0.0.1:${await hostPort(PROXY, 4000)}`;
  // Ready when a request crosses both containers.
  const deadline = Date.now() + 60_000;
  while ((await get()).status !== 200) {
    if (Date.now() > deadline) throw new Error(`the proxy never forwarded: ${(await docker('logs', PROXY)).stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 300_000);

afterAll(cleanup, 60_000);

describe('the fault proxy in Docker', () => {
  it('slows every answer by the delay, and is fast again once lifted', async () => {
    const before = await median();
    const toxic = await addToxic(control, { route: 'upstream', kind: 'latency', duration_ms: 30_000, delay_ms: 300 });
    const during = await median();
    const lifted = await liftToxic(control, toxic.id);
    const after = await median();
    expect(during - before).toBeGreaterThan(250);
    expect(lifted?.affected).toBeGreaterThanOrEqual(5);
    expect(after).toBeLessThan(during - 250);
  });

  it.each([
    ['http_error', { status: 503, share: 1 }, (r: { status: number }) => r.status === 503],
    ['reset', { share: 1 }, (r: { status: number }) => r.status === 0],
  ] as const)('%s: every request fails while it lasts, none after', async (kind, params, failed) => {
    const toxic = await addToxic(control, { route: 'upstream', kind, duration_ms: 30_000, ...params });
    const during = await Promise.all([get(), get(), get()]);
    await liftToxic(control, toxic.id);
    const after = [await get(), await get(), await get()];
    expect(during.every(failed), JSON.stringify(during)).toBe(true);
    expect(after.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('http_error with first_n fails exactly the first N requests', async () => {
    const toxic = await addToxic(control, {
      route: 'upstream',
      kind: 'http_error',
      duration_ms: 30_000,
      status: 500,
      first_n: 2,
    });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get()).status);
    expect((await liftToxic(control, toxic.id))?.affected).toBe(2);
    expect(statuses).toEqual([500, 500, 200, 200]);
  });

  it('timeout: no answer while it lasts; answers again once lifted', async () => {
    const toxic = await addToxic(control, { route: 'upstream', kind: 'timeout', duration_ms: 30_000 });
    const held = await get('/', 1000);
    await liftToxic(control, toxic.id);
    expect([held.status, held.ms >= 950]).toEqual([0, true]);
    expect((await get()).status).toBe(200);
  });

  it('bandwidth: 64 KiB at 32 KiB/s takes about 2 s; at full speed far less', async () => {
    const fast = await get('/?n=65536');
    const toxic = await addToxic(control, { route: 'upstream', kind: 'bandwidth', duration_ms: 30_000, rate_kbps: 32 });
    const slow = await get('/?n=65536', 10_000);
    await liftToxic(control, toxic.id);
    expect([fast.bytes, slow.bytes]).toEqual([65536, 65536]);
    expect(slow.ms).toBeGreaterThan(1500);
    expect(fast.ms).toBeLessThan(slow.ms / 2);
  });

  it('lifts a fault by itself at its expiry, with nobody to tell it (a gate that died)', async () => {
    await addToxic(control, { route: 'upstream', kind: 'http_error', duration_ms: 1500 });
    expect((await get()).status).toBe(503);
    const deadline = Date.now() + 10_000;
    while ((await listToxics(control)).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await listToxics(control)).toEqual([]);
    expect((await get()).status).toBe(200);
  });

  it('refuses a fault it cannot apply, naming the rule; lifting everything leaves nothing', async () => {
    await expect(
      addToxic(control, { route: 'nowhere', kind: 'latency', duration_ms: 1000, delay_ms: 5 }),
    ).rejects.toThrow(/refused the latency fault on nowhere: HTTP 400 .*route/);
    await addToxic(control, { route: 'upstream', kind: 'latency', duration_ms: 30_000, delay_ms: 5 });
    expect(await liftAllToxics(control)).toBe(1);
    expect(await listToxics(control)).toEqual([]);
  });
});
