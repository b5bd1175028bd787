import { MIB } from '../util/format.ts';
import { quantileSorted, summarize } from '../analysis/metrics.ts';
import { EFFECT_MEASUREMENT, EVIDENCE, type EvidenceName } from './catalogue.ts';
import type { EffectFloor, Fault } from './experiment.ts';
import { value as text } from './format.ts';
import { phases, round, type Value } from './measure.ts';
import type { ProcessSample, Recording } from './recording.ts';
import type { FaultEffect, Measurement, TargetEffect } from './result.ts';
import { inRange } from './windows.ts';

// Did the fault take effect? Read from the Recording alone (pure). Each target's evidence is
// measured, the experiment's effect floors are held against it, and the fault counts as
// having taken effect when every target shows at least one: the floors are alternatives
// (a memory fault fills the memory OR gets the process OOM-killed and restarted). The answer
// is one more measurement row, fault_effect, so every report and the gate verdict show it
// and a FAIL says "fault had no measurable effect" with the numbers that stayed put.

type Facts = Omit<TargetEffect, 'region' | 'tookEffect' | 'checks'>;

/**
 * CPU seconds used per second of wall time between the first and the last reading; null
 * with fewer than two. The counter starts again from 0 in a restarted process: a reading
 * below the one before counts from 0, as Prometheus's rate() does.
 */
export function cpuRate(samples: readonly ProcessSample[]): number | null {
  const points = samples
    .filter((s): s is ProcessSample & { cpuSeconds: number } => s.cpuSeconds !== null)
    .sort((a, b) => a.at - b.at);
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || last.at <= first.at) return null;
  let used = 0;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [
      points[i - 1] as ProcessSample & { cpuSeconds: number },
      points[i] as ProcessSample & { cpuSeconds: number },
    ];
    used += b.cpuSeconds >= a.cpuSeconds ? b.cpuSeconds - a.cpuSeconds : b.cpuSeconds;
  }
  return used / ((last.at - first.at) / 1000);
}

const rssOf = (samples: readonly ProcessSample[]): number[] =>
  samples.flatMap((s) => (s.rssBytes === null ? [] : [s.rssBytes])).sort((a, b) => a - b);
const mib = (bytes: number | null): number | null => (bytes === null ? null : round(bytes / MIB, 1));
const percent = (rate: number | null): number | null => (rate === null ? null : round(rate * 100, 1));

/** Every piece of evidence of one target, with the facts it was computed from. */
export function targetEvidence(
  rec: Recording,
  fault: Fault,
  region: string,
): { values: Record<EvidenceName, Value>; facts: Facts } {
  const p = phases(rec);
  const samples = rec.samples.filter((s) => s.region === region);
  const [before, during] = [inRange(samples, p.before), inRange(samples, p.during)];
  const memoryBefore = quantileSorted(rssOf(before), 0.5);
  const memoryPeak = rssOf(during).at(-1) ?? null;
  const [cpuBefore, cpuDuring] = [cpuRate(before), cpuRate(during)];
  const container = rec.containers.find((c) => c.region === region);
  const facts: Facts = {
    restarts: container?.restarts ?? null,
    oomKilled: container?.oomKilled ?? null,
    memoryBeforeMb: mib(memoryBefore),
    memoryPeakMb: mib(memoryPeak),
    cpuBeforePercent: percent(cpuBefore),
    cpuDuringPercent: percent(cpuDuring),
  };
  const traffic = rec.observations.filter((o) => o.region === region);
  const [p50Before, p50During] = [
    summarize(inRange(traffic, p.before)).p50Ms,
    summarize(inRange(traffic, p.during)).p50Ms,
  ];
  return {
    facts,
    values: {
      memory_held_percent:
        fault.kind !== 'memory'
          ? { value: null, detail: 'only a memory fault allocates memory' }
          : memoryBefore === null || memoryPeak === null
            ? {
                value: null,
                detail:
                  memoryBefore === null
                    ? 'no /metrics reading before the fault'
                    : 'no /metrics reading during the fault',
              }
            : {
                value: round(((memoryPeak - memoryBefore) / MIB / fault.mb) * 100, 1),
                detail:
                  `${facts.memoryBeforeMb} MiB before, at most ${facts.memoryPeakMb} MiB during, ` +
                  `${fault.mb} MiB allocated`,
              },
      restarts:
        facts.restarts === null
          ? { value: null, detail: 'the container was gone at the end' }
          : {
              value: facts.restarts,
              detail:
                facts.restarts > 0
                  ? `restarted by its restart policy` +
                    (facts.oomKilled ? ', OOM-killed' : ' (Docker clears OOMKilled on that restart)')
                  : `not restarted${facts.oomKilled ? ', yet OOM-killed' : ''}`,
            },
      cpu_usage_rise_percent:
        cpuBefore === null || cpuDuring === null
          ? {
              value: null,
              detail: `fewer than two /metrics readings ${cpuBefore === null ? 'before' : 'during'} the fault`,
            }
          : {
              value: round((cpuDuring - cpuBefore) * 100, 1),
              detail: `${facts.cpuBeforePercent}% -> ${facts.cpuDuringPercent}% of one core`,
            },
      median_latency_rise_ms:
        p50Before === null || p50During === null
          ? { value: null, detail: 'no successful request before or during the fault' }
          : {
              value: round(p50During - p50Before, 1),
              detail: `median ${round(p50Before, 1)} -> ${round(p50During, 1)} ms`,
            },
    },
  };
}

function check(floor: EffectFloor, measured: Value): Measurement {
  return {
    name: floor.evidence,
    value: measured.value,
    threshold: floor.value,
    comparator: '>=',
    unit: EVIDENCE[floor.evidence].unit,
    pass: measured.value !== null && measured.value >= floor.value,
    ...(measured.detail ? { detail: measured.detail } : {}),
  };
}

function checkText(c: Measurement): string {
  const floor = text({ value: c.threshold, unit: c.unit });
  return `${c.name} ${text(c)} ${c.pass ? `>= ${floor}` : `(needs >= ${floor})`}${c.detail ? `: ${c.detail}` : ''}`;
}

/** The fault_effect measurement and the evidence behind it; undefined when the experiment asks for none. */
export function faultEffect(
  rec: Recording,
  fault: Fault,
  floors: readonly EffectFloor[],
): { measurement: Measurement; effect: FaultEffect } | undefined {
  if (floors.length === 0) return undefined;
  const targets: TargetEffect[] = rec.targets.map((region) => {
    const { values, facts } = targetEvidence(rec, fault, region);
    const checks = floors.map((f) => check(f, values[f.evidence]));
    return { region, tookEffect: checks.some((c) => c.pass), checks, ...facts };
  });
  const missed = targets.filter((t) => !t.tookEffect);
  const detail =
    missed.length > 0
      ? `fault had no measurable effect on ` +
        missed.map((t) => `${t.region}: ${t.checks.map(checkText).join('; ')}`).join(' | ')
      : `took effect on ${targets
          .map(
            (t) =>
              `${t.region}: ${t.checks
                .filter((c) => c.pass)
                .map(checkText)
                .join('; ')}`,
          )
          .join(' | ')}`;
  return {
    measurement: {
      name: EFFECT_MEASUREMENT,
      value: targets.length - missed.length,
      threshold: targets.length,
      comparator: '>=',
      unit: 'targets',
      pass: missed.length === 0,
      detail,
    },
    effect: { tookEffect: missed.length === 0, targets },
  };
}
