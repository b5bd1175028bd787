// Entry point: reads the environment, starts the service, and stops it gracefully on
// SIGTERM or SIGINT (stop accepting, finish in-flight requests, close the database, exit 0).
//
// Environment: PORT (3000), DATA_DIR (/data), COMMIT (shown by /version when set).
// Test knobs, only for Chaos Gate's own integration tests (never set them in production):
//   START_DELAY_SECONDS  wait this long before listening (a slow start)
//   IGNORE_SIGTERM=1     ignore SIGTERM (a service that must be killed)
//   NO_METRICS=1         /metrics answers 404 (a service without metrics)
import { start } from './app.js';

const EXIT_DEADLINE_MS = 8000;

function fail(message) {
  console.error(`items: ${message}`);
  process.exit(2);
}

function intFromEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name}=${JSON.stringify(raw)}: must be an integer from ${min} to ${max}`);
  return n;
}

const startDelay = Number(process.env.START_DELAY_SECONDS ?? 0);
if (!Number.isFinite(startDelay) || startDelay < 0 || startDelay > 3600) fail('START_DELAY_SECONDS must be a number of seconds from 0 to 3600');

let service;
let stopping = false;

async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`items: ${signal}, shutting down`);
  // Never hang: whatever happens, the process is gone before Docker's 10 s grace period ends.
  setTimeout(() => {
    console.error('items: shutdown took too long, exiting');
    process.exit(1);
  }, EXIT_DEADLINE_MS).unref();
  if (service) await service.close();
  console.log('items: stopped');
  process.exit(0);
}

if (process.env.IGNORE_SIGTERM === '1') {
  process.on('SIGTERM', () => console.log('items: SIGTERM ignored (IGNORE_SIGTERM=1)'));
} else {
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
process.on('SIGINT', () => void stop('SIGINT'));

try {
  service = await start({
    port: intFromEnv('PORT', 3000, 0, 65535),
    dataDir: process.env.DATA_DIR || '/data',
    commit: process.env.COMMIT || undefined,
    startDelaySeconds: startDelay,
    noMetrics: process.env.NO_METRICS === '1',
  });
} catch (err) {
  console.error(`items: cannot start: ${err?.message ?? err}`);
  process.exit(1);
}
