import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isError } from '../../src/analysis/observation.ts';
import { readBackWrites } from '../../src/chaos/readback.ts';
import { createRandom } from '../../src/util/random.ts';
import type { ServicePlan } from '../../src/target/service.ts';
import { STALL_MS, TrafficGenerator } from '../../src/traffic/generator.ts';
import type { RequestMix } from '../../src/traffic/mix.ts';
import { ObservationStore } from '../../src/traffic/store.ts';
import { userWorkload, type Workload } from '../../src/traffic/workload.ts';
import { pollUntil } from '../../src/util/poll.ts';

// The generator against a loopback server that answers like the region service: writes get
// an id, reads and health checks 200, each after `delayMs`.
let server: Server;
let baseUrl = '';
let nextId = 0;
const delayMs = 20;

/** A server on a free loopback port, and its base URL. */
async function listenLoopback(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const s = createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

async function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
}

beforeAll(async () => {
  ({ server, url: baseUrl } = await listenLoopback((req, res) => {
    const body = req.method === 'POST' ? JSON.stringify({ id: ++nextId }) : '{}';
    setTimeout(
      () => res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(body),
      delayMs,
    );
  }));
});

afterAll(() => closeServer(server));

/** Blocks this thread's event loop, as a long synchronous computation of the gate would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* the stall under test */
  }
}

async function run(
  blockMs: number | null,
): Promise<{ store: ObservationStore; stats: TrafficGenerator['stats']; stall: { from: number; to: number } | null }> {
  const store = new ObservationStore();
  const traffic = new TrafficGenerator({ store, random: createRandom(3).next, maxRequests: 400 });
  traffic.setStreams([{ region: 'us-west', cohort: 'canary', version: 'v2', baseUrl, rps: 100 }]);
  traffic.start();
  try {
    // Enough requests answered, then (maybe) a stall while others are in flight.
    expect(
      await pollUntil(async () => (store.size >= 20 ? true : undefined), { deadlineMs: 10_000, intervalMs: 10 }),
    ).toBe(true);
    let stall: { from: number; to: number } | null = null;
    if (blockMs !== null) {
      expect(
        await pollUntil(async () => (traffic.stats.inFlight > 0 ? true : undefined), {
          deadlineMs: 5000,
          intervalMs: 1,
        }),
      ).toBe(true);
      const from = Date.now();
      block(blockMs);
      stall = { from, to: Date.now() };
    }
    // Then 20 requests sent well after it (the backlog the stall left is sent at once).
    const later = Date.now() + 100;
    expect(
      await pollUntil(async () => (store.select({ from: later }).length >= 20 ? true : undefined), {
        deadlineMs: 10_000,
        intervalMs: 10,
      }),
    ).toBe(true);
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
    const quiet = (o: { at: number; latencyMs: number }) =>
      !seen.some((s) => s.to >= o.at - 100 && s.from <= o.at + o.latencyMs + 100);
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

// A user's service on loopback (issue 11): POST /api/items stores {name} under a fresh uuid
// (201 {id}), GET /api/items/:id answers it (404 when gone, 503 while `busy`), GET
// /api/items lists, /api/teapot answers 418. In this file, so its load never runs beside the
// stall test above.
describe("TrafficGenerator with a user's workload", () => {
  const plan: Pick<ServicePlan, 'traffic' | 'probe' | 'health'> = {
    health: { path: '/healthz', expectStatus: [200] },
    traffic: [
      { method: 'GET', path: '/api/items', expectStatus: [200], weight: 3 },
      { method: 'GET', path: '/api/teapot', expectStatus: [200], weight: 1 },
    ],
    probe: {
      write: { method: 'POST', path: '/api/items', body: { name: 'cg-{{ uuid }}' }, expectStatus: [201], id: 'id' },
      read: { method: 'GET', path: '/api/items/{{ id }}', expectStatus: [200] },
    },
  };
  let userServer: Server;
  let userUrl = '';
  const items = new Map<string, { id: string; name: string }>();
  const busy = new Set<string>();

  async function bodyOf(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  beforeAll(async () => {
    ({ server: userServer, url: userUrl } = await listenLoopback((req, res) => {
      const json = (status: number, value: unknown) =>
        void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      const url = req.url ?? '';
      const one = /^\/api\/items\/([^/]+)$/.exec(url);
      if (req.method === 'POST' && url === '/api/items') {
        void bodyOf(req).then((text) => {
          const item = { id: randomUUID(), name: String((JSON.parse(text) as { name?: unknown }).name) };
          items.set(item.id, item);
          json(201, { id: item.id });
        });
      } else if (req.method === 'GET' && one) {
        const id = decodeURIComponent(one[1] ?? '');
        const item = items.get(id);
        if (busy.has(id)) json(503, { error: 'busy' });
        else if (item) json(200, item);
        else json(404, { error: 'not found' });
      } else if (req.method === 'GET' && url === '/api/items') {
        // A header on a success names no failed hop: only errors are attributed.
        res.setHeader('x-failed-hop', 'nobody');
        json(200, { count: items.size });
      } else if (url === '/api/teapot') {
        res.setHeader('X-Failed-Hop', 'kettle');
        json(418, { error: 'teapot' });
      } else json(404, { error: 'no route' });
    }));
  });

  afterAll(() => closeServer(userServer));

  /** Runs until `enough` (bounded by maxRequests and a 10 s deadline). */
  async function drive(
    store: ObservationStore,
    workload: Workload,
    maxRequests: number,
    enough: () => boolean,
    mix?: RequestMix,
  ): Promise<TrafficGenerator['stats']> {
    const traffic = new TrafficGenerator({
      store,
      random: createRandom(11).next,
      workload,
      maxRequests,
      ...(mix ? { mix } : {}),
    });
    traffic.setStreams([{ region: 'us-west', cohort: 'canary', version: 'v2', baseUrl: userUrl, rps: 100 }]);
    traffic.start();
    try {
      expect(await pollUntil(async () => (enough() ? true : undefined), { deadlineMs: 10_000, intervalMs: 10 })).toBe(
        true,
      );
    } finally {
      await traffic.close();
    }
    return traffic.stats;
  }

  it('sends its routes, counts unexpected answers as errors, keeps string ids and finds lost and corrupted writes', async () => {
    const workload = userWorkload(plan);
    const store = new ObservationStore();
    const stats = await drive(store, workload, 300, () => store.size >= 100 && store.acknowledgedWrites().length >= 5);
    const all = store.select();
    expect(new Set(all.map((o) => o.route))).toEqual(
      new Set(['GET /api/items', 'GET /api/teapot', 'POST /api/items', 'GET /api/items/{{ id }}']),
    );
    // The teapot answers 418, outside its expect_status: an error, though not a 5xx.
    const teapot = all.filter((o) => o.route === 'GET /api/teapot');
    expect(teapot.every((o) => o.status === 418 && o.unexpected === true && isError(o))).toBe(true);
    expect(
      all.filter((o) => o.route !== 'GET /api/teapot').every((o) => !isError(o) && o.unexpected === undefined),
    ).toBe(true);
    expect(stats.missingReads).toBe(0);

    const writes = store.acknowledgedWrites('us-west');
    expect(writes.length).toBe(all.filter((o) => o.route === 'POST /api/items' && o.status === 201).length);
    for (const w of writes) {
      expect(w.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(w.uuids).toHaveLength(1);
      expect(items.get(String(w.id))?.name).toBe(`cg-${w.uuids?.[0]}`);
    }
    expect(await readBackWrites(writes, () => userUrl, { workload })).toEqual({
      checked: writes.length,
      missing: 0,
      unverified: 0,
    });

    // One write lost, one corrupted (there, but not what was written), one never answered cleanly.
    const [lost, corrupted, stuck] = writes.map((w) => String(w.id));
    items.delete(lost ?? '');
    items.set(corrupted ?? '', { id: corrupted ?? '', name: 'cg-garbled' });
    busy.add(stuck ?? '');
    expect(await readBackWrites(writes, () => userUrl, { workload, deadlineMs: 300 })).toEqual({
      checked: writes.length,
      missing: 2,
      unverified: 1,
    });
  });

  it('records the hop an error names in the attribution header, and only with attribution asked', async () => {
    for (const attribution of [{ header: 'x-failed-hop' }, undefined]) {
      const store = new ObservationStore();
      await drive(store, userWorkload({ ...plan, probe: undefined, attribution }), 100, () => store.size >= 40);
      const all = store.select();
      const teapots = all.filter((o) => o.route === 'GET /api/teapot');
      expect(teapots.length).toBeGreaterThan(0);
      expect(teapots.every((o) => o.hop === (attribution ? 'kettle' : undefined))).toBe(true);
      expect(all.filter((o) => o.route !== 'GET /api/teapot').every((o) => o.hop === undefined)).toBe(true);
    }
  });

  it('counts probe reads of writes that are gone as missing and as errors', async () => {
    const workload = userWorkload(plan);
    const store = new ObservationStore();
    await drive(store, workload, 40, () => store.acknowledgedWrites().length >= 5, { health: 0, write: 1, read: 0 });
    expect(new Set(store.select().map((o) => o.route))).toEqual(new Set(['POST /api/items']));
    items.clear();
    const reads = new ObservationStore();
    for (const w of store.acknowledgedWrites()) reads.acknowledge(w);
    const stats = await drive(reads, workload, 30, () => reads.size >= 10, { health: 0, write: 0, read: 1 });
    const all = reads.select();
    expect(all.every((o) => o.route === 'GET /api/items/{{ id }}' && o.status === 404 && isError(o))).toBe(true);
    expect(stats.missingReads).toBe(all.length);
  });
});
