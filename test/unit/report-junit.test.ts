import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.ts';
import { xmlAttr, xmlText } from '../../src/report/xml.ts';
import { rolloutFixture } from '../fixtures/report/rollout.ts';
import {
  dataLossRun,
  differentialRun,
  errorRun,
  failingRun,
  HOSTILE,
  hostileDifferentialRun,
  hostileRun,
  nothingRun,
  passingRun,
  regionRollbackRun,
  reportOf,
  restoreRun,
} from '../fixtures/report/runs.ts';
import { differentialMix } from '../fixtures/report/differential.ts';
import { childrenNamed, parseXml, type XmlElement } from './xml-parse.ts';

const suites = (root: XmlElement) => childrenNamed(root, 'testsuite');
const cases = (suite: XmlElement | undefined) => (suite ? childrenNamed(suite, 'testcase') : []);
const outcome = (c: XmlElement | undefined) =>
  c?.children.find((x) => ['failure', 'error', 'skipped'].includes(x.name))?.name ?? 'pass';

describe('junit.xml', () => {
  it('has one case per experiment and per wave, with counts and seconds', () => {
    const root = parseXml(renderJunit(reportOf(failingRun())));
    expect(root.name).toBe('testsuites');
    const [experiments, rollout] = suites(root);
    expect(experiments?.attrs).toMatchObject({
      name: 'chaos experiments',
      tests: '2',
      failures: '1',
      errors: '0',
      skipped: '0',
      time: '106.000',
    });
    expect(cases(experiments).map((c) => [c.attrs.name, c.attrs.time, outcome(c)])).toEqual([
      ['service-kill', '70.000', 'failure'],
      ['network-latency', '36.000', 'pass'],
    ]);
    const failure = cases(experiments)[0]?.children.find((c) => c.name === 'failure');
    expect(failure?.attrs.message).toBe('recovery_time_seconds 42.5 s breaks the threshold <= 15 s');
    expect(rollout?.attrs).toMatchObject({ name: 'rollout of v3', tests: '5', failures: '1', skipped: '2' });
    expect(cases(rollout).map((c) => [c.attrs.name, outcome(c)])).toEqual([
      ['rollout us-west', 'pass'],
      ['rollout us-east', 'failure'],
      ['rollout eu-west', 'skipped'],
      ['rollout ap-south', 'skipped'],
      ['rollback', 'pass'],
    ]);
    // us-west: 1.3 s deploy, 3 stages of 4.1 s, 1.8 s promotion.
    expect(cases(rollout)[0]?.attrs.time).toBe('15.400');
    expect(cases(rollout)[1]?.children.find((c) => c.name === 'failure')?.attrs.message).toMatch(
      /^stage 2 \(25%\) red: red verdict: error rate 80%/,
    );
    expect(root.attrs).toMatchObject({ tests: '7', failures: '2', errors: '0', skipped: '2' });
    const props = childrenNamed(childrenNamed(experiments as XmlElement, 'properties')[0] as XmlElement, 'property');
    expect(Object.fromEntries(props.map((p) => [p.attrs.name, p.attrs.value]))).toMatchObject({
      version: 'v3',
      deployment_gate: 'CLOSED',
      overall: 'FAIL',
    });
  });

  it('reports an experiment that could not run as <error>, and control characters do not break the file', () => {
    const xml = renderJunit(reportOf(errorRun()));
    const root = parseXml(xml);
    const [experiments] = suites(root);
    expect(suites(root)).toHaveLength(1); // no rollout, no rollout suite
    expect(experiments?.attrs).toMatchObject({ tests: '2', errors: '1', failures: '0' });
    const error = cases(experiments)[1]?.children.find((c) => c.name === 'error');
    expect(error?.attrs.message).toBe(
      'could not run: docker network disconnect failed: Error response from daemon: network chaos-gate_db not found',
    );
  });

  it('passes everything in a passing run and keeps an empty experiments suite without experiments', () => {
    const root = parseXml(renderJunit(reportOf(passingRun())));
    expect(root.attrs).toMatchObject({ tests: '7', failures: '0', errors: '0', skipped: '0' });
    const none = parseXml(renderJunit(reportOf(nothingRun())));
    expect(suites(none).map((s) => s.attrs.tests)).toEqual(['0']);
  });

  it('fails the rollback case when the rollback could not be verified', () => {
    const report = reportOf({
      version: 'v3',
      failureRate: 0.8,
      experiments: [],
      rollout: rolloutFixture({
        version: 'v3',
        failureRate: 0.8,
        failAt: { region: 'us-west', stage: 0 },
        rollbackFails: true,
      }),
    });
    const rollback = cases(suites(parseXml(renderJunit(report)))[1]).find((c) => c.attrs.name === 'rollback');
    expect(rollback?.children.find((c) => c.name === 'failure')?.attrs).toMatchObject({
      type: 'ROLLBACK_FAILED',
      message: 'us-west: reports v3, expected v1',
    });
  });

  const systemOut = (c: XmlElement | undefined) => c?.children.find((x) => x.name === 'system-out')?.text ?? '';

  it('fails the rollback case when pre-deploy writes are missing, naming them', () => {
    const rollout = suites(parseXml(renderJunit(reportOf(dataLossRun()))))[1];
    const rollback = cases(rollout).find((c) => c.attrs.name === 'rollback');
    expect(rollback?.children.find((c) => c.name === 'failure')?.attrs).toMatchObject({
      type: 'DATA_LOST',
      message: 'eu-west: 3 of 118 pre-deploy writes missing, 0 of 64 acknowledged writes do not read back',
    });
    expect(rollout?.attrs).toMatchObject({ failures: '2' });
  });

  it("shows the mitigation in the rolled-back wave's output and the decision in the rollback case", () => {
    const rollout = suites(parseXml(renderJunit(reportOf(restoreRun()))))[1];
    const east = systemOut(cases(rollout).find((c) => c.attrs.name === 'rollout us-east'));
    expect(east).toContain(
      'rolled back to v1\ndatabase backup: 118 rows in 3 ms\nintegrity: damaged (4 row(s) garbled (checksum mismatch, e.g. id 17, 23, 41, 58))\nrestored: yes, 118 rows in 2 ms\n',
    );
    expect(east).toContain(
      'pre-deploy writes: 118 checked, 0 missing; acknowledged before the deploy: 64 read back, 0 missing\ncandidate writes: 12 acknowledged, 10 undone by the restore, 2 lost by the candidate\nfinal version: v1',
    );
    expect(systemOut(cases(rollout).find((c) => c.attrs.name === 'rollout us-west'))).toContain(
      'integrity: intact\nrestored: no',
    );
    const rollback = cases(rollout).find((c) => c.attrs.name === 'rollback');
    expect(outcome(rollback)).toBe('pass');
    expect(systemOut(rollback)).toContain(
      'decision (all) after us-east: roll back every touched region (us-west, us-east) and stop',
    );
  });

  it('says which regions a region-only rollback kept on the candidate', () => {
    const rollout = suites(parseXml(renderJunit(reportOf(regionRollbackRun()))))[1];
    expect(cases(rollout).map((c) => [c.attrs.name, outcome(c)])).toEqual([
      ['rollout us-west', 'pass'],
      ['rollout us-east', 'pass'],
      ['rollout eu-west', 'failure'],
      ['rollout ap-south', 'skipped'],
      ['rollback', 'pass'],
    ]);
    expect(systemOut(cases(rollout)[0])).toContain('kept on v4 (rollback: region)\nfinal version: v4');
    expect(systemOut(cases(rollout)[4])).toContain('kept on the candidate: us-west, us-east');
  });

  it('escapes hostile names, versions and messages and reads them back unchanged', () => {
    const report = reportOf(hostileRun());
    const xml = renderJunit(report);
    expect(xml).not.toContain('<script>');
    const root = parseXml(xml);
    const names = cases(suites(root)[0]).map((c) => c.attrs.name);
    expect(names).toEqual(report.scenarios.map((s) => s.name));
    expect(suites(root)[1]?.attrs.name).toBe(`rollout of ${report.version}`);
  });
});

describe('junit.xml: chaos on the candidate', () => {
  const systemOut = (c: XmlElement | undefined) => c?.children.find((x) => x.name === 'system-out')?.text ?? '';
  const child = (c: XmlElement | undefined, name: string) => c?.children.find((x) => x.name === name);

  it('has a suite with a case per run: a regression fails, a run that could not run is an error', () => {
    const root = parseXml(renderJunit(reportOf(differentialRun())));
    const all = suites(root);
    expect(all.map((s) => s.attrs.name)).toEqual(['chaos experiments', 'rollout of v8', 'differential chaos on v8']);
    const suite = all[2];
    expect(suite?.attrs).toMatchObject({
      tests: '3',
      failures: '1',
      errors: '1',
      skipped: '0',
      time: '47.500',
      timestamp: '2026-11-22T01:05:16.000Z',
    });
    expect(cases(suite).map((c) => [c.attrs.name, c.attrs.classname, outcome(c)])).toEqual([
      ['service-kill in us-east stage 2', 'chaos-gate.differential', 'pass'],
      ['db-outage in us-east stage 2', 'chaos-gate.differential', 'failure'],
      ['network-latency in us-east stage 2', 'chaos-gate.differential', 'error'],
    ]);
    const [, regression, couldNotRun] = differentialMix();
    expect(child(cases(suite)[1], 'failure')?.attrs).toEqual({ type: 'REGRESSION', message: regression?.headline });
    expect(child(cases(suite)[1], 'failure')?.text).toBe(regression?.reasons.join('\n'));
    expect(child(cases(suite)[2], 'error')?.attrs).toEqual({ type: 'COULD_NOT_RUN', message: couldNotRun?.headline });
    // 4 waves + the rollback + 3 runs; the us-east wave and the regression fail.
    expect(root.attrs).toMatchObject({ tests: '8', failures: '2', errors: '1', skipped: '2' });
  });

  it("puts both sides' figures and the notes in the case output", () => {
    const suite = suites(parseXml(renderJunit(reportOf(differentialRun()))))[2];
    expect(systemOut(cases(suite)[1]).split('\n')).toEqual([
      'fault: the database unavailable for 5 s via docker-stop',
      'candidate: error rate 18.3% (n=240), p99 5012 ms, served again after never, acknowledged writes lost 1 of 22, ' +
        'effect 44 of 240 requests failed',
      'baseline: error rate 0.4% (n=236), p99 38 ms, served again after 0.5 s, acknowledged writes lost 0 of 21, ' +
        'effect 1 of 236 requests failed',
    ]);
    expect(systemOut(cases(suite)[2])).toMatch(/effect none\nnote: tc netem is not supported by this kernel/);
  });

  it('has no differential suite without a run', () => {
    const names = suites(parseXml(renderJunit(reportOf(passingRun())))).map((s) => s.attrs.name);
    expect(names).toEqual(['chaos experiments', 'rollout of v2']);
  });

  it('keeps the file valid with hostile text and reads it back unchanged', () => {
    const report = reportOf(hostileDifferentialRun());
    const xml = renderJunit(report);
    expect(xml).not.toContain('<script>');
    const run = report.rollout?.differential[0];
    const c = cases(suites(parseXml(xml))[2])[0];
    expect(c?.attrs.name).toBe(`${run?.experiment} in ${run?.region} stage 2`);
    expect(child(c, 'failure')?.attrs.message).toBe(run?.headline);
    expect(systemOut(c)).toContain(`note: note ${HOSTILE}`);
  });
});

describe('xml escaping', () => {
  it('escapes markup and replaces characters XML cannot hold', () => {
    expect(xmlText('a < b && c > "d"')).toBe('a &lt; b &amp;&amp; c &gt; "d"');
    expect(xmlAttr(`"x" 'y'\nz\t`)).toBe('&quot;x&quot; &apos;y&apos;&#10;z&#9;');
    expect(xmlText('esc \u001b[31m bell \u0007 nul \u0000 lone \ud800 ok \u{1F600}')).toBe(
      'esc \uFFFD[31m bell \uFFFD nul \uFFFD lone \uFFFD ok \u{1F600}',
    );
  });
});
