import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type DbOperation = 'insert' | 'select';

export interface Metrics {
  readonly contentType: string;
  requestStarted(): void;
  requestFinished(method: string, route: string, status: number, seconds: number): void;
  dbOperation(operation: DbOperation, seconds: number): void;
  render(): Promise<string>;
}

export interface MetricsOptions {
  region: string;
  version: string;
  /** process_* and nodejs_* series; off in tests that build many registries in one process. */
  defaultMetrics?: boolean;
}

// 1 ms to 10 s: the fast path is a few ms, latency faults go up to seconds.
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One registry per service instance, never the global one, so tests can run several. */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const base = { region: options.region, version: options.version };
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const up = new Gauge({
    name: 'service_up',
    help: 'Always 1 while the service answers.',
    labelNames: ['version', 'region'],
    registers: [registry],
  });
  const info = new Gauge({
    name: 'service_info',
    help: 'Version and region of this instance.',
    labelNames: ['version', 'region'],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP responses by route template and status.',
    labelNames: ['region', 'version', 'method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, injected latency included.',
    labelNames: ['region', 'version', 'route'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests received and not yet answered.',
    labelNames: ['region', 'version'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'service_errors_total',
    help: 'Responses with a 5xx status.',
    labelNames: ['region', 'version'],
    registers: [registry],
  });
  const db = new Histogram({
    name: 'db_operation_duration_seconds',
    help: 'SQLite operation time; inserts include the fsync.',
    labelNames: ['region', 'version', 'operation'],
    buckets: BUCKETS,
    registers: [registry],
  });

  up.set(base, 1);
  info.set(base, 1);
  inFlight.set(base, 0);
  // Present from the first scrape, so rate() and error ratios are 0 rather than absent.
  errors.inc(base, 0);
  db.zero({ ...base, operation: 'insert' });
  db.zero({ ...base, operation: 'select' });

  return {
    contentType: registry.contentType,
    requestStarted: () => inFlight.inc(base),
    requestFinished(method, route, status, seconds) {
      inFlight.dec(base);
      requests.inc({ ...base, method, route, status: String(status) });
      duration.observe({ ...base, route }, seconds);
      if (status >= 500) errors.inc(base);
    },
    dbOperation: (operation, seconds) => db.observe({ ...base, operation }, seconds),
    render: () => registry.metrics(),
  };
}
