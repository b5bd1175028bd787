// Entry point of the API: reads the environment, starts it, and stops it gracefully on
// SIGTERM or SIGINT (stop accepting, finish in-flight requests, exit 0).
//
// Environment: PORT (3000), WORKER_URL (http://worker:4000), WORKER_TIMEOUT_MS (2000: per
// call to the worker), COMMIT (shown by /version when set).
import { start } from './app.js';

const EXIT_DEADLINE_MS = 8000;

function fail(message) {
  console.error(`api: ${message}`);
  process.exit(2);
}

function intFromEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name}=${JSON.stringify(raw)}: must be an integer from ${min} to ${max}`);
  return n;
}

const workerUrl = process.env.WORKER_URL || 'http://worker:4000';
try {
  if (!/^https?:$/.test(new URL(workerUrl).protocol)) throw new Error('not http');
} catch {
  fail(`WORKER_URL=${JSON.stringify(workerUrl)}: must be an http:// or https:// URL`);
}

let service;
let stopping = false;

async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`api: ${signal}, shutting down`);
  // Never hang: whatever happens, the process is gone before Docker's 10 s grace period ends.
  setTimeout(() => {
    console.error('api: shutdown took too long, exiting');
    process.exit(1);
  }, EXIT_DEADLINE_MS).unref();
  if (service) await service.close();
  console.log('api: stopped');
  process.exit(0);
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  service = await start({
    port: intFromEnv('PORT', 3000, 0, 65535),
    workerUrl,
    workerTimeoutMs: intFromEnv('WORKER_TIMEOUT_MS', 2000, 1, 60_000),
    commit: process.env.COMMIT || undefined,
  });
} catch (err) {
  console.error(`api: cannot start: ${err?.message ?? err}`);
  process.exit(1);
}
