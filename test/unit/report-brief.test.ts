import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Measurement } from '../../src/chaos/result.ts';
import { toJsonText } from '../../src/util/json-text.ts';
import {
  cpuSpike,
  erroredExperiment,
  memorySpike,
  networkLatency,
  serviceKill,
} from '../fixtures/report/experiments.ts';
import { ALL_RUNS, failingRun, passingRun, reportOf, type Run } from '../fixtures/report/runs.ts';

// report.json in the shape the brief showed users (seed 002): a workflow's
// `jq -e '.deployment_gate == "OPEN"'` and the flat per-scenario figures must work on a real report.

const BRIEF_TOP = ['run_id', 'commit', 'scenarios', 'overall', 'deployment_gate'];
const BRIEF_SCENARIO = [
  'name',
  'status',
  'recovery_time_seconds',
  'threshold_seconds',
  'p99_latency_ms',
  'threshold_ms',
  'degradation_percent',
  'threshold_percent',
];
const FIGURES = BRIEF_SCENARIO.slice(2);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const jsonOf = (run: Run): Json => JSON.parse(toJsonText(reportOf(run)));
const degradedRun = (...experiments: Run['experiments']): Run => ({
  version: 'v2',
  failureRate: 0,
  experiments,
  rollout: null,
});
const RUNS: Record<string, () => Run> = { ...ALL_RUNS, degradedRun: () => degradedRun(cpuSpike()) };

/** The user's jq program, `.deployment_gate == "OPEN"` with -e, as plain JSON reading. */
const gateIsOpen = (text: string): boolean =>
  (JSON.parse(text) as { deployment_gate: unknown }).deployment_gate === 'OPEN';

const jqAvailable = spawnSync('jq', ['--version']).status === 0;

/** The figures of one scenario, in the brief's key order. */
const figures = (s: Json) => Object.fromEntries(FIGURES.map((k) => [k, s[k]]));

describe("report.json in the brief's shape", () => {
  it.each(Object.entries(RUNS))('%s: deployment_gate is OPEN or CLOSED, every scenario the eight keys', (_, run) => {
    const json = jsonOf(run());
    for (const key of BRIEF_TOP) expect(json).toHaveProperty(key);
    expect(['OPEN', 'CLOSED']).toContain(json.deployment_gate);
    expect(json.deployment_gate).toBe(json.gate.status);
    for (const s of json.scenarios) {
      for (const key of BRIEF_SCENARIO) expect(s, `${s.name}: ${key}`).toHaveProperty(key);
      for (const key of FIGURES) {
        expect(s[key] === null || typeof s[key] === 'number', `${s.name}: ${key} = ${s[key]}`).toBe(true);
      }
    }
  });

  it('answers the workflow\'s `.deployment_gate == "OPEN"`: true for an open gate, false for a closed one', () => {
    expect(gateIsOpen(toJsonText(reportOf(passingRun())))).toBe(true);
    expect(gateIsOpen(toJsonText(reportOf(failingRun())))).toBe(false);
  });

  it.skipIf(!jqAvailable)('passes the real jq -e: exit 0 for an open gate, 1 for a closed one', () => {
    const jq = (run: Run) =>
      spawnSync('jq', ['-e', '.deployment_gate == "OPEN"'], { input: toJsonText(reportOf(run)) });
    expect(jq(passingRun()).status).toBe(0);
    expect(jq(failingRun()).status).toBe(1);
  });

  it('flattens each measurement beside its threshold, null where the experiment has none', () => {
    const errored = erroredExperiment('network-partition', 'boom');
    const json = jsonOf(degradedRun(serviceKill(), networkLatency(), memorySpike(), cpuSpike(), errored));
    expect(json.scenarios.map((s: Json) => [s.name, figures(s), s.degradation_measurement])).toEqual([
      // No p99 threshold: the during window's p99 alone.
      ['service-kill', fig(6.4, 15, 120, null, null, null), null],
      ['network-latency', fig(1.2, 5, 398, 1000, null, null), null],
      // No successful request during the fault: no p99.
      ['memory-spike', fig(9.8, 20, null, null, null, null), null],
      ['cpu-spike', fig(0.8, 5, 420.4, 1500, 12.5, 20), 'throughput_degradation_percent'],
      ['network-partition', fig(null, null, null, null, null, null), null],
    ]);
  });

  it('shows a failing latency degradation rather than a passing throughput one', () => {
    const e = cpuSpike();
    const breach = (m: Measurement): Measurement =>
      m.name === 'latency_degradation_percent' ? { ...m, value: 6200, pass: false } : m;
    e.measurements = e.measurements.map(breach);
    const [s] = jsonOf(degradedRun(e)).scenarios;
    expect([s.degradation_percent, s.threshold_percent, s.degradation_measurement]).toEqual([
      6200,
      5000,
      'latency_degradation_percent',
    ]);
  });

  it('keeps every measured value as it was, in addition to the flat figures', () => {
    const [s] = jsonOf(degradedRun(cpuSpike())).scenarios;
    expect(s.measurements.map((m: Json) => [m.name, m.value, m.threshold])).toEqual([
      ['recovery_time_seconds', 0.8, 5],
      ['acknowledged_writes_lost', 0, 0],
      ['throughput_degradation_percent', 12.5, 20],
      ['latency_degradation_percent', 358.1, 5000],
      ['p99_latency_ms_during', 420.4, 1500],
    ]);
    expect(s.windows.map((w: Json) => w.p99_ms)).toEqual([9.8, 420.4, 11.4]);
  });
});

function fig(...values: (number | null)[]) {
  return Object.fromEntries(FIGURES.map((k, i) => [k, values[i]]));
}
