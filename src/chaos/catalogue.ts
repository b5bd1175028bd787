import type { FaultKind } from './experiment.ts';

// Everything an experiment can be held to. In a file a threshold is written with its
// direction as a prefix ("max_recovery_time_seconds: 15"), so a reader never has to guess
// whether the number is a ceiling or a floor. Every measurement is computed for every kind
// (measure.ts); each kind has defaults for the ones that make its hypothesis.

export interface MeasurementDef {
  unit: string;
  comparator: '<=' | '>=';
  /** What it is, for --help texts and reports. */
  what: string;
}

export const MEASUREMENTS = {
  recovery_time_seconds: {
    unit: 's',
    comparator: '<=',
    what:
      'from the end of the fault (for a crash: the kill) until /health answers 200 again ' +
      '(for a dependency: until 5 requests in a row succeed)',
  },
  acknowledged_writes_lost: {
    unit: 'writes',
    comparator: '<=',
    what: 'writes answered 201 that cannot be read back afterwards',
  },
  error_rate_during: {
    unit: 'ratio',
    comparator: '<=',
    what: "share of the target's requests that failed (5xx or no answer) during the fault",
  },
  error_rate_after: {
    unit: 'ratio',
    comparator: '<=',
    what: "share of the target's requests that failed once it had recovered",
  },
  p99_latency_ms_during: {
    unit: 'ms',
    comparator: '<=',
    what: "p99 latency of the target's successful requests during the fault",
  },
  p99_latency_ms_after: {
    unit: 'ms',
    comparator: '<=',
    what: "p99 latency of the target's successful requests once it had recovered",
  },
  p50_latency_ms_after: {
    unit: 'ms',
    comparator: '<=',
    what: "median latency of the target's successful requests once it had recovered",
  },
  throughput_degradation_percent: {
    unit: '%',
    comparator: '<=',
    what: 'drop of successful requests per second during the fault, against before',
  },
  latency_degradation_percent: {
    unit: '%',
    comparator: '<=',
    what:
      'rise of the median latency during the fault, against before ' +
      '(the median: a p99 of a few ms moves tenfold with the load of the machine)',
  },
  timeouts_during: {
    unit: 'requests',
    comparator: '<=',
    what: 'requests to the target without any answer (time-out, refused, reset) during the fault',
  },
  other_regions_error_rate_during: {
    unit: 'ratio',
    comparator: '<=',
    what: "share of the other regions' requests that failed during the fault (blast radius)",
  },
  unclean_write_answers_during: {
    unit: 'answers',
    comparator: '<=',
    what: 'writes during the fault answered other than 503 (an acknowledgement, a 500, no answer)',
  },
  unclean_read_answers_during: {
    unit: 'answers',
    comparator: '<=',
    what: 'reads during the fault answered other than 503',
  },
  time_to_health_flag_seconds: {
    unit: 's',
    comparator: '<=',
    what: 'from the start of the fault until a /health probe of the target failed',
  },
  time_to_judgement_flag_seconds: {
    unit: 's',
    comparator: '<=',
    what:
      'from the start of the fault until the canary judgement (rollout default limits) ' +
      "is red on the target's traffic",
  },
  time_to_detection_seconds: {
    unit: 's',
    comparator: '<=',
    what: 'from the start of the fault until Prometheus reports the target down (up == 0)',
  },
} as const satisfies Record<string, MeasurementDef>;

export type MeasurementName = keyof typeof MEASUREMENTS;

export const MEASUREMENT_NAMES = Object.keys(MEASUREMENTS) as MeasurementName[];

/** "max_recovery_time_seconds" for a ceiling, "min_..." for a floor. */
export function thresholdKey(name: MeasurementName): string {
  return `${MEASUREMENTS[name].comparator === '<=' ? 'max' : 'min'}_${name}`;
}

/** The rule for a threshold key that names no measurement: the keys that exist. */
export function unknownThresholdRule(): string {
  return `unknown threshold (known: ${MEASUREMENT_NAMES.map(thresholdKey).join(', ')})`;
}

const SAFE = { acknowledged_writes_lost: 0, error_rate_after: 0.01, other_regions_error_rate_during: 0.01 } as const;

/**
 * The hypothesis of each kind when a file sets no thresholds. A file's thresholds are added
 * to these or replace them. The numbers come from runs on a shared 2-core machine, with margin:
 * there a baseline p99 ranged from 7 to 360 ms with other work on the machine, so latency
 * thresholds are either far from what a healthy run shows or taken on the median.
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<FaultKind, Partial<Record<MeasurementName, number>>>> = {
  kill: { recovery_time_seconds: 15, ...SAFE },
  latency: {
    p99_latency_ms_during: 1000,
    error_rate_during: 0.01,
    timeouts_during: 0,
    p50_latency_ms_after: 100,
    recovery_time_seconds: 5,
    ...SAFE,
  },
  cpu: {
    throughput_degradation_percent: 20,
    latency_degradation_percent: 5000,
    p99_latency_ms_during: 1500,
    error_rate_during: 0.01,
    recovery_time_seconds: 5,
    ...SAFE,
  },
  memory: { recovery_time_seconds: 20, ...SAFE },
  db_unavailable: {
    unclean_write_answers_during: 0,
    unclean_read_answers_during: 0,
    recovery_time_seconds: 5,
    ...SAFE,
  },
  failure_rate: {
    time_to_health_flag_seconds: 5,
    time_to_judgement_flag_seconds: 5,
    recovery_time_seconds: 5,
    ...SAFE,
  },
  partition: { time_to_detection_seconds: 10, time_to_health_flag_seconds: 5, recovery_time_seconds: 15, ...SAFE },
  // A dependency is shared by every region (started once per stack): their errors during it
  // are its blast radius, not a finding. The service must serve again once it is back.
  dependency: { recovery_time_seconds: 15, acknowledged_writes_lost: 0, error_rate_after: 0.01 },
};

// Evidence that the fault took effect. A hypothesis made of ceilings only ("recovered within
// 20 s, lost nothing") also holds when the fault did nothing at all, so it cannot tell a
// fault that missed from a resilient service. An experiment's `effect` names the ways its
// fault can show; on every target at least one must be seen (an OR: a memory fault either
// fills the memory or gets the process OOM-killed, never both), or the experiment FAILs with
// "fault had no measurable effect". Each is a floor (`min_...`), measured per target. They are
// not thresholds (measure.ts): a ceiling must hold, one piece of evidence is enough.

export interface EvidenceDef {
  unit: string;
  what: string;
  /** The fault kinds it can be measured for; absent: every kind. */
  kinds?: readonly FaultKind[];
}

export const EVIDENCE = {
  memory_held_percent: {
    unit: '%',
    kinds: ['memory'],
    what:
      "rise of the target's resident memory during the fault " +
      '(its highest process_resident_memory_bytes on /metrics) over its median before, ' +
      'as a percent of the MiB the fault allocates',
  },
  restarts: {
    unit: 'restarts',
    what:
      "times the target's container was restarted by its restart policy during the experiment " +
      '(docker inspect RestartCount); under a memory fault, the OOM kill',
  },
  cpu_usage_rise_percent: {
    unit: '%',
    what:
      "rise of the target process's CPU use during the fault over before " +
      '(process_cpu_seconds_total on /metrics), in percent of one core',
  },
  median_latency_rise_ms: {
    unit: 'ms',
    what: "rise of the median latency of the target's successful requests during the fault over before",
  },
} as const satisfies Record<string, EvidenceDef>;

export type EvidenceName = keyof typeof EVIDENCE;

export const EVIDENCE_NAMES = Object.keys(EVIDENCE) as EvidenceName[];

/** The measurement row that says whether the fault took effect (effect.ts). */
export const EFFECT_MEASUREMENT = 'fault_effect';

export function effectKey(name: EvidenceName): string {
  return `min_${name}`;
}

/** Whether a piece of evidence can be measured for a fault kind. */
export function evidenceFits(name: EvidenceName, kind: FaultKind): boolean {
  const def: EvidenceDef = EVIDENCE[name];
  return def.kinds === undefined || def.kinds.includes(kind);
}

/**
 * The evidence each kind asks for when a file names none (a file's `effect` replaces it).
 * Asked of the faults the service injects into its own process, where a fault that did
 * nothing looks exactly like a service that shrugged it off:
 * - memory: the resident memory rose by at least half the allocation (some may be swapped
 *   out at the limit), or the process died and was restarted (an OOM kill; Docker clears
 *   OOMKilled on that restart, so the restart count is what remains to see).
 * - cpu: the process used at least 30 points of a core more than before, read from its own
 *   CPU counter (the busy loop spins 50 ms of every 60, some 80 points of a core).
 *   The latency rise is not the default evidence: a median of a few ms doubles with the load
 *   of a shared machine, so a fault that did nothing could pass by it.
 * Partition, database and failure-rate faults already need the fault to show (a detection
 * time, clean 503s, a health flag). A kill or a latency fault that missed would pass on its
 * ceilings; a file can ask `min_restarts` or `min_median_latency_rise_ms` of them.
 */
export const DEFAULT_EFFECT: Readonly<Partial<Record<FaultKind, Partial<Record<EvidenceName, number>>>>> = {
  memory: { memory_held_percent: 50, restarts: 1 },
  cpu: { cpu_usage_rise_percent: 30 },
};
