import type { JudgeOptions, StageLimits } from '../analysis/judge.ts';
import type { Observation } from '../analysis/observation.ts';
import { MEASUREMENTS, type MeasurementName } from './catalogue.ts';
import {
  allRecoveredAt,
  detectedDownAt,
  healthFlaggedAt,
  judgementFlaggedAt,
  latestOf,
  recoveryFrom,
} from './detect.ts';
import type { Threshold } from './experiment.ts';
import type { Recording } from './recording.ts';
import type { Measurement, WindowSummary } from './result.ts';
import { inRange, windowSummary, type TimeRange } from './windows.ts';

// Every measurement of an experiment, computed from its Recording alone (pure), then held
// against the thresholds. A value that could not be measured is null and never passes.

/**
 * Requests sent while the injection or the recovery was under way belong to no window: the
 * fault may or may not have been active for them (a partition takes a few hundred ms to
 * apply; an allocation kills the service before the call returns).
 */
export interface Phases {
  before: TimeRange;
  during: TimeRange;
  /** From the moment every target answered again (or the fault was lifted, if one never did). */
  after: TimeRange;
}

export function phases(rec: Recording): Phases {
  return {
    before: { from: rec.t0, to: rec.injectStart },
    during: { from: rec.injectAt, to: rec.revertAt },
    after: { from: Math.min(rec.afterFrom, rec.end), to: rec.end },
  };
}

export function summaries(rec: Recording, targetTraffic: readonly Observation[]): WindowSummary[] {
  const p = phases(rec);
  return [
    windowSummary('before', targetTraffic, p.before, rec.t0),
    windowSummary('during', targetTraffic, p.during, rec.t0),
    windowSummary('after', targetTraffic, p.after, rec.t0),
  ];
}

export interface Value {
  value: number | null;
  detail?: string;
}

export interface JudgementConfig {
  limits: StageLimits;
  options: JudgeOptions;
}

const seconds = (ms: number | null): number | null => (ms === null ? null : round(ms / 1000, 3));

export function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

/** Percent by which `during` is below `before` (drop) or above it (rise); null without a base. */
function drop(before: number | null, during: number | null): number | null {
  if (before === null || during === null || before === 0) return null;
  return round(((before - during) / before) * 100, 1);
}

function rise(before: number | null, during: number | null): number | null {
  const d = drop(before, during);
  return d === null ? null : -d || 0;
}

/** Every measurement's value for this recording. */
export function measureAll(rec: Recording, judgement: JudgementConfig): Record<MeasurementName, Value> {
  const targets = new Set(rec.targets);
  const targetTraffic = rec.observations.filter((o) => targets.has(o.region));
  const p = phases(rec);
  const [before, during, after] = summaries(rec, targetTraffic) as [WindowSummary, WindowSummary, WindowSummary];
  const duringTraffic = inRange(targetTraffic, p.during);
  const beforeTraffic = inRange(targetTraffic, p.before);
  return {
    ...recoveryValues(rec),
    ...windowValues(before, during, after),
    ...trafficValues(rec, targets, p.during, duringTraffic),
    ...detectionValues(rec, judgement, beforeTraffic, duringTraffic),
  };
}

type Values<K extends MeasurementName> = Record<K, Value>;

/** How long the targets took to recover and what they lost. */
function recoveryValues(rec: Recording): Values<'recovery_time_seconds' | 'acknowledged_writes_lost'> {
  const from = recoveryFrom(rec);
  const back = allRecoveredAt(rec);
  const lost = rec.readBack.missing + rec.readBack.unverified;
  return {
    recovery_time_seconds: {
      value: back === null ? null : seconds(Math.max(0, back - from)),
      detail: [
        back === null
          ? `not healthy again within the recovery deadline (${seconds(rec.recoveryDeadline - from)} s)`
          : rec.crashed
            ? 'counted from the crash'
            : 'counted from the lifting of the fault',
        ...rec.notes,
      ].join('; '),
    },
    acknowledged_writes_lost: {
      value: lost,
      detail:
        `${rec.readBack.checked} acknowledged writes read back: ${rec.readBack.missing} missing, ` +
        `${rec.readBack.unverified} without a clean answer`,
    },
  };
}

/** The targets' errors, latency and throughput during and after the fault, against before. */
function windowValues(
  before: WindowSummary,
  during: WindowSummary,
  after: WindowSummary,
): Values<
  | 'error_rate_during'
  | 'error_rate_after'
  | 'p99_latency_ms_during'
  | 'p99_latency_ms_after'
  | 'throughput_degradation_percent'
  | 'p50_latency_ms_after'
  | 'latency_degradation_percent'
> {
  return {
    error_rate_during: {
      value: during.errorRate === null ? null : round(during.errorRate, 4),
      detail: `${during.errors} of ${during.count}`,
    },
    error_rate_after: {
      value: after.errorRate === null ? null : round(after.errorRate, 4),
      detail: `${after.errors} of ${after.count}`,
    },
    p99_latency_ms_during: {
      value: during.p99Ms === null ? null : round(during.p99Ms, 1),
      detail: `before ${before.p99Ms === null ? 'n/a' : round(before.p99Ms, 1)} ms`,
    },
    p99_latency_ms_after: {
      value: after.p99Ms === null ? null : round(after.p99Ms, 1),
      detail: `before ${before.p99Ms === null ? 'n/a' : round(before.p99Ms, 1)} ms`,
    },
    throughput_degradation_percent: {
      value: drop(before.throughputRps, during.throughputRps),
      detail: `${round(before.throughputRps, 1)} -> ${round(during.throughputRps, 1)} successful requests/s`,
    },
    p50_latency_ms_after: {
      value: after.p50Ms === null ? null : round(after.p50Ms, 1),
      detail: `before ${before.p50Ms === null ? 'n/a' : round(before.p50Ms, 1)} ms`,
    },
    latency_degradation_percent: {
      value: rise(before.p50Ms, during.p50Ms),
      detail:
        `median ${before.p50Ms === null ? 'n/a' : round(before.p50Ms, 1)} -> ` +
        `${during.p50Ms === null ? 'n/a' : round(during.p50Ms, 1)} ms`,
    },
  };
}

/** Timeouts and unclean answers of the targets during the fault, and the errors of every other region. */
function trafficValues(
  rec: Recording,
  targets: ReadonlySet<string>,
  duringRange: TimeRange,
  duringTraffic: readonly Observation[],
): Values<
  'timeouts_during' | 'other_regions_error_rate_during' | 'unclean_write_answers_during' | 'unclean_read_answers_during'
> {
  const others = inRange(
    rec.observations.filter((o) => !targets.has(o.region)),
    duringRange,
  );
  const otherErrors = others.filter((o) => o.status === 0 || o.status >= 500).length;
  const unclean = (route: string) => duringTraffic.filter((o) => o.route === route && o.status !== 503);
  const uncleanDetail = (list: readonly Observation[]) =>
    list.length === 0
      ? undefined
      : `statuses ${[...new Set(list.map((o) => o.status))].sort().join(', ')} (0 = no answer)`;
  const writesUnclean = unclean('/api/orders');
  const readsUnclean = unclean('/api/orders/:id');
  return {
    timeouts_during: {
      value: duringTraffic.filter((o) => o.status === 0).length,
      detail: `of ${duringTraffic.length} requests`,
    },
    other_regions_error_rate_during: {
      value: others.length === 0 ? null : round(otherErrors / others.length, 4),
      detail: others.length === 0 ? 'no traffic to other regions' : `${otherErrors} of ${others.length}`,
    },
    unclean_write_answers_during: {
      value: writesUnclean.length,
      detail:
        uncleanDetail(writesUnclean) ??
        `all ${duringTraffic.filter((o) => o.route === '/api/orders').length} writes answered 503`,
    },
    unclean_read_answers_during: {
      value: readsUnclean.length,
      detail:
        uncleanDetail(readsUnclean) ??
        `all ${duringTraffic.filter((o) => o.route === '/api/orders/:id').length} reads answered 503`,
    },
  };
}

/** How soon the /health probe, the canary judgement and Prometheus each noticed the fault. */
function detectionValues(
  rec: Recording,
  judgement: JudgementConfig,
  beforeTraffic: readonly Observation[],
  duringTraffic: readonly Observation[],
): Values<'time_to_health_flag_seconds' | 'time_to_judgement_flag_seconds' | 'time_to_detection_seconds'> {
  const health = latestOf(rec.targets.map((r) => healthFlaggedAt(rec, r)));
  const detected = latestOf(rec.targets.map((r) => detectedDownAt(rec.up, r, rec.injectAt, rec.revertAt + 5000)));
  const judged = latestOf(
    rec.targets.map((r) =>
      judgementFlaggedAt(
        beforeTraffic.filter((o) => o.region === r),
        duringTraffic.filter((o) => o.region === r),
        rec.injectAt,
        rec.revertAt,
        judgement.limits,
        judgement.options,
      ),
    ),
  );
  return {
    time_to_health_flag_seconds: {
      value: health === null ? null : seconds(health - rec.injectAt),
      detail: 'first failed /health probe',
    },
    time_to_judgement_flag_seconds: {
      value: judged === null ? null : seconds(judged - rec.injectAt),
      detail:
        `red verdict of the canary judgement, limits: error rate ${judgement.limits.maxErrorRate}, ` +
        `p99 ${judgement.limits.maxP99Ms} ms`,
    },
    time_to_detection_seconds: {
      value: detected === null ? null : seconds(detected - rec.injectAt),
      detail: 'Prometheus up == 0',
    },
  };
}

/** One threshold against its value. */
export function evaluate(threshold: Threshold, measured: Value): Measurement {
  const { value } = measured;
  const pass = value !== null && (threshold.comparator === '<=' ? value <= threshold.value : value >= threshold.value);
  return {
    name: threshold.measurement,
    value,
    threshold: threshold.value,
    comparator: threshold.comparator,
    unit: MEASUREMENTS[threshold.measurement].unit,
    pass,
    ...(measured.detail ? { detail: measured.detail } : value === null ? { detail: 'could not be measured' } : {}),
  };
}

export function measurements(
  rec: Recording,
  thresholds: readonly Threshold[],
  judgement: JudgementConfig,
): Measurement[] {
  const values = measureAll(rec, judgement);
  return thresholds.map((t) => evaluate(t, values[t.measurement]));
}
