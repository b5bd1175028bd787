// Benchmark of the region service on its own: start the built bundle as a child process on
// a free loopback port, drive `/` and `/health` with a fixed number of concurrent undici
// requests for a bounded time, and report throughput, latency quantiles, errors and the
// child's memory.
//
// Environment (all optional):
//   BENCH_CONCURRENCY     requests in flight at once (default 16)
//   BENCH_SECONDS         measured seconds per endpoint (default 5)
//   BENCH_WARMUP_SECONDS  unmeasured seconds per endpoint before that (default 1)
//   BENCH_MAX_REQUESTS    hard cap on measured requests per endpoint (default 1000000)
//   BENCH_READY_SECONDS   how long to wait for the service to answer (default 20)
//   BENCH_SERVICE_ENTRY   the bundle to run (default services/region/dist/server.js)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';

export const name = 'service';

const ENDPOINTS = ['/', '/health'];
const HOST = '127.0.0.1';

/** A positive number from the environment, or the default; anything else is an error. */
function envNumber(key, fallback, { integer = false } = {}) {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${key}=${JSON.stringify(raw)} must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

/** A port the kernel just handed out on loopback (closed again before the service binds it). */
async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Nearest-rank quantile of an ascending array, in the array's unit. */
function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const round = (n, digits = 3) => (n === null ? null : Number(n.toFixed(digits)));

/** VmRSS and VmHWM (peak) of a process in MiB, from /proc; null where there is no /proc. */
function memoryMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => {
      const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
      return m ? Number(m[1]) : null;
    };
    const toMiB = (k) => (k === null ? null : round(k / 1024, 1));
    return { rss_mib: toMiB(kib('VmRSS')), peak_rss_mib: toMiB(kib('VmHWM')) };
  } catch {
    return { rss_mib: null, peak_rss_mib: null };
  }
}

/** The child's recent output, kept for error messages. */
function tail(stream, limit = 8192) {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    text = (text + chunk).slice(-limit);
  });
  return () => text.trim();
}

/** Poll GET / until it answers 2xx, the child exits, or the deadline passes. */
async function waitReady(origin, child, output, seconds) {
  const deadline = Date.now() + seconds * 1000;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the service exited (${child.exitCode ?? child.signalCode}) before it answered:\n${output()}`);
    }
    try {
      const res = await request(`${origin}/`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return;
      last = `GET / answered ${res.statusCode}`;
    } catch (err) {
      last = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    await sleep(50);
  }
  throw new Error(`the service did not answer GET / within ${seconds} s (${last}):\n${output()}`);
}

/**
 * `concurrency` workers, each sending one request after another on its own connection,
 * until `seconds` pass or `maxRequests` have been sent. Latency is measured per request,
 * from sending it to having read the whole body.
 */
async function drive(pool, path, { concurrency, seconds, maxRequests }) {
  const latencies = new Float64Array(maxRequests);
  let sent = 0;
  let done = 0;
  let errors = 0;
  const statuses = {};
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (sent < maxRequests && performance.now() < deadline) {
      sent++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path, method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.dump();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode < 200 || res.statusCode >= 300) errors++;
      } catch {
        errors++;
        statuses.failed = (statuses.failed ?? 0) + 1;
      }
      latencies[done++] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, done).sort();
  return {
    requests: done,
    seconds: round(elapsed),
    requests_per_second: round(done / elapsed, 1),
    p50_ms: round(quantile(sorted, 0.5)),
    p99_ms: round(quantile(sorted, 0.99)),
    max_ms: round(sorted.length > 0 ? sorted[sorted.length - 1] : null),
    errors,
    statuses,
  };
}

/** Stop the child: SIGTERM, then SIGKILL if it is still there after a grace period. */
async function stop(child, graceMs = 5000) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function run({ root, log }) {
  const concurrency = envNumber('BENCH_CONCURRENCY', 16, { integer: true });
  const seconds = envNumber('BENCH_SECONDS', 5);
  const warmupSeconds = process.env.BENCH_WARMUP_SECONDS === '0' ? 0 : envNumber('BENCH_WARMUP_SECONDS', 1);
  const maxRequests = envNumber('BENCH_MAX_REQUESTS', 1_000_000, { integer: true });
  const readySeconds = envNumber('BENCH_READY_SECONDS', 20);
  const entryEnv = process.env.BENCH_SERVICE_ENTRY;
  const entry = entryEnv
    ? isAbsolute(entryEnv)
      ? entryEnv
      : join(root, entryEnv)
    : join(root, 'services/region/dist/server.js');
  if (!existsSync(entry)) {
    throw new Error(
      `${entry} is missing: build the region service first with \`npm run build\` (node scripts/build.mjs)`,
    );
  }

  const port = await freePort();
  const origin = `http://${HOST}:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'chaos-gate-bench-'));
  const child = spawn(process.execPath, [entry], {
    cwd: dataDir,
    env: {
      ...process.env,
      VERSION: 'bench',
      REGION: 'bench',
      FAILURE_RATE: '0',
      PORT: String(port),
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = tail(child.stdout);
  const stderr = tail(child.stderr);
  const output = () => [stderr(), stdout()].filter(Boolean).join('\n') || '(no output)';
  const spawned = new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });

  // Ctrl-C or a kill of the harness still stops the service and removes its data.
  const onSignal = (signal) => {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  try {
    await spawned;
    log(`started ${entry} as pid ${child.pid} on ${origin}`);
    const readyStarted = performance.now();
    await waitReady(origin, child, output, readySeconds);
    const readyMs = performance.now() - readyStarted;
    log(`ready after ${readyMs.toFixed(0)} ms`);

    const endpoints = {};
    for (const path of ENDPOINTS) {
      if (warmupSeconds > 0) await drive(pool, path, { concurrency, seconds: warmupSeconds, maxRequests });
      log(`${path}: ${concurrency} concurrent requests for ${seconds} s (at most ${maxRequests})`);
      const result = await drive(pool, path, { concurrency, seconds, maxRequests });
      log(
        `${path}: ${result.requests_per_second} req/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.errors} errors`,
      );
      endpoints[path] = result;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the service exited (${child.exitCode ?? child.signalCode}) during the run:\n${output()}`);
      }
    }
    const memory = memoryMiB(child.pid);
    return {
      node: process.version,
      concurrency,
      seconds,
      warmup_seconds: warmupSeconds,
      max_requests: maxRequests,
      ready_ms: round(readyMs, 1),
      endpoints,
      ...memory,
    };
  } finally {
    await pool.destroy().catch(() => {});
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
