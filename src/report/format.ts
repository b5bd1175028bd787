import { num, pct } from '../util/format.ts';
import type { Measurement } from '../chaos/result.ts';

// Text for values in reasons and reports. Fixed precision, so that the same result always
// reads the same (reports are compared in tests, and people diff them between runs).

/** A measured value with its unit: "4.2 s", "350 ms", "3.5%", "0". */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  switch (unit) {
    case 'ratio':
    case 'fraction':
      return pct(value);
    case '%':
    case 'percent':
      return `${num(value)}%`;
    case '':
    case 'count':
    case 'requests':
    case 'writes':
    case 'answers':
      return num(value);
    case 'seconds':
      return `${num(value)} s`;
    default:
      return `${num(value)} ${unit}`;
  }
}

/** A duration for people: "939 ms", "1.6 s", "42 s", "3 min 05 s". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 180) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/** "<= 30 s": what the threshold asks for. */
export function formatThreshold(m: Pick<Measurement, 'threshold' | 'comparator' | 'unit'>): string {
  return `${m.comparator} ${formatValue(m.threshold, m.unit)}`;
}

/**
 * One measurement against its threshold, as a reason line:
 * "recovery_time_seconds 42 s breaks the threshold <= 30 s".
 */
export function describeMeasurement(m: Omit<Measurement, 'detail'> & { detail?: string | null }): string {
  const threshold = formatThreshold(m);
  const detail = m.detail ? ` (${m.detail})` : '';
  if (m.value === null) return `${m.name} could not be measured (threshold ${threshold})${detail}`;
  const verb = m.pass ? 'meets' : 'breaks';
  return `${m.name} ${formatValue(m.value, m.unit)} ${verb} the threshold ${threshold}${detail}`;
}

/**
 * Text from tools for people: ANSI colour and cursor sequences (Docker and Compose print
 * them) and other control characters removed, line breaks and tabs kept.
 */
export function cleanText(s: string): string {
  /* eslint-disable no-control-regex -- these are the characters removed */
  return s
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-_]/g, '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
  /* eslint-enable no-control-regex */
}

/** "stage 2 (10%)": stages are 0-based in the data and 1-based for people. */
export function stageLabel(stage: number, weight: number): string {
  return `stage ${stage + 1} (${num(weight)}%)`;
}
