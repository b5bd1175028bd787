import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulate/random.ts';
import { STALL_MS, TrafficGenerator } from '../../src/traffic/generator.ts';
import { ObservationStore } from '../../src/traffic/store.ts';
import { pollUntil } from '../../src/util/poll.ts';

// The generator against a loopback server that answers like the region service: writes get
// an id, reads and health checks 200, each after `delayMs`.
let server: Server;
let baseUrl = '';
let nextId = 0;
const delayMs = 20;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = req.method === 'POST' ? JSON.stringify({ id: ++nextId }) : '{}';
    setTimeout(() => res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(body), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Blocks this thread's event loop, as a long synchronous computation of the gate would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* the stall under test */ }
}

async function run(blockMs: number | null): Promise<{ store: ObservationStore; stats: TrafficGenerator['stats']; stall: { from: number; to: number } | null }> {
  const store = new ObservationStore();
  const traffic = new TrafficGenerator({ store, random: createRandom(3).next, maxRequests: 400 });
  traffic.setStreams([{ region: 'us-west', cohort: 'canary', version: 'v2', baseUrl, rps: 100 }]);
  traffic.start();
  try {
    // Enough requests answered, then (maybe) a stall while others are in flight.
    expect(await pollUntil(async () => (store.size >= 20 ? true : undefined), { deadlineMs: 10_000, intervalMs: 10 })).toBe(true);
    let stall: { from: number; to: number } | null = null;
    if (blockMs !== null) {
      expect(await pollUntil(async () => (traffic.stats.inFlight > 0 ? true : undefined), { deadlineMs: 5000, intervalMs: 1 })).toBe(true);
      const from = Date.now();
      block(blockMs);
      stall = { from, to: Date.now() };
    }
    // Then 20 requests sent well after it (the backlog the stall left is sent at once).
    const later = Date.now() + 100;
    expect(await pollUntil(async () => (store.select({ from: later }).length >= 20 ? true : undefined), { deadlineMs: 10_000, intervalMs: 10 })).toBe(true);
    return { store, stats: traffic.stats, stall };
  } finally {
    await traffic.close();
  }
}

/** Stalls of this event loop as the test sees them, with a 10 ms tick of its own (a loaded host adds some). */
function watchStalls(): { stop: () => { from: number; to: number }[] } {
  const stalls: { from: number; to: number }[] = [];
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last >= STALL_MS) stalls.push({ from: last, to: now });
    last = now;
  }, 10);
  return { stop: () => (clearInterval(timer), stalls) };
}

describe('TrafficGenerator', () => {
  it('sends the mix to its stream and reads back the writes it had acknowledged', async () => {
    const { store, stats } = await run(null);
    const all = store.select();
    expect(all.every((o) => o.region === 'us-west' && o.cohort === 'canary' && o.version === 'v2')).toBe(true);
    expect(new Set(all.map((o) => o.route))).toEqual(new Set(['/health', '/api/orders', '/api/orders/:id']));
    expect(all.every((o) => o.status === 200 || o.status === 201)).toBe(true);
    expect(store.acknowledgedWrites('us-west').length).toBe(all.filter((o) => o.status === 201).length);
    expect(stats.missingReads).toBe(0);
  });

  it('marks the requests in flight across a stall of its event loop untimed, and only those', async () => {
    const watch = watchStalls();
    const { store, stats, stall } = await run(300);
    const seen = watch.stop();
    const all = store.select();
    const untimed = all.filter((o) => o.untimed === true);
    // The stall held back responses that had already arrived: without the mark their
    // latencies would read as 300 ms of service time.
    expect(untimed.length).toBeGreaterThan(0);
    expect(stats.untimed).toBe(untimed.length);
    expect(stats.maxClientStallMs).toBeGreaterThanOrEqual(300 - STALL_MS);
    for (const o of all.filter((x) => x.latencyMs > 250)) expect(o.untimed, JSON.stringify(o)).toBe(true);
    // Requests sent well after the stall are timed as usual, unless the host stalled the loop again.
    const quiet = (o: { at: number; latencyMs: number }) => !seen.some((s) => s.to >= o.at - 100 && s.from <= o.at + o.latencyMs + 100);
    const after = all.filter((o) => stall !== null && o.at > stall.to + 100);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter(quiet).length).toBeGreaterThan(0);
    expect(after.filter(quiet).every((o) => o.untimed === undefined)).toBe(true);
  });

  it('marks nothing when its event loop never stalls (a loaded host may stall it: then only with a stall seen)', async () => {
    // Measured apart from the generator, so the test holds on a busy machine too.
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const { store, stats } = await run(null);
    delay.disable();
    const marked = store.select().filter((o) => o.untimed === true);
    expect(stats.untimed).toBe(marked.length);
    if (delay.max / 1e6 < STALL_MS) expect(marked).toEqual([]);
    if (marked.length > 0) expect(stats.maxClientStallMs).toBeGreaterThanOrEqual(STALL_MS);
  });
});
