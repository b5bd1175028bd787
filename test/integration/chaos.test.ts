import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeFaults } from '../../src/chaos/endpoint.ts';
import { ComposeStack } from '../../src/stack/compose-stack.ts';
import { execWrapper } from '../../src/stack/exec.ts';
import { defaultStackTarget, regionUrl, type RegionTarget } from '../../src/stack/target.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { cli, root } from './cli.ts';

// The chaos contract on the live stack: the default suite passes on the healthy service; a
// weakened setup fails the right experiment with the measured value; SIGINT in the middle
// of an experiment leaves no fault on and no container down or cut off.
const target = defaultStackTarget(root);
let stack: ComposeStack;
let token: string;

interface MeasurementJson {
  name: string;
  value: number | null;
  threshold: number;
  pass: boolean;
  detail?: string;
}
interface TargetEffectJson {
  region: string;
  took_effect: boolean;
  checks: MeasurementJson[];
  restarts: number | null;
  oom_killed: boolean | null;
  memory_before_mb: number | null;
  memory_peak_mb: number | null;
  cpu_before_percent: number | null;
  cpu_during_percent: number | null;
}
interface ExperimentJson {
  name: string;
  status: string;
  targets: string[];
  fault: { kind: string; method: string };
  windows: { window: string; count: number; p99_ms: number | null; error_rate: number | null }[];
  series: unknown[];
  measurements: MeasurementJson[];
  recovery_time_seconds: number | null;
  acknowledged_writes_lost: number;
  reverted: boolean;
  fault_effect?: { took_effect: boolean; targets: TargetEffectJson[] };
  notes?: string[];
}
interface ReportJson {
  seed: number;
  status: string;
  experiments: ExperimentJson[];
  interrupted?: boolean;
}

const region = (name: string) => target.regions.find((r) => r.name === name) as RegionTarget;
const measurement = (e: ExperimentJson | undefined, name: string) => e?.measurements.find((m) => m.name === name);

function suiteDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-suite-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, `${name}.yml`), text);
  return dir;
}

/** Every region answers /health with 200, is on its network, and has no fault active. */
async function stackIsClean(): Promise<string[]> {
  const containers = await stack.containers();
  const problems: string[] = [];
  for (const r of target.regions) {
    const c = containers.find((x) => x.service === r.service);
    if (c?.state !== 'running' || c.networks.length === 0)
      problems.push(`${r.service}: ${c?.state ?? 'absent'}, networks ${c?.networks.join(',') ?? '-'}`);
    const health = await request(regionUrl(target, r) + '/health', { headersTimeout: 3000 }).then(
      (res) => res.body.dump().then(() => res.statusCode),
      () => 0,
    );
    if (health !== 200) problems.push(`${r.service}: /health ${health}`);
    const faults = await activeFaults(regionUrl(target, r), token);
    if (faults?.length !== 0) problems.push(`${r.service}: faults ${JSON.stringify(faults)}`);
  }
  return problems;
}

beforeAll(async () => {
  stack = await ComposeStack.connect(target);
  // A region recreated by a deploy may lack the fault token; `up` gives it back (the chaos
  // command does the same by itself).
  if ((await stack.containers()).some((c) => c.service.startsWith('region-') && !c.env.FAULT_TOKEN)) await stack.up();
  token = await stack.faultToken();
});

describe('chaos', () => {
  it('refuses a bad experiment file with exit 2, naming file, line and field, before touching the stack', async () => {
    const dir = suiteDir({
      bad: 'name: bad\ndescription: d\ntarget: us-west\nfault: { kind: latency, duration_seconds: 3, delay_ms: 10, jiter_ms: 5 }\n',
    });
    const res = await cli(['chaos', '--experiments', dir]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(`${join(dir, 'bad.yml')}:4: fault.jiter_ms: unknown field`);
    expect(res.stderr).not.toContain('injected');
  });

  it('passes every default experiment on the healthy service, lifting every fault', async () => {
    const res = await cli(['chaos', '--json', '--seed', '11'], { timeoutMs: 400_000 });
    const report = JSON.parse(res.stdout) as ReportJson;
    const failed = report.experiments
      .filter((e) => e.status !== 'PASS')
      .map((e) => ({ name: e.name, measurements: e.measurements.filter((m) => !m.pass) }));
    expect(failed, JSON.stringify(failed)).toEqual([]);
    expect(res.exitCode).toBe(0);
    expect(report.experiments.map((e) => e.name).sort()).toEqual([
      'cpu-spike',
      'database-failure',
      'failure-rate-bump',
      'memory-spike',
      'network-latency',
      'network-partition',
      'service-kill',
    ]);
    expect(JSON.parse(readFileSync(join(root, 'reports/chaos.json'), 'utf8'))).toEqual(report);
    const byName = new Map(report.experiments.map((e) => [e.name, e]));
    for (const e of report.experiments) {
      expect(e.reverted).toBe(true);
      expect(e.acknowledged_writes_lost).toBe(0);
      expect(e.windows.map((w) => w.window)).toEqual(['before', 'during', 'after']);
      expect(e.windows.every((w) => w.count > 0)).toBe(true);
      expect(e.series.length).toBeGreaterThan(10);
    }
    // The kill is a crash the restart policy answered, and it took a measurable time.
    const kill = byName.get('service-kill');
    expect(kill?.fault.method).toMatch(/^host(-sudo)?-kill-9$/);
    expect(kill?.recovery_time_seconds).toBeGreaterThan(0);
    expect(kill?.notes?.join(' ')).toMatch(/restarted by its restart policy \(restarts \d+ -> \d+/);
    // Latency: netem where the kernel has it, otherwise the service's fault, and the report says which.
    const latency = byName.get('network-latency');
    expect(['tc-netem', 'fault-endpoint']).toContain(latency?.fault.method);
    if (latency?.fault.method === 'fault-endpoint')
      expect(latency.notes?.join(' ')).toContain('tc netem not available');
    expect(measurement(latency, 'p99_latency_ms_during')?.value).toBeGreaterThanOrEqual(250);
    // The database fault is answered with clean 503s only.
    expect(measurement(byName.get('database-failure'), 'unclean_write_answers_during')?.value).toBe(0);
    expect(byName.get('database-failure')?.windows.find((w) => w.window === 'during')?.error_rate).toBe(1);
    // Partition: Prometheus saw the target down.
    expect(measurement(byName.get('network-partition'), 'time_to_detection_seconds')?.value).toBeGreaterThan(0);
    expect(measurement(byName.get('failure-rate-bump'), 'time_to_judgement_flag_seconds')?.value).toBeGreaterThan(0);
    // Memory and CPU faults show that they took effect, with the evidence in the result: a
    // fault that did nothing would have met every ceiling of theirs.
    const memory = byName.get('memory-spike');
    expect(measurement(memory, 'fault_effect')).toMatchObject({ value: 1, threshold: 1, pass: true });
    const held = memory?.fault_effect?.targets[0];
    expect(held).toMatchObject({ region: 'eu-west', took_effect: true });
    // Either its memory filled (at least half of the 240 MiB resident) or it was OOM-killed and restarted.
    const filled =
      held?.memory_before_mb != null &&
      held.memory_peak_mb != null &&
      held.memory_peak_mb - held.memory_before_mb >= 120;
    const restarted = (held?.restarts ?? 0) >= 1;
    expect(filled || restarted, JSON.stringify(held)).toBe(true);
    if (restarted) expect(memory?.notes?.join(' ')).toMatch(/eu-west: restarted by its restart policy/);
    const cpu = byName.get('cpu-spike');
    expect(measurement(cpu, 'fault_effect')).toMatchObject({ value: 1, threshold: 1, pass: true });
    const busy = cpu?.fault_effect?.targets[0];
    expect(busy?.took_effect, JSON.stringify(busy)).toBe(true);
    expect(
      (busy?.cpu_during_percent ?? 0) - (busy?.cpu_before_percent ?? 100),
      JSON.stringify(busy),
    ).toBeGreaterThanOrEqual(30);
    for (const name of [
      'service-kill',
      'network-latency',
      'database-failure',
      'failure-rate-bump',
      'network-partition',
    ])
      expect(byName.get(name)?.fault_effect).toBeUndefined();
    expect(await stackIsClean()).toEqual([]);
  });

  it('fails the experiment whose threshold is below what the fault must cause, with the measured value', async () => {
    const dir = suiteDir({
      'slow-but-strict':
        'name: slow-but-strict\ndescription: 300 ms added, yet p99 is held to 100 ms\ntarget: ap-south\n' +
        'fault: { kind: latency, duration_seconds: 4, delay_ms: 300 }\nwindows: { before_seconds: 3, after_seconds: 2 }\nthresholds: { max_p99_latency_ms_during: 100 }\n',
      'partition-ok':
        'name: partition-ok\ndescription: a partition held to its defaults\ntarget: us-east\nfault: { kind: partition, duration_seconds: 3 }\nwindows: { before_seconds: 3, after_seconds: 2 }\n',
      // Evidence a CPU fault cannot give: whatever the busy loop did, nothing restarts.
      'cpu-asked-restart':
        'name: cpu-asked-restart\ndescription: a CPU fault asked for a restart as its evidence\ntarget: us-west\n' +
        'fault: { kind: cpu, duration_seconds: 3 }\nwindows: { before_seconds: 3, after_seconds: 2 }\neffect: { min_restarts: 1 }\n',
    });
    const res = await cli(['chaos', '--experiments', dir, '--json'], { timeoutMs: 120_000 });
    expect(res.exitCode, res.stderr).toBe(1);
    const report = JSON.parse(res.stdout) as ReportJson;
    const strict = report.experiments.find((e) => e.name === 'slow-but-strict');
    expect(strict?.status).toBe('FAIL');
    expect(measurement(strict, 'p99_latency_ms_during')).toMatchObject({ threshold: 100, pass: false });
    expect(measurement(strict, 'p99_latency_ms_during')?.value).toBeGreaterThanOrEqual(290);
    expect(measurement(strict, 'error_rate_during')?.pass).toBe(true);
    expect(report.experiments.find((e) => e.name === 'partition-ok')?.status).toBe('PASS');
    expect(res.stderr).toMatch(/slow-but-strict: FAIL .*failed p99_latency_ms_during \d+(\.\d+)? ms <= 100 ms/);
    // A fault with no effect says nothing of the service: run twice, then could not run (ERROR), never FAIL.
    const unshown = report.experiments.find((e) => e.name === 'cpu-asked-restart');
    expect(unshown?.status).toBe('ERROR');
    expect(measurement(unshown, 'fault_effect')).toMatchObject({ value: 0, threshold: 1, pass: false });
    expect(measurement(unshown, 'fault_effect')?.detail).toContain(
      'fault had no measurable effect on us-west: restarts 0 (needs >= 1)',
    );
    expect(unshown?.fault_effect?.targets[0]?.checks).toEqual([
      expect.objectContaining({ name: 'restarts', value: 0, threshold: 1, pass: false }),
    ]);
    expect(res.stderr).toMatch(
      /cpu-asked-restart: ERROR .*: no measurable effect in 2 attempts: fault had no measurable effect on us-west/,
    );
    expect(await stackIsClean()).toEqual([]);
  });

  it("starves a region of CPU from outside (a cgroup quota), shows it on the kernel's counters, and gives its limit back", async () => {
    const dir = suiteDir({
      'cpu-throttle':
        'name: cpu-throttle\ndescription: us-east keeps a twentieth of a core\ntarget: us-east\n' +
        'fault: { kind: cpu, duration_seconds: 4, method: cgroup, cpus: 0.05 }\nload: { rps: 20, other_regions_rps: 0 }\n' +
        'windows: { before_seconds: 3, after_seconds: 2 }\n' +
        'thresholds: { max_throughput_degradation_percent: 50, max_p99_latency_ms_during: 5000, max_latency_degradation_percent: 20000 }\n',
    });
    const res = await cli(['chaos', '--experiments', dir, '--json'], { timeoutMs: 120_000 });
    expect(res.exitCode, res.stderr).toBe(0);
    const e = (JSON.parse(res.stdout) as ReportJson).experiments[0];
    expect([e?.status, e?.fault.method]).toEqual(['PASS', 'cgroup-cpu-quota']);
    expect(e?.notes).toContain('each target keeps 0.05 of a core (CFS quota); its throttling counters rose');
    // The evidence is the kernel's (the injector's own check), not a latency that a busy host moves as well.
    expect(e?.fault_effect).toBeUndefined();
    const east = (await stack.containers()).find((c) => c.service === region('us-east').service);
    expect(east?.cpuQuota).toBe(-1);
    expect(await stackIsClean()).toEqual([]);
  });

  it('fails service-kill when the restart policy is off, and starts the container again', async () => {
    const c = (await stack.containers()).find((x) => x.service === region('eu-west').service);
    expect(c?.state).toBe('running');
    const id = c?.id as string;
    await execWrapper.exec('docker', ['update', '--restart', 'no', id]);
    try {
      const dir = suiteDir({
        'kill-no-restart':
          'name: kill-no-restart\ndescription: the restart policy is off\ntarget: eu-west\nfault: { kind: kill }\nwindows: { before_seconds: 3, after_seconds: 2, recovery_deadline_seconds: 6 }\n',
      });
      const res = await cli(['chaos', '--experiments', dir, '--json'], { timeoutMs: 120_000 });
      expect(res.exitCode, res.stderr).toBe(1);
      const e = (JSON.parse(res.stdout) as ReportJson).experiments[0];
      expect(e?.status).toBe('FAIL');
      expect(measurement(e, 'recovery_time_seconds')).toMatchObject({ value: null, threshold: 15, pass: false });
      expect(measurement(e, 'recovery_time_seconds')?.detail).toContain(
        'not healthy again within the recovery deadline (6 s)',
      );
      expect(e?.notes?.join(' ')).toMatch(/started region-eu-west again \(it was exited/);
      expect(e?.reverted).toBe(true);
      expect(measurement(e, 'acknowledged_writes_lost')?.value).toBe(0);
    } finally {
      await execWrapper.exec('docker', ['update', '--restart', 'unless-stopped', id]);
    }
    expect(await stackIsClean()).toEqual([]);
  });

  describe('SIGINT in the middle of an experiment', () => {
    const interrupt = async (files: Record<string, string>, injected: () => Promise<boolean>) => {
      const child = execa(process.execPath, ['bin/chaos-gate.js', 'chaos', '--experiments', suiteDir(files)], {
        cwd: root,
        reject: false,
        stdin: 'ignore',
      });
      const seen = await pollUntil(async () => ((await injected()) ? true : undefined), {
        deadlineMs: 60_000,
        intervalMs: 200,
      });
      child.kill('SIGINT');
      const res = await child;
      expect(seen).toBe(true);
      return res;
    };

    it('lifts a service fault: none is left active', async () => {
      const url = regionUrl(target, region('us-east'));
      const res = await interrupt(
        {
          'long-db':
            'name: long-db\ndescription: a long database fault, interrupted\ntarget: us-east\nfault: { kind: db_unavailable, duration_seconds: 120 }\nwindows: { before_seconds: 2 }\n',
        },
        async () => ((await activeFaults(url, token)) ?? []).includes('db_unavailable'),
      );
      expect(res.exitCode, String(res.stderr)).toBe(130);
      expect(String(res.stderr)).toContain('interrupted by SIGINT');
      expect(await activeFaults(url, token)).toEqual([]);
      const report = JSON.parse(readFileSync(join(root, 'reports/chaos.json'), 'utf8')) as ReportJson;
      expect(report.interrupted).toBe(true);
      expect(report.experiments[0]).toMatchObject({ name: 'long-db', status: 'ERROR', reverted: true });
      expect(await stackIsClean()).toEqual([]);
    });

    it('reconnects a partitioned region: no container is left cut off', async () => {
      const service = region('ap-south').service;
      const res = await interrupt(
        {
          'long-partition':
            'name: long-partition\ndescription: a long partition, interrupted\ntarget: ap-south\nfault: { kind: partition, duration_seconds: 120 }\nwindows: { before_seconds: 2 }\n',
        },
        async () => (await stack.containers()).find((c) => c.service === service)?.networks.length === 0,
      );
      expect(res.exitCode, String(res.stderr)).toBe(130);
      const c = (await stack.containers()).find((x) => x.service === service);
      expect(c?.networks.length).toBeGreaterThan(0);
      expect(await stackIsClean()).toEqual([]);
      // Reconnected under its service name: Prometheus scrapes it again.
      const up = await pollUntil(
        async () => {
          const res = await request(
            `http://127.0.0.1:${target.prometheusPort}/api/v1/query?query=${encodeURIComponent('up{job="regions",region="ap-south",slot="stable"}')}`,
          );
          const body = (await res.body.json()) as { data?: { result?: { value: [number, string] }[] } };
          return body.data?.result?.[0]?.value[1] === '1' ? true : undefined;
        },
        { deadlineMs: 20_000, intervalMs: 500 },
      );
      expect(up).toBe(true);
    });
  });
});

afterAll(async () => {
  // Whatever a failed test left behind, the next file gets a stack with the restart policy on.
  for (const c of await stack.containers()) {
    if (c.service.startsWith('region-'))
      await execWrapper.exec('docker', ['update', '--restart', 'unless-stopped', c.id]);
  }
});
