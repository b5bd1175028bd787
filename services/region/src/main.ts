import { createApp } from './app.ts';
import { systemClock } from './clock.ts';
import { parseConfig, SLOW_START_MS, type Config } from './config.ts';
import { Faults } from './faults.ts';
import { createRegionServer } from './http.ts';
import { leaking } from './leak.ts';
import { createMetrics } from './metrics.ts';
import { SqliteStore } from './store.ts';

const EX_CONFIG = 78;
const SHUTDOWN_DEADLINE_MS = 10_000;

function main(): void {
  const parsed = parseConfig(process.env);
  if (!parsed.ok) {
    for (const error of parsed.errors) process.stderr.write(`config error: ${error}\n`);
    process.exitCode = EX_CONFIG;
    return;
  }
  const config = parsed.config;
  const store = new SqliteStore(config.dataDir, { dataFault: config.dataFault, rng: Math.random });
  try {
    store.ping();
  } catch (err) {
    // Keep serving: /health reports the database, and the store retries on each request.
    console.error(`region-service: database ${store.path} unavailable at start-up: ${String(err)}`);
  }
  const faults = new Faults(systemClock, Math.random);
  const metrics = createMetrics({ region: config.region, version: config.version, defaultMetrics: true });
  const database = () => store.connection();
  const app = createApp({ config, rng: Math.random, clock: systemClock, store, metrics, faults, database });
  const server = createRegionServer(
    config.regression === 'memory-growth' ? leaking(app) : app,
    config.requestTimeoutMs,
  );

  server.on('error', (err) => {
    console.error(`region-service: cannot serve on port ${config.port}: ${err.message}`);
    process.exit(1);
  });
  startListening(config, () =>
    server.listen(config.port, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const what = `region=${config.region} version=${config.version} port=${port} failure_rate=${config.failureRate}`;
      console.log(`region-service ${what}${knobs(config)}`);
    }),
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`region-service: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`region-service: ${signal}, finishing in-flight requests`);
    setTimeout(() => {
      console.error(`region-service: requests still open after ${SHUTDOWN_DEADLINE_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    faults.liftAll();
    server.close(() => {
      store.close();
      process.exit(0);
    });
    // Keep-alive connections turn idle as their last response goes out; close them as they do.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 50).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** The deliberate faults this process runs with, for its start-up line; empty without any. */
function knobs(config: Config): string {
  const fault = config.dataFault ? ` DATA_FAULT=${config.dataFault}` : '';
  return `${fault}${config.regression ? ` REGRESSION=${config.regression}` : ''}`;
}

/**
 * Listens at once, or SLOW_START_MS later with REGRESSION=slow-start: a candidate whose code
 * restarts slowly, which clean traffic never sees but a crash (SIGKILL, restart policy) does.
 */
function startListening(config: Config, listen: () => void): void {
  if (config.regression !== 'slow-start') return listen();
  console.log(`region-service: REGRESSION=slow-start, waiting ${SLOW_START_MS} ms before listening`);
  setTimeout(listen, SLOW_START_MS);
}

main();
