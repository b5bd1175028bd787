import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import type { Observation } from '../../src/analysis/observation.ts';
import { buildResult } from '../../src/chaos/build.ts';
import { cpuRate, faultEffect, targetEvidence } from '../../src/chaos/effect.ts';
import type { Experiment } from '../../src/chaos/experiment.ts';
import { resultLine } from '../../src/chaos/format.ts';
import { parseExperimentText } from '../../src/config/experiment-files.ts';
import { processReading } from '../../src/chaos/process-metrics.ts';
import type { ContainerOutcome, HealthProbe, ProcessSample, Recording } from '../../src/chaos/recording.ts';
import type { ExperimentResult } from '../../src/chaos/result.ts';

// The evidence that a fault took effect, held against the default suite's own files: a
// fault that did nothing could not run (ERROR, "fault had no measurable effect") although
// every ceiling holds: it says nothing of the service; an OOM kill that was recovered from PASSes; a fault that filled the memory or
// loaded the CPU PASSes.

const REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'];
const JUDGEMENT = { limits: { maxErrorRate: 0.05, maxP99Ms: 500 }, options: { minSamples: 30, alpha: 0.05 } };
const MIB = 1024 * 1024;
const suite = (name: string): Experiment =>
  parseExperimentText(
    readFileSync(join(import.meta.dirname, `../../chaos/${name}.yml`), 'utf8'),
    `chaos/${name}.yml`,
    REGIONS,
  );
const memorySpike = suite('memory-spike');
const cpuSpike = suite('cpu-spike');

// Timeline (epoch ms): before 0..4990, the fault 5000..13000, after 13100..18100.
const T = {
  t0: 0,
  injectStart: 4990,
  injectAt: 5000,
  revertAt: 13_000,
  recoveryDeadline: 33_000,
  afterFrom: 13_100,
  end: 18_100,
};
const during = (at: number) => at >= T.injectAt && at < T.revertAt;

const every = <X>(from: number, to: number, stepMs: number, make: (at: number) => X | undefined): X[] => {
  const out: X[] = [];
  for (let at = from; at < to; at += stepMs) {
    const x = make(at);
    if (x !== undefined) out.push(x);
  }
  return out;
};

/** The target's traffic every 100 ms and a little to another region; `down` answers no request. */
function traffic(
  target: string,
  latencyMs: (at: number) => number,
  down: (at: number) => boolean = () => false,
): Observation[] {
  const obs = (at: number, region: string, status: number, ms: number): Observation => ({
    at,
    region,
    version: 'v1',
    cohort: 'baseline',
    route: '/health',
    status,
    latencyMs: ms,
  });
  return [
    ...every(0, T.end, 100, (at) => obs(at, target, down(at) ? 0 : 200, down(at) ? 2000 : latencyMs(at))),
    ...every(0, T.end, 200, (at) => obs(at, 'us-west', 200, 4)),
  ];
}

const probes = (region: string, down: (at: number) => boolean = () => false): HealthProbe[] =>
  every(0, T.end, 200, (at) => ({
    region,
    at,
    latencyMs: down(at) ? 1000 : 5,
    ok: !down(at),
    status: down(at) ? 0 : 200,
  }));

/** /metrics readings every 500 ms; undefined from `reading` when the process did not answer. */
const samples = (
  region: string,
  reading: (at: number) => Omit<ProcessSample, 'region' | 'at'> | undefined,
): ProcessSample[] =>
  every(0, T.end, 500, (at) => {
    const r = reading(at);
    return r && { region, at, ...r };
  });

function recording(kind: Recording['kind'], target: string, over: Partial<Recording>): Recording {
  const container: ContainerOutcome = { region: target, restarts: 0, oomKilled: false };
  return {
    kind,
    targets: [target],
    ...T,
    observations: traffic(target, () => 5),
    probes: probes(target),
    up: [],
    samples: [],
    containers: [container],
    crashed: false,
    readBack: { checked: 60, missing: 0, unverified: 0 },
    notes: [],
    ...over,
  };
}

const result = (experiment: Experiment, rec: Recording): ExperimentResult =>
  buildResult(
    {
      experiment,
      targets: [...rec.targets],
      method: 'fault-endpoint',
      notes: [],
      reverted: true,
      t0: T.t0,
      end: T.end,
      observations: rec.observations,
      recording: rec,
    },
    JUDGEMENT,
  );

const row = (r: ExperimentResult, name: string) => r.measurements.find((m) => m.name === name);
const failed = (r: ExperimentResult) => r.measurements.filter((m) => !m.pass).map((m) => m.name);

describe('memory-spike', () => {
  const flat = samples('eu-west', () => ({ rssBytes: 60 * MIB, cpuSeconds: null }));

  it('could not run when the fault did nothing, although every threshold holds, naming what stayed put', () => {
    const r = result(memorySpike, recording('memory', 'eu-west', { samples: flat }));
    expect(r.status).toBe('ERROR');
    expect(r.error).toBe(row(r, 'fault_effect')?.detail);
    expect(failed(r)).toEqual(['fault_effect']);
    expect(row(r, 'fault_effect')).toMatchObject({
      value: 0,
      threshold: 1,
      comparator: '>=',
      unit: 'targets',
      pass: false,
    });
    expect(row(r, 'fault_effect')?.detail).toBe(
      'fault had no measurable effect on eu-west: memory_held_percent 0% (needs >= 50%): 60 MiB before, at most 60 MiB during, 240 MiB allocated; restarts 0 (needs >= 1): not restarted',
    );
    expect(r.faultEffect).toEqual({
      tookEffect: false,
      targets: [
        expect.objectContaining({
          region: 'eu-west',
          tookEffect: false,
          restarts: 0,
          oomKilled: false,
          memoryBeforeMb: 60,
          memoryPeakMb: 60,
        }),
      ],
    });
    expect(resultLine(r)).toMatch(
      /^memory-spike: ERROR \(.*\): fault had no measurable effect on eu-west: memory_held/,
    );
  });

  it('PASSes when the memory filled toward the limit and the service kept serving', () => {
    const filled = samples('eu-west', (at) => ({ rssBytes: (during(at) ? 250 : 60) * MIB, cpuSeconds: null }));
    const r = result(memorySpike, recording('memory', 'eu-west', { samples: filled }));
    expect(failed(r)).toEqual([]);
    expect(r.status).toBe('PASS');
    expect(r.faultEffect?.targets[0]).toMatchObject({
      tookEffect: true,
      memoryBeforeMb: 60,
      memoryPeakMb: 250,
      restarts: 0,
    });
    expect(r.faultEffect?.targets[0]?.checks.map((c) => [c.name, c.value, c.pass])).toEqual([
      ['memory_held_percent', 79.2, true],
      ['restarts', 0, false],
    ]);
    expect(row(r, 'fault_effect')?.detail).toBe(
      'took effect on eu-west: memory_held_percent 79.2% >= 50%: 60 MiB before, at most 250 MiB during, 240 MiB allocated',
    );
  });

  // OOM-killed as the allocation ran, restarted by the policy 2 s later, a fresh small process.
  const down = (at: number) => at >= 5000 && at < 7000;
  const oom = (over: Partial<Recording> = {}) =>
    recording('memory', 'eu-west', {
      crashed: true,
      containers: [{ region: 'eu-west', restarts: 1, oomKilled: false }],
      samples: samples('eu-west', (at) =>
        down(at) ? undefined : { rssBytes: (at < 5000 ? 60 : 50) * MIB, cpuSeconds: null },
      ),
      observations: traffic('eu-west', () => 5, down),
      probes: probes('eu-west', down),
      ...over,
    });

  it('PASSes an OOM kill and restart once it recovered in time with no write lost', () => {
    const r = result(memorySpike, oom());
    expect(failed(r)).toEqual([]);
    expect(r.status).toBe('PASS');
    expect(r.faultEffect?.targets[0]).toMatchObject({
      tookEffect: true,
      restarts: 1,
      oomKilled: false,
      memoryPeakMb: 50,
    });
    expect(row(r, 'fault_effect')?.detail).toBe(
      'took effect on eu-west: restarts 1 >= 1: restarted by its restart policy (Docker clears OOMKilled on that restart)',
    );
    expect(row(r, 'recovery_time_seconds')?.value).toBe(2.005);
  });

  it('FAILs an OOM kill that was not recovered from in time, or that lost an acknowledged write', () => {
    const late = (at: number) => at >= 5000 && at < 30_000;
    const slow = result(
      memorySpike,
      oom({ probes: probes('eu-west', late), observations: traffic('eu-west', () => 5, late) }),
    );
    expect(slow.status).toBe('FAIL');
    expect(row(slow, 'fault_effect')?.pass).toBe(true);
    expect(failed(slow)).toContain('recovery_time_seconds');
    const lost = result(memorySpike, oom({ readBack: { checked: 60, missing: 1, unverified: 0 } }));
    expect(lost.status).toBe('FAIL');
    expect(failed(lost)).toEqual(['acknowledged_writes_lost']);
  });

  it('counts evidence it could not measure as not shown', () => {
    const r = result(memorySpike, recording('memory', 'eu-west', { samples: [], containers: [] }));
    expect(r.status).toBe('ERROR');
    expect(row(r, 'fault_effect')?.detail).toBe(
      'fault had no measurable effect on eu-west: memory_held_percent n/a (needs >= 50%): no /metrics reading before the fault; restarts n/a (needs >= 1): the container was gone at the end',
    );
  });
});

describe('cpu-spike', () => {
  const cpu = (perSecondBefore: number, perSecondDuring: number) => (at: number) => {
    // The counter: seconds of CPU used so far at `at`.
    const used =
      (Math.min(at, T.injectAt) / 1000) * perSecondBefore +
      (Math.max(0, Math.min(at, T.revertAt) - T.injectAt) / 1000) * perSecondDuring +
      (Math.max(0, at - T.revertAt) / 1000) * perSecondBefore;
    return { rssBytes: 60 * MIB, cpuSeconds: used };
  };
  const slowDuring = (at: number) => (during(at) ? 25 : 5);

  it('could not run when the busy loop never ran: nothing moved', () => {
    const r = result(cpuSpike, recording('cpu', 'us-east', { samples: samples('us-east', cpu(0.1, 0.1)) }));
    expect(r.status).toBe('ERROR');
    expect(failed(r)).toEqual(['fault_effect']);
    expect(row(r, 'fault_effect')?.detail).toBe(
      'fault had no measurable effect on us-east: cpu_usage_rise_percent 0% (needs >= 30%): 10% -> 10% of one core',
    );
  });

  it('PASSes when the process used the CPU and the region slowed within the ceilings', () => {
    const r = result(
      cpuSpike,
      recording('cpu', 'us-east', {
        samples: samples('us-east', cpu(0.1, 0.9)),
        observations: traffic('us-east', slowDuring),
      }),
    );
    expect(failed(r)).toEqual([]);
    expect(r.status).toBe('PASS');
    expect(r.faultEffect?.targets[0]).toMatchObject({ cpuBeforePercent: 10, cpuDuringPercent: 90 });
    expect(row(r, 'fault_effect')).toMatchObject({
      value: 1,
      pass: true,
      detail: 'took effect on us-east: cpu_usage_rise_percent 80% >= 30%: 10% -> 90% of one core',
    });
    expect(row(r, 'latency_degradation_percent')?.value).toBe(400);
  });

  it('FAILs the loaded CPU when the region then slowed beyond a ceiling: the evidence does not excuse a threshold', () => {
    const r = result(
      cpuSpike,
      recording('cpu', 'us-east', {
        samples: samples('us-east', cpu(0.1, 0.9)),
        observations: traffic('us-east', (at) => (during(at) ? 1800 : 5)),
      }),
    );
    expect(r.status).toBe('FAIL');
    expect(failed(r)).toEqual(['p99_latency_ms_during', 'latency_degradation_percent']);
  });
});

describe('several targets', () => {
  it('needs the effect on every target and names the one without it', () => {
    const experiment = parseExperimentText(
      'name: m\ndescription: d\ntarget: [us-west, eu-west]\nfault: { kind: memory, duration_seconds: 8, mb: 100 }\nload: { other_regions_rps: 0 }\n',
      'm.yml',
      REGIONS,
    );
    const rec: Recording = {
      ...recording('memory', 'us-west', {}),
      targets: ['us-west', 'eu-west'],
      probes: [...probes('us-west'), ...probes('eu-west')],
      samples: [
        ...samples('us-west', (at) => ({ rssBytes: (during(at) ? 170 : 60) * MIB, cpuSeconds: null })),
        ...samples('eu-west', () => ({ rssBytes: 60 * MIB, cpuSeconds: null })),
      ],
      containers: [
        { region: 'us-west', restarts: 0, oomKilled: false },
        { region: 'eu-west', restarts: 0, oomKilled: false },
      ],
    };
    const effect = faultEffect(rec, experiment.fault, experiment.effect);
    expect(effect?.measurement).toMatchObject({ name: 'fault_effect', value: 1, threshold: 2, pass: false });
    expect(effect?.measurement.detail).toMatch(/^fault had no measurable effect on eu-west: memory_held_percent 0%/);
    expect(effect?.effect.targets.map((t) => [t.region, t.tookEffect])).toEqual([
      ['us-west', true],
      ['eu-west', false],
    ]);
  });

  it('asks nothing of an experiment without evidence', () => {
    const kill = parseExperimentText(
      'name: k\ndescription: d\ntarget: us-west\nfault: { kind: kill }\n',
      'k.yml',
      REGIONS,
    );
    expect(kill.effect).toEqual([]);
    expect(faultEffect(recording('kill', 'us-west', {}), kill.fault, kill.effect)).toBeUndefined();
  });
});

describe('evidence readings', () => {
  const s = (at: number, cpuSeconds: number | null): ProcessSample => ({ region: 'r', at, rssBytes: null, cpuSeconds });

  test.each([
    ['steady', [s(0, 1), s(1000, 1.5), s(2000, 2)], 0.5],
    ['a restarted process counts from 0', [s(0, 10), s(1000, 10.8), s(2000, 0.3), s(3000, 1.1)], (0.8 + 0.3 + 0.8) / 3],
    ['one reading is no rate', [s(0, 1)], null],
    ['readings without the counter are skipped', [s(0, 1), s(500, null), s(1000, 2)], 1],
  ])('cpuRate: %s', (_what, list, rate) => {
    const got = cpuRate(list);
    if (rate === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(rate, 9);
  });

  it('measures the latency rise of the target alone, and no memory for another kind', () => {
    const rec = recording('cpu', 'us-east', { observations: traffic('us-east', (at) => (during(at) ? 30 : 5)) });
    const { values } = targetEvidence(rec, cpuSpike.fault, 'us-east');
    expect(values.median_latency_rise_ms).toEqual({ value: 25, detail: 'median 5 -> 30 ms' });
    expect(values.memory_held_percent).toEqual({ value: null, detail: 'only a memory fault allocates memory' });
    expect(values.cpu_usage_rise_percent).toEqual({
      value: null,
      detail: 'fewer than two /metrics readings before the fault',
    });
  });

  it('reads the process series of a Prometheus text exposition', () => {
    const text = [
      '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
      '# TYPE process_cpu_seconds_total counter',
      'process_cpu_seconds_total 1.234',
      'process_cpu_user_seconds_total 1.0',
      'process_resident_memory_bytes{instance="a"} 73400320',
      'process_resident_memory_bytes_other 1',
    ].join('\n');
    expect(processReading(text)).toEqual({ rssBytes: 73_400_320, cpuSeconds: 1.234 });
    expect(processReading('http_requests_total 3\nprocess_cpu_seconds_total NaN\n')).toEqual({
      rssBytes: null,
      cpuSeconds: null,
    });
  });
});
