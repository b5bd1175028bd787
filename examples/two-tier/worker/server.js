// Entry point of the worker: reads the environment, starts it, and stops it gracefully on
// SIGTERM or SIGINT (stop accepting, finish in-flight requests, close the pool, exit 0).
//
// Environment: PORT (4000), PGHOST (postgres), PGPORT (5432), PGUSER (postgres),
// PGDATABASE (postgres), PG_TIMEOUT_MS (1500: per query, below the API's 2 s per call).
import { start } from './app.js';

const EXIT_DEADLINE_MS = 8000;

function fail(message) {
  console.error(`worker: ${message}`);
  process.exit(2);
}

function intFromEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name}=${JSON.stringify(raw)}: must be an integer from ${min} to ${max}`);
  return n;
}

let service;
let stopping = false;

async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`worker: ${signal}, shutting down`);
  setTimeout(() => {
    console.error('worker: shutdown took too long, exiting');
    process.exit(1);
  }, EXIT_DEADLINE_MS).unref();
  if (service) await service.close();
  console.log('worker: stopped');
  process.exit(0);
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  service = await start({
    port: intFromEnv('PORT', 4000, 0, 65535),
    queryTimeoutMs: intFromEnv('PG_TIMEOUT_MS', 1500, 1, 60_000),
    pg: {
      host: process.env.PGHOST || 'postgres',
      port: intFromEnv('PGPORT', 5432, 1, 65535),
      user: process.env.PGUSER || 'postgres',
      database: process.env.PGDATABASE || 'postgres',
    },
  });
} catch (err) {
  console.error(`worker: cannot start: ${err?.message ?? err}`);
  process.exit(1);
}
