import { parse, type TestCase, type TestSuite, type TestSuites } from 'junit2json';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.ts';
import { renderJunit } from '../../src/report/junit.ts';
import {
  ALL_RUNS,
  differentialRun,
  HOSTILE,
  hostileDifferentialRun,
  hostileRun,
  reportOf,
} from '../fixtures/report/runs.ts';

// junit.xml read back by an independent JUnit reader from npm (junit2json, on xml2js), not by
// our own test/unit/xml-parse.ts (issue 16): what a CI system reads must be what the report says.

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** What the report says each suite holds, from the report's own fields. */
function expectedCounts(report: Report): Counts[] {
  const experiments = {
    tests: report.totals.experiments,
    failures: report.totals.failed,
    errors: report.totals.errors,
    skipped: 0,
  };
  const r = report.rollout;
  if (!r) return [experiments];
  const lost = r.mitigation.some((m) => m.preDeployWritesMissing + m.acknowledgedReadBack.missing > 0);
  const rollbackFailed = r.rollback.triggered && (lost || r.finalState !== 'ROLLED_BACK');
  const waves = (status: string) => r.regions.filter((w) => w.status === status).length;
  const rollout = {
    tests: r.regions.length + (r.rollback.triggered ? 1 : 0),
    failures: waves('FAILED') + (rollbackFailed ? 1 : 0),
    errors: 0,
    skipped: waves('NOT_REACHED'),
  };
  if (r.differential.length === 0) return [experiments, rollout];
  const verdicts = (v: string) => r.differential.filter((d) => d.verdict === v).length;
  const differential = {
    tests: r.differential.length,
    failures: verdicts('regression'),
    errors: verdicts('could_not_run'),
    skipped: 0,
  };
  return [experiments, rollout, differential];
}

// ALL_RUNS has no chaos on the candidate (test/browser counts cases without it): these have.
const RUNS = { ...ALL_RUNS, differentialRun, hostileDifferentialRun };

/** Counted from the test cases the reader found, not from the attributes. */
function countedCases(cases: readonly TestCase[]): Counts {
  const having = (key: 'failure' | 'error' | 'skipped') => cases.filter((c) => (c[key]?.length ?? 0) > 0).length;
  return { tests: cases.length, failures: having('failure'), errors: having('error'), skipped: having('skipped') };
}

const attrCounts = (s: TestSuite | (TestSuites & { skipped?: number })): Counts => ({
  tests: s.tests ?? -1,
  failures: s.failures ?? -1,
  errors: s.errors ?? -1,
  skipped: s.skipped ?? -1,
});

async function read(report: Report): Promise<TestSuites> {
  return (await parse(renderJunit(report))) as TestSuites;
}

describe('junit.xml read by junit2json', () => {
  it.each(Object.entries(RUNS))('%s: suite and case counts match the report', async (_name, run) => {
    const report = reportOf(run());
    const root = await read(report);
    const suites = root.testsuite ?? [];
    const expected = expectedCounts(report);
    expect(suites.map(attrCounts)).toEqual(expected);
    expect(suites.map((s) => countedCases(s.testcase ?? []))).toEqual(expected);
    const total = (k: keyof Counts) => expected.reduce((n, c) => n + c[k], 0);
    const totals = (['tests', 'failures', 'errors', 'skipped'] as const).map((k) => [k, total(k)]);
    expect(attrCounts(root)).toEqual(Object.fromEntries(totals));
  });

  it.each(Object.entries(ALL_RUNS))('%s: one case per experiment and per wave, by name', async (_name, run) => {
    const report = reportOf(run());
    const [experiments, rollout] = (await read(report)).testsuite ?? [];
    expect(experiments?.testcase?.map((c) => c.name) ?? []).toEqual(report.scenarios.map((s) => s.name));
    const waves = report.rollout?.regions.map((w) => `rollout ${w.region}`);
    const names = rollout?.testcase?.map((c) => c.name);
    expect(names?.filter((n) => n !== 'rollback')).toEqual(waves);
  });

  it('names a differential case by experiment, region and 1-based stage, and says why it failed', async () => {
    const report = reportOf(differentialRun());
    const [, , differential] = (await read(report)).testsuite ?? [];
    expect(differential?.name).toBe('differential chaos on v8');
    const names = ['service-kill', 'db-outage', 'network-latency'].map((e) => `${e} in us-east stage 2`);
    expect(differential?.testcase?.map((c) => c.name)).toEqual(names);
    expect(differential?.testcase?.[1]?.failure?.[0]?.message).toBe(report.rollout?.differential[1]?.headline);
    expect(differential?.testcase?.[2]?.error?.[0]?.type).toBe('COULD_NOT_RUN');
  });

  it('hostile text reads back as written, in names and messages', async () => {
    const report = reportOf(hostileRun());
    const [experiments] = (await read(report)).testsuite ?? [];
    expect(experiments?.testcase?.[0]?.name).toBe(`kill ${HOSTILE}`);
    expect(experiments?.testcase?.[1]?.error?.[0]?.message).toBe(`could not run: boom ${HOSTILE}`);
  });
});
