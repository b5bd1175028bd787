import { DATA_FAULTS, type DataFault } from './data.ts';

// Environment -> Config, with every problem named. Pure: no process access, no exits.

/**
 * REGRESSION: a resilience regression written into the code: slow-start (a slow restart after a
 * crash), memory-growth (each request keeps memory for good, which only a memory limit shows).
 */
export type Regression = 'slow-start' | 'memory-growth';
export const REGRESSIONS: readonly Regression[] = ['slow-start', 'memory-growth'];
/** How long REGRESSION=slow-start waits before listening: a crash then costs 10 s, not well under 1 s. */
export const SLOW_START_MS = 10_000;

export interface Config {
  version: string;
  region: string;
  failureRate: number;
  port: number;
  dataDir: string;
  /** Empty string: the fault endpoint is disabled. */
  faultToken: string;
  /** DATA_FAULT: a deliberate data bug (tests of rollback with mitigation); unset: none. */
  dataFault?: DataFault;
  /** REGRESSION: a resilience regression (slow restart, memory growth); unset: none. */
  regression?: Regression;
  /** REQUEST_TIMEOUT_MS: how long a request may take to arrive whole; unset: http.ts's default. */
  requestTimeoutMs?: number;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Plain decimals only: "1e-1", "+0.5", " 0.5", "0x1" and "Infinity" all pass Number() but
// are almost certainly typos in a deployment file.
const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)$/;
const INTEGER = /^\d+$/;
// Below 100 ms a loaded but honest client could not send its request; above 300 s is Node's old default.
const REQUEST_TIMEOUT_RANGE = [100, 300_000] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Quotes a value for an error line; long values are cut so one bad variable stays one line. */
function show(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(cut);
}

export function parseConfig(env: Env): ConfigResult {
  const errors: string[] = [];

  const pattern = (name: string, re: RegExp): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      errors.push(`${name} is required and must match ${re.source}`);
      return '';
    }
    if (!re.test(value)) errors.push(`${name}=${show(value)} must match ${re.source}`);
    return value;
  };
  const version = pattern('VERSION', VERSION);
  const region = pattern('REGION', REGION);

  let failureRate = 0;
  const rate = env.FAILURE_RATE;
  if (rate !== undefined) {
    failureRate = Number(rate);
    if (!DECIMAL.test(rate) || !(failureRate >= 0 && failureRate <= 1)) {
      errors.push(`FAILURE_RATE=${show(rate)} must be a number between 0.0 and 1.0`);
    }
  }

  let port = 8080;
  const rawPort = env.PORT;
  if (rawPort !== undefined) {
    port = Number(rawPort);
    if (!INTEGER.test(rawPort) || port < 1 || port > 65535) {
      errors.push(`PORT=${show(rawPort)} must be an integer between 1 and 65535`);
    }
  }

  const dataDir = env.DATA_DIR ?? '/data';
  if (dataDir === '') errors.push('DATA_DIR="" must be a non-empty directory path');

  const faultToken = env.FAULT_TOKEN ?? '';

  // Empty is "none", as Compose passes an unset variable as "".
  const choice = <T extends string>(name: string, allowed: readonly T[], none: string): T | undefined => {
    const raw = env[name] ?? '';
    const found = allowed.find((v) => v === raw);
    const rule = `must be one of ${allowed.join(', ')} (or empty: ${none})`;
    if (raw !== '' && !found) errors.push(`${name}=${show(raw)} ${rule}`);
    return found;
  };
  const dataFault = choice('DATA_FAULT', DATA_FAULTS, 'no fault');
  const regression = choice('REGRESSION', REGRESSIONS, 'no regression');

  // Empty is "unset" for the same reason.
  const rawTimeout = env.REQUEST_TIMEOUT_MS ?? '';
  const requestTimeoutMs = Number(rawTimeout);
  const [min, max] = REQUEST_TIMEOUT_RANGE;
  if (rawTimeout !== '' && (!INTEGER.test(rawTimeout) || requestTimeoutMs < min || requestTimeoutMs > max)) {
    errors.push(`REQUEST_TIMEOUT_MS=${show(rawTimeout)} must be an integer of milliseconds between ${min} and ${max}`);
  }

  if (errors.length > 0) return { ok: false, errors };
  const optional = {
    ...(dataFault ? { dataFault } : {}),
    ...(regression ? { regression } : {}),
    ...(rawTimeout !== '' ? { requestTimeoutMs } : {}),
  };
  return { ok: true, config: { version, region, failureRate, port, dataDir, faultToken, ...optional } };
}
