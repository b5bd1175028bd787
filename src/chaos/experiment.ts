import type { EvidenceName, MeasurementName } from './catalogue.ts';

// A validated chaos experiment (chaos/*.yml after schema.ts), camelCase, every default filled
// in. One experiment is one hypothesis: "under this load, while this fault lasts, these
// measurements stay within these thresholds".

/** Fault kinds; where the region service has the same fault, the same name. */
export const FAULT_KINDS = [
  'kill',
  'latency',
  'cpu',
  'memory',
  'db_unavailable',
  'failure_rate',
  'partition',
  'dependency',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type LatencyMethod = 'auto' | 'tc-netem' | 'fault-endpoint';

/**
 * How a dependency fails. Its container: frozen (`pause`: its connections hang, callers time
 * out) or stopped (`stop`: refused at once). Or the way to it, in the region's fault proxy
 * (PROXY_MODES): slower, answering 5xx, reset, held without an answer, or throttled;
 * `errors` is http_error where the way speaks HTTP and reset where it does not.
 */
export const DEPENDENCY_MODES = [
  'pause',
  'stop',
  'latency',
  'errors',
  'http_error',
  'reset',
  'timeout',
  'bandwidth',
] as const;
export type DependencyMode = (typeof DEPENDENCY_MODES)[number];
export const PROXY_MODES = [
  'latency',
  'errors',
  'http_error',
  'reset',
  'timeout',
  'bandwidth',
] as const satisfies readonly DependencyMode[];
export type ProxyMode = (typeof PROXY_MODES)[number];

export function isProxyMode(mode: DependencyMode): mode is ProxyMode {
  return (PROXY_MODES as readonly string[]).includes(mode);
}

/** A dependency fault's parameters in the proxy, each only for its mode (schema.ts says which). */
export interface ProxyParams {
  delayMs?: number;
  jitterMs?: number;
  /** http_error: the status answered instead of the dependency's. */
  status?: number;
  /** errors, http_error, reset, timeout: the share of requests (HTTP) or connections (TCP) hit. */
  share?: number;
  /** http_error: only the first N requests after the start. */
  firstN?: number;
  /** bandwidth: KiB per second from the dependency. */
  rateKbps?: number;
}

/** How CPU pressure is made: the demo's busy loop, or a CFS quota on the container from outside. */
export const CPU_METHODS = ['fault-endpoint', 'cgroup'] as const;
export type CpuMethod = (typeof CPU_METHODS)[number];
/** Share of a core a cgroup-throttled container keeps by default. */
export const DEFAULT_CGROUP_CPUS = 0.1;

/** How memory pressure is made: the demo's allocation, or a cgroup memory limit from outside. */
export const MEMORY_METHODS = ['fault-endpoint', 'cgroup'] as const;
export type MemoryMethod = (typeof MEMORY_METHODS)[number];

/**
 * Whether a fault is injected through the demo region service's own fault endpoint, which a
 * user's service does not have (latency with method auto may fall back to it where the
 * kernel has no netem).
 */
export function needsFaultEndpoint(fault: Fault): boolean {
  switch (fault.kind) {
    case 'memory':
      return fault.method === 'fault-endpoint';
    case 'db_unavailable':
    case 'failure_rate':
      return true;
    case 'cpu':
      return fault.method === 'fault-endpoint';
    case 'latency':
      return fault.method !== 'tc-netem';
    default:
      return false;
  }
}

export type Fault =
  /** SIGKILL of the container's main process: a crash, so the restart policy must bring it back. */
  | { kind: 'kill' }
  | { kind: 'latency'; durationSeconds: number; delayMs: number; jitterMs: number; method: LatencyMethod }
  | { kind: 'cpu'; durationSeconds: number; method: CpuMethod; cpus: number }
  /** fault-endpoint: `mb` allocated inside; cgroup: the container held to its own memory plus `mb`. */
  | { kind: 'memory'; durationSeconds: number; mb: number; method: MemoryMethod }
  | { kind: 'db_unavailable'; durationSeconds: number }
  | { kind: 'failure_rate'; durationSeconds: number; rate: number }
  | { kind: 'partition'; durationSeconds: number }
  /**
   * A service of the user's dependencies file paused or stopped, or the way to it faulted in the proxy;
   * the target regions' traffic shows what their callers see.
   */
  | ({ kind: 'dependency'; durationSeconds: number; service: string; mode: DependencyMode } & ProxyParams);

/** Where the fault goes: named regions, or one region drawn with the run's seed. */
export type TargetSpec = { regions: readonly string[] } | { random: true };

export interface LoadSpec {
  /** Requests per second to each target region. */
  rps: number;
  writeShare: number;
  readShare: number;
  /** Requests per second to each other region, to see whether the fault spreads. */
  otherRegionsRps: number;
  timeoutMs: number;
}

export interface WindowSpec {
  beforeSeconds: number;
  afterSeconds: number;
  /** How long to wait for the target to be healthy again once the fault ended. */
  recoveryDeadlineSeconds: number;
}

export interface Threshold {
  measurement: MeasurementName;
  comparator: '<=' | '>=';
  value: number;
}

/** One way the fault can show that it took effect: a floor on a piece of evidence (catalogue.ts). */
export interface EffectFloor {
  evidence: EvidenceName;
  value: number;
}

export interface Experiment {
  name: string;
  description: string;
  /** The file it came from, for messages. */
  source: string;
  target: TargetSpec;
  fault: Fault;
  load: LoadSpec;
  windows: WindowSpec;
  /** Every threshold in effect: the fault kind's defaults, overridden by the file. */
  thresholds: readonly Threshold[];
  /** Evidence that the fault took effect, one of which every target must show; empty: none asked. */
  effect: readonly EffectFloor[];
}

/** Seconds the fault is held; a kill has none (it lasts until the restart policy acts). */
export function faultSeconds(fault: Fault): number {
  return fault.kind === 'kill' ? 0 : fault.durationSeconds;
}

/** The fault's parameters for the result, snake_case as written in the file. */
export function faultParams(fault: Fault): Record<string, unknown> {
  switch (fault.kind) {
    case 'kill':
      return {};
    case 'latency':
      return {
        duration_seconds: fault.durationSeconds,
        delay_ms: fault.delayMs,
        jitter_ms: fault.jitterMs,
        method: fault.method,
      };
    case 'memory':
      return { duration_seconds: fault.durationSeconds, mb: fault.mb, method: fault.method };
    case 'failure_rate':
      return { duration_seconds: fault.durationSeconds, rate: fault.rate };
    case 'dependency':
      return {
        duration_seconds: fault.durationSeconds,
        service: fault.service,
        mode: fault.mode,
        ...proxyParamsOf(fault),
      };
    case 'cpu':
      return {
        duration_seconds: fault.durationSeconds,
        method: fault.method,
        ...(fault.method === 'cgroup' ? { cpus: fault.cpus } : {}),
      };
    default:
      return { duration_seconds: fault.durationSeconds };
  }
}

/** A dependency fault's proxy parameters, snake_case, only those set. */
export function proxyParamsOf(fault: ProxyParams): Record<string, number> {
  const fields: [string, number | undefined][] = [
    ['delay_ms', fault.delayMs],
    ['jitter_ms', fault.jitterMs],
    ['status', fault.status],
    ['share', fault.share],
    ['first_n', fault.firstN],
    ['rate_kbps', fault.rateKbps],
  ];
  return Object.fromEntries(fields.filter((f): f is [string, number] => f[1] !== undefined));
}
