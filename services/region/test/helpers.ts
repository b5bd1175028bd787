import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createApp } from '../src/app.ts';
import { systemClock, type Clock } from '../src/clock.ts';
import type { Config } from '../src/config.ts';
import { Faults } from '../src/faults.ts';
import { createRegionServer } from '../src/http.ts';
import { createMetrics } from '../src/metrics.ts';
import { SqliteStore, type NewOrder, type Order, type OrderStore } from '../src/store.ts';

export const TOKEN = 'test-token-0123456789';

export { ManualClock } from '../../shared/manual-clock.ts';

/** Wraps a store to count the calls that reach it. */
export class CountingStore implements OrderStore {
  readonly inner: OrderStore;
  inserts = 0;

  constructor(inner: OrderStore) {
    this.inner = inner;
  }

  insert(order: NewOrder): number {
    this.inserts++;
    return this.inner.insert(order);
  }

  get(id: number): Order | undefined {
    return this.inner.get(id);
  }

  ping(): void {
    this.inner.ping();
  }

  close(): void {
    this.inner.close();
  }
}

export interface Harness {
  url: string;
  dataDir: string;
  store: CountingStore;
  faults: Faults;
  logs: string[];
  /** The value every rng() call returns; tests change it between requests. */
  rng: { value: number };
  close(): Promise<void>;
}

export interface HarnessOptions {
  config?: Partial<Config>;
  store?: (dataDir: string) => OrderStore;
  clock?: Clock;
}

/** The app on 127.0.0.1, an ephemeral port, with a fresh data directory and a fixed rng. */
/** One app per test, closed after it whatever the test did: returns the function that starts it. */
export function useApp(): (options?: HarnessOptions) => Promise<Harness> {
  let app: Harness | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  return async (options = {}) => (app = await startApp(options));
}

export async function startApp(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'region-test-'));
  const config: Config = {
    version: 'v1',
    region: 'us-west',
    failureRate: 0,
    port: 0,
    dataDir,
    faultToken: TOKEN,
    ...options.config,
  };
  const clock = options.clock ?? systemClock;
  const rng = { value: 0.5 };
  const store = new CountingStore(options.store ? options.store(dataDir) : new SqliteStore(dataDir));
  const faults = new Faults(clock, () => rng.value);
  const metrics = createMetrics({ region: config.region, version: config.version });
  const logs: string[] = [];
  const app = createApp({ config, rng: () => rng.value, clock, store, metrics, faults, logError: (l) => logs.push(l) });
  // main.ts's server, timeouts included.
  const server = createRegionServer(app, config.requestTimeoutMs);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    store,
    faults,
    logs,
    rng,
    async close() {
      faults.liftAll();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

export async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Res> {
  const body =
    init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: init.headers ?? {},
    body: body ?? null,
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // /metrics is text; tests that need JSON assert on it.
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const auth = { authorization: `Bearer ${TOKEN}` };

/** Polls until check returns true or the deadline passes; returns whether it did. */
export async function eventually(check: () => Promise<boolean>, deadlineMs = 5000, intervalMs = 20): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface Trickled {
  /** From the first write to the server's hang-up; null: the connection was still open at the end. */
  closedAfterMs: number | null;
  /** Whatever the server sent. */
  answer: string;
}

/**
 * A slow client: writes `head` at once, then `slow` one byte every stepMs until the server
 * closes the connection or the bytes run out (so it is bounded in count and time).
 */
export async function trickle(url: string, head: string, slow: string, stepMs = 100): Promise<Trickled> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const t0 = performance.now();
  let answer = '';
  let closedAt: number | null = null;
  socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
  socket.on('close', () => (closedAt = performance.now()));
  // The server hangs up while we write: EPIPE or ECONNRESET is the expected end.
  socket.on('error', () => {});
  socket.write(head);
  for (const byte of slow) {
    await new Promise((r) => setTimeout(r, stepMs));
    if (closedAt !== null || socket.destroyed) break;
    socket.write(byte);
  }
  socket.destroy();
  return { closedAfterMs: closedAt === null ? null : closedAt - t0, answer };
}
