import { describe, expect, it } from 'vitest';
import { parseExperimentText } from '../../src/config/experiment-files.ts';
import { type InputIssue } from '../../src/util/errors.ts';
import { issuesOf } from './usage-issues.ts';
import { parseConfig } from '../../src/config/load.ts';
import { applyThresholdOverrides, locateOverrideIssues } from '../../src/gate/thresholds.ts';

const REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'];
const experiment = (name: string, fault: string, thresholds = '') =>
  parseExperimentText(
    `name: ${name}\ndescription: d\ntarget: us-west\nfault: ${fault}\nload: { other_regions_rps: 0 }\n${thresholds}`,
    `${name}.yml`,
    REGIONS,
  );
const SUITE = [
  experiment('service-kill', '{ kind: kill }', 'thresholds: { max_recovery_time_seconds: 15 }\n'),
  experiment('cpu-spike', '{ kind: cpu, duration_seconds: 5 }'),
];
const valueOf = (
  e: { thresholds: readonly { measurement: string; value: number }[] } | undefined,
  measurement: string,
) => e?.thresholds.find((t) => t.measurement === measurement)?.value;

const FILE = `experiments:
  thresholds:
    service-kill: { max_recovery_time_seconds: 20 }
environments:
  staging:
    experiments:
      thresholds:
        service-kill: { max_recovery_time_seconds: 40 }
  typo:
    experiments:
      thresholds:
        service-kil: { max_recovery_time_seconds: 40 }
`;

describe('applyThresholdOverrides', () => {
  it("changes the named experiment's threshold and leaves the others alone", () => {
    const [kill, cpu] = applyThresholdOverrides(SUITE, { 'service-kill': { max_recovery_time_seconds: 20 } }, 'f.yml');
    expect(valueOf(kill, 'recovery_time_seconds')).toBe(20);
    expect(kill?.thresholds.filter((t) => t.measurement === 'recovery_time_seconds')).toEqual([
      { measurement: 'recovery_time_seconds', comparator: '<=', value: 20 },
    ]);
    expect(valueOf(kill, 'acknowledged_writes_lost')).toBe(valueOf(SUITE[0], 'acknowledged_writes_lost')); // untouched defaults stay
    expect(cpu).toBe(SUITE[1]);
  });

  it('adds a threshold the experiment did not have', () => {
    const [kill] = applyThresholdOverrides(SUITE, { 'service-kill': { max_p99_latency_ms_after: 250 } }, 'f.yml');
    expect(valueOf(SUITE[0], 'p99_latency_ms_after')).toBeUndefined();
    expect(valueOf(kill, 'p99_latency_ms_after')).toBe(250);
    expect(valueOf(kill, 'recovery_time_seconds')).toBe(15);
  });

  it("lets the environment's value win over the base section's", () => {
    const base = applyThresholdOverrides(SUITE, parseConfig(FILE, 'f.yml').experiments.thresholds, 'f.yml');
    const staging = applyThresholdOverrides(
      SUITE,
      parseConfig(FILE, 'f.yml', 'staging').experiments.thresholds,
      'f.yml',
    );
    expect(valueOf(base[0], 'recovery_time_seconds')).toBe(20);
    expect(valueOf(staging[0], 'recovery_time_seconds')).toBe(40);
  });

  it('refuses an unknown experiment and an unknown threshold, naming the field and the rule', () => {
    const issues = issuesOf(() =>
      applyThresholdOverrides(
        SUITE,
        { 'service-kil': { max_recovery_time_seconds: 20 }, 'cpu-spike': { max_recovery_seconds: 3 } },
        'f.yml',
      ),
    );
    expect(issues).toEqual([
      {
        source: 'f.yml',
        path: 'experiments.thresholds.service-kil',
        rule: 'no experiment named "service-kil" in the suite (service-kill, cpu-spike)',
      },
      {
        source: 'f.yml',
        path: 'experiments.thresholds.cpu-spike.max_recovery_seconds',
        rule: expect.stringMatching(/^unknown threshold \(known: max_recovery_time_seconds, /),
      },
    ]);
  });
});

describe('locateOverrideIssues', () => {
  const unknown = (source = 'f.yml'): InputIssue => ({
    source,
    path: 'experiments.thresholds.service-kil',
    rule: 'no experiment named "service-kil"',
  });

  it('finds the line of the field, in the chosen environment when it set it', () => {
    const base = `experiments:\n  thresholds:\n    service-kil: { max_recovery_time_seconds: 20 }\n`;
    expect(locateOverrideIssues([unknown()], 'f.yml', base, undefined)).toEqual([{ ...unknown(), line: 3 }]);
    expect(locateOverrideIssues([unknown()], 'f.yml', FILE, 'typo')).toEqual([
      { ...unknown(), path: 'environments.typo.experiments.thresholds.service-kil', line: 12 },
    ]);
  });

  it('leaves issues of other sources, issues with a line and unparsable text alone', () => {
    const located = { ...unknown(), line: 7 };
    expect(locateOverrideIssues([unknown('other.yml'), located], 'f.yml', FILE, 'typo')).toEqual([
      unknown('other.yml'),
      located,
    ]);
    expect(locateOverrideIssues([unknown()], 'f.yml', 'experiments: [1, 2\n', undefined)).toEqual([unknown()]);
  });
});
