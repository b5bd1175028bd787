import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { toJsonText } from '../../src/util/json-text.ts';
import { dataLossRun, failingRun, regionRollbackRun, reportOf, restoreRun } from '../fixtures/report/runs.ts';

// Granular rollback and rollback with mitigation in report.json: a region-only rollback writes
// a SCOPE_ROLLBACK transition, the decision and each region's outcome; a restore writes the
// mitigation record. The schema must accept them, accept reports written before they existed,
// and still reject a malformed entry.

const schema = JSON.parse(readFileSync(new URL('../../schemas/report.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const jsonOf = (report: unknown): Json => JSON.parse(toJsonText(report));
const errorsOf = (value: unknown) =>
  validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

describe('report.json with a granular rollback and mitigation', () => {
  it('accepts a region-only rollback: SCOPE_ROLLBACK, the decision, the outcome of each region', () => {
    const r = jsonOf(reportOf(regionRollbackRun()));
    expect(errorsOf(r)).toEqual([]);
    expect(r.rollout.timeline.map((e: Json) => e.event)).toContain('SCOPE_ROLLBACK');
    expect(r.rollout.rollback).toMatchObject({ scope: 'region', regions: ['eu-west'], kept: ['us-west', 'us-east'] });
    expect(r.rollout.rollback.decisions).toHaveLength(1);
    expect(r.rollout.rollback.decisions[0]).toMatchObject({
      failed_region: 'eu-west',
      ok: true,
      regions: ['eu-west'],
      decision: {
        scope: 'region',
        roll_back: ['eu-west'],
        keep: ['us-west', 'us-east'],
        then: 'stop',
        points_at_region: true,
      },
    });
    expect(r.rollout.regions.map((w: Json) => [w.region, w.outcome, w.rolled_back])).toEqual([
      ['us-west', 'promoted', false],
      ['us-east', 'promoted', false],
      ['eu-west', 'rolled_back', true],
      ['ap-south', 'untouched', false],
    ]);
    expect(r.rollout.mitigation.map((m: Json) => [m.region, m.restored, m.integrity.ok])).toEqual([
      ['eu-west', false, true],
    ]);
  });

  it('accepts a restore with mitigation, the undone rows listed per version', () => {
    const r = jsonOf(reportOf(restoreRun()));
    expect(errorsOf(r)).toEqual([]);
    const east = r.rollout.mitigation.find((m: Json) => m.region === 'us-east');
    expect(east).toMatchObject({
      restored: true,
      pre_deploy_writes_checked: 118,
      pre_deploy_writes_missing: 0,
      candidate_writes_undone: 10,
      candidate_writes_lost_by_candidate: 2,
      restore: { rows_restored: 118, undone: [{ version: 'v5', rows: 12 }] },
      integrity: { ok: false, checksum_mismatches: 4 },
    });
    expect(east.backup.at).toMatch(/^2026-11-22T01:05:01\.200Z$/);
    expect(r.rollout.mitigation.map((m: Json) => m.region)).toEqual(['us-west', 'us-east']);
  });

  it('accepts a rollback that lost pre-deploy writes (FAILED)', () => {
    const r = jsonOf(reportOf(dataLossRun()));
    expect(errorsOf(r)).toEqual([]);
    expect(r.rollout.final_state).toBe('FAILED');
    expect(r.rollout.mitigation[0]).toMatchObject({
      region: 'eu-west',
      pre_deploy_writes_missing: 3,
      problems: ['3 write(s) acknowledged before the deploy do not read back'],
    });
  });

  it('accepts a report written before granular rollback and mitigation existed', () => {
    const r = jsonOf(reportOf(failingRun()));
    delete r.rollout.mitigation;
    for (const k of ['scope', 'regions', 'kept', 'decisions']) delete r.rollout.rollback[k];
    for (const w of r.rollout.regions) delete w.outcome;
    expect(errorsOf(r)).toEqual([]);
  });

  const broken: [string, (r: Json) => void, RegExp][] = [
    [
      'a mitigation entry without candidate_writes_undone',
      (r) => delete r.rollout.mitigation[1].candidate_writes_undone,
      /\/rollout\/mitigation\/1 must have required property 'candidate_writes_undone'/,
    ],
    [
      'a negative count of missing pre-deploy writes',
      (r) => (r.rollout.mitigation[1].pre_deploy_writes_missing = -1),
      /\/rollout\/mitigation\/1\/pre_deploy_writes_missing must be >= 0/,
    ],
    [
      'restored as text',
      (r) => (r.rollout.mitigation[1].restored = 'yes'),
      /\/rollout\/mitigation\/1\/restored must be boolean/,
    ],
    [
      'an unknown key in a mitigation entry',
      (r) => (r.rollout.mitigation[1].restoredAt = 1),
      /\/rollout\/mitigation\/1 must NOT have additional properties/,
    ],
    [
      'undone rows as an object keyed by version',
      (r) => (r.rollout.mitigation[1].restore.undone = { v5: 12 }),
      /\/rollout\/mitigation\/1\/restore\/undone must be array/,
    ],
    [
      'a backup without its name',
      (r) => delete r.rollout.mitigation[1].backup.name,
      /\/rollout\/mitigation\/1\/backup must have required property 'name'/,
    ],
    [
      'a rollback scope that does not exist',
      (r) => (r.rollout.rollback.scope = 'some'),
      /\/rollout\/rollback\/scope must be equal to one of the allowed values/,
    ],
    [
      'a region outcome that does not exist',
      (r) => (r.rollout.regions[0].outcome = 'kept'),
      /\/rollout\/regions\/0\/outcome must be equal to one of the allowed values/,
    ],
    [
      'a decision without its evidence',
      (r) => delete r.rollout.rollback.decisions[0].decision.evidence,
      /\/rollout\/rollback\/decisions\/0\/decision must have required property 'evidence'/,
    ],
    [
      'a timeline event that does not exist',
      (r) => (r.rollout.timeline[0].event = 'SCOPE'),
      /\/rollout\/timeline\/0\/event must be equal to one of the allowed values/,
    ],
  ];

  it.each(broken)('rejects %s', (_what, breakIt, message) => {
    const r = jsonOf(reportOf(restoreRun()));
    expect(errorsOf(r)).toEqual([]);
    breakIt(r);
    expect(errorsOf(r).join('\n')).toMatch(message);
  });
});
