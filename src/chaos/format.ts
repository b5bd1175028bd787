import { EFFECT_MEASUREMENT } from './catalogue.ts';
import type { Measurement, ExperimentResult } from './result.ts';

// Text for people: a line per finished experiment and the cells of the final table. Pure.

export function value(m: Pick<Measurement, 'value' | 'unit'>): string {
  if (m.value === null) return 'n/a';
  switch (m.unit) {
    case 'ratio':
      return `${Number((m.value * 100).toFixed(2))}%`;
    case '%':
      return `${m.value}%`;
    case 's':
      return `${m.value} s`;
    case 'ms':
      return `${m.value} ms`;
    default:
      return String(m.value);
  }
}

/**
 * "recovery_time_seconds 1.42 s <= 15 s", the way a measurement reads in every output. A
 * failed fault_effect also says why: its value (targets) alone does not tell what stayed put.
 */
export function measurementText(m: Measurement): string {
  const why = m.name === EFFECT_MEASUREMENT && !m.pass && m.detail ? ` (${m.detail})` : '';
  return `${m.name} ${value(m)} ${m.comparator} ${value({ value: m.threshold, unit: m.unit })}${why}`;
}

export function failedMeasurements(r: ExperimentResult): Measurement[] {
  return r.measurements.filter((m) => !m.pass);
}

export function resultLine(r: ExperimentResult): string {
  const head =
    `${r.name}: ${r.status} (${r.fault.kind} via ${r.fault.method} on ${r.targets.join(', ')}, ` +
    `${(r.durationMs / 1000).toFixed(1)} s)`;
  if (r.status === 'ERROR') return `${head}: ${r.error ?? 'error'}`;
  const failed = failedMeasurements(r);
  if (failed.length > 0) return `${head}: failed ${failed.map(measurementText).join('; ')}`;
  const recovery = r.recoveryTimeSeconds === null ? 'n/a' : `${r.recoveryTimeSeconds} s`;
  return `${head}: recovery ${recovery}, ${r.acknowledgedWritesLost} acknowledged writes lost`;
}

export const TABLE_HEADER = [
  'experiment',
  'target',
  'fault',
  'method',
  'status',
  'recovery',
  'p99 during',
  'errors during',
  'writes lost',
  'failed',
] as const;

export function tableRow(r: ExperimentResult): string[] {
  const during = r.windows.find((w) => w.window === 'during');
  return [
    r.name,
    r.targets.join(','),
    r.fault.kind,
    r.fault.method,
    r.status,
    r.recoveryTimeSeconds === null ? 'n/a' : `${r.recoveryTimeSeconds} s`,
    during?.p99Ms == null ? 'n/a' : `${during.p99Ms.toFixed(1)} ms`,
    during?.errorRate == null ? 'n/a' : `${(during.errorRate * 100).toFixed(1)}%`,
    String(r.acknowledgedWritesLost),
    r.status === 'ERROR' ? (r.error ?? '') : failedMeasurements(r).map(measurementText).join('; '),
  ];
}
