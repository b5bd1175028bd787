import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/cli/args.ts';
import { integrityProblems, mitigateRegion, writesToCheck, type BackupRecord } from '../../src/rollout/mitigation.ts';
import { composeEnv } from '../../src/stack/compose-args.ts';
import {
  backupName,
  httpDataAdmin,
  type DataAdmin,
  type IntegrityReport,
  type Send,
} from '../../src/stack/data-admin.ts';
import { InfraError } from '../../src/stack/errors.ts';
import { defaultStackTarget } from '../../src/stack/target.ts';
import type { AcknowledgedWrite } from '../../src/traffic/store.ts';

const target = defaultStackTarget('/x');
const usWest = target.regions[0]!;
const clean: IntegrityReport = {
  ok: true,
  sqlite: ['ok'],
  rows: 100,
  written: 100,
  missingRows: 0,
  checksumMismatches: 0,
  mismatchedIds: [],
  unchecked: 0,
  maxId: 100,
};
const backup: BackupRecord = { name: 'b', at: 1000, rows: 100, bytes: 8192, durationMs: 4, integrity: clean };

function write(
  id: number,
  at: number,
  cohort: 'canary' | 'baseline',
  version = cohort === 'canary' ? 'v2' : 'v1',
  region = 'us-west',
): AcknowledgedWrite {
  return { id, at, cohort, version, region, item: `cg-${id}` };
}

describe('integrityProblems: only what the candidate made worse counts', () => {
  it("a clean check is no problem, and damage already in the backup is not the candidate's", () => {
    expect(integrityProblems(clean, clean)).toEqual([]);
    const old = { ...clean, checksumMismatches: 2, mismatchedIds: [3, 4] };
    expect(integrityProblems(old, old)).toEqual([]);
  });

  it("names garbled rows, missing rows, SQLite's own findings and changed pre-deploy rows", () => {
    const after = {
      ...clean,
      sqlite: ['row 7 missing from index'],
      checksumMismatches: 3,
      mismatchedIds: [5, 9, 11],
      missingRows: 2,
      rows: 98,
      backupRowsChecked: 100,
      backupRowsMissing: 5,
    };
    expect(integrityProblems(clean, after)).toEqual([
      'SQLite integrity_check: row 7 missing from index',
      '3 row(s) garbled (checksum mismatch, e.g. id 5, 9, 11)',
      '2 row(s) missing (the ledger counts 100 written, 98 present)',
      '5 of 100 pre-deploy row(s) absent or changed since the backup',
    ]);
  });
});

describe('writesToCheck', () => {
  it("splits a region's acknowledged writes at the backup: before it, and the candidate's after it", () => {
    const writes = [
      write(1, 500, 'baseline'),
      write(2, 1500, 'baseline'),
      write(3, 1500, 'canary'),
      write(4, 400, 'baseline', 'v1', 'us-east'),
      write(5, 1600, 'canary', 'v3'),
    ];
    const r = writesToCheck(writes, 'us-west', 1000, 'v2');
    expect(r.preDeploy.map((w) => w.id)).toEqual([1]);
    expect(r.candidate.map((w) => w.id)).toEqual([3]);
  });
});

/** A DataAdmin over an in-memory table: restore puts the rows back as they were at backup time. */
function fakeAdmin(options: { damaged: boolean; restoreFixes?: boolean }) {
  const calls: string[] = [];
  const rows = new Map<number, string>([
    [1, 'cg-1'],
    [2, 'cg-2'],
  ]);
  if (options.damaged) rows.set(1, 'garbled');
  rows.set(3, 'cg-3'); // a candidate write
  const admin: DataAdmin = {
    backup: async () => {
      throw new Error('not used');
    },
    integrity: async (_r, name) => {
      calls.push(`integrity ${name ?? ''}`);
      return options.damaged
        ? {
            ...clean,
            ok: false,
            checksumMismatches: 1,
            mismatchedIds: [1],
            backupRowsChecked: 100,
            backupRowsMissing: 1,
          }
        : { ...clean, backupRowsChecked: 100, backupRowsMissing: 0 };
    },
    restore: async (_r, name, keep) => {
      calls.push(`restore ${name} keep ${keep}`);
      if (options.restoreFixes !== false) {
        rows.set(1, 'cg-1');
        rows.delete(3);
      }
      const fixed = options.restoreFixes !== false;
      return {
        name,
        durationMs: 12.4,
        rowsRestored: 100,
        keptAfterBackup: 1,
        undone: { v2: 1 },
        undoneIds: [3],
        backupRowsChecked: 100,
        backupRowsMissing: fixed ? 0 : 1,
        integrity: fixed ? clean : { ...clean, checksumMismatches: 1, mismatchedIds: [1] },
      };
    },
    readItem: async (_r, id) => {
      calls.push(`read ${id}`);
      return rows.get(id) ?? null;
    },
  };
  return { admin, calls };
}

describe('mitigateRegion', () => {
  const writes = [write(1, 500, 'baseline'), write(2, 900, 'baseline'), write(3, 1500, 'canary')];
  const input = (admin: DataAdmin) => ({
    admin,
    region: usWest,
    backup,
    stableVersion: 'v1',
    candidateVersion: 'v2',
    writes,
  });

  it('a clean database is checked against the backup and left alone: nothing restored, nothing undone', async () => {
    const { admin, calls } = fakeAdmin({ damaged: false });
    const m = await mitigateRegion(input(admin));
    expect(m).toMatchObject({
      restored: false,
      restore: null,
      integrity: { ok: true },
      preDeployWritesChecked: 100,
      preDeployWritesMissing: 0,
      acknowledgedReadBack: { checked: 2, missing: 0 },
      candidateWritesAcknowledged: 1,
      candidateWritesUndone: 0,
      problems: [],
    });
    expect(calls).not.toContain('restore b keep v1');
  });

  it(
    "damage: restores the backup keeping the stable version's rows, " +
      "reads the pre-deploy writes back and counts the candidate's undone",
    async () => {
      const { admin, calls } = fakeAdmin({ damaged: true });
      const m = await mitigateRegion(input(admin));
      expect(calls.filter((c) => !c.startsWith('read'))).toEqual(['integrity b', 'restore b keep v1']);
      expect(m).toMatchObject({
        restored: true,
        integrity: { ok: false, checksumMismatches: 1 },
        restore: { durationMs: 12, keptAfterBackup: 1, undone: { v2: 1 } },
        preDeployWritesChecked: 100,
        preDeployWritesMissing: 0,
        acknowledgedReadBack: { checked: 2, missing: 0 },
        candidateWritesAcknowledged: 1,
        candidateWritesLostByCandidate: 0,
        candidateWritesUndone: 1,
        problems: [],
      });
      expect(m.backup).toEqual({ name: 'b', at: 1000, rows: 100, bytes: 8192, durationMs: 4 });
    },
  );

  it('a candidate write it already lost itself is told apart from one the restore undid', async () => {
    const { admin } = fakeAdmin({ damaged: true });
    // Write 4 was acknowledged by the candidate, which then dropped it: gone before any restore.
    const m = await mitigateRegion({ ...input(admin), writes: [...writes, write(4, 1600, 'canary')] });
    expect(m).toMatchObject({
      candidateWritesAcknowledged: 2,
      candidateWritesLostByCandidate: 1,
      candidateWritesUndone: 1,
    });
  });

  it('a restore that does not repair the data is a problem, which fails the rollback', async () => {
    const { admin } = fakeAdmin({ damaged: true, restoreFixes: false });
    const m = await mitigateRegion(input(admin));
    expect(m.problems.join('\n')).toMatch(/still damaged after the restore: 1 row\(s\) garbled/);
    expect(m.problems.join('\n')).toMatch(/2 write\(s\) acknowledged before the deploy do not read back/);
  });

  it('without a backup there is nothing to check against: recorded as such, no problem', async () => {
    const { admin, calls } = fakeAdmin({ damaged: true });
    expect(await mitigateRegion({ ...input(admin), backup: undefined })).toMatchObject({
      backup: null,
      integrity: null,
      restored: false,
      problems: [],
    });
    expect(calls).toEqual([]);
  });

  it('an admin endpoint that fails is a problem, never a silent pass', async () => {
    const { admin } = fakeAdmin({ damaged: false });
    const m = await mitigateRegion(
      input({
        ...admin,
        integrity: async () => {
          throw new InfraError('us-west: /admin/integrity answered HTTP 500');
        },
      }),
    );
    expect(m.problems).toEqual(['data check failed: us-west: /admin/integrity answered HTTP 500']);
  });
});

describe('httpDataAdmin', () => {
  function spy(answers: { status: number; body: unknown }[]) {
    const calls: { method: string; url: string; headers: Record<string, string>; body: string | undefined }[] = [];
    const send: Send = async (method, url, headers, body) => {
      calls.push({ method, url, headers, body });
      return answers.shift() ?? { status: 500, body: 'no more answers' };
    };
    return { calls, admin: httpDataAdmin(target, 'tok', send) };
  }

  it('posts to the stable container with the token and the backup name', async () => {
    const { calls, admin } = spy([
      { status: 201, body: { name: 'b', rows: 3 } },
      { status: 200, body: { ok: true } },
      { status: 200, body: { name: 'b' } },
    ]);
    await admin.backup(usWest, 'b');
    await admin.integrity(usWest, 'b');
    await admin.restore(usWest, 'b', 'v1');
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['POST', 'http://127.0.0.1:8081/admin/backup', '{"name":"b"}'],
      ['POST', 'http://127.0.0.1:8081/admin/integrity', '{"name":"b"}'],
      ['POST', 'http://127.0.0.1:8081/admin/restore', '{"name":"b","keep_version":"v1"}'],
    ]);
    expect(calls[0]!.headers.authorization).toBe('Bearer tok');
  });

  it('an unexpected status is an InfraError naming the region, path and answer', async () => {
    const { admin } = spy([{ status: 401, body: { error: 'unauthorized' } }]);
    await expect(admin.backup(usWest, 'b')).rejects.toThrow(
      new InfraError('us-west: /admin/backup answered HTTP 401: {"error":"unauthorized"}'),
    );
  });

  it('reads an order back: 404 is gone, a failed answer is retried before it is an error', async () => {
    const { admin } = spy([
      { status: 404, body: {} },
      { status: 503, body: {} },
      { status: 200, body: { item: 'cg-9' } },
      { status: 503, body: {} },
      { status: 503, body: {} },
      { status: 503, body: {} },
    ]);
    expect(await admin.readItem(usWest, 1)).toBeNull();
    expect(await admin.readItem(usWest, 9)).toBe('cg-9');
    await expect(admin.readItem(usWest, 2)).rejects.toThrow(/reading order 2 back answered HTTP 503/);
  });

  it('backup names keep only the characters the service accepts', () => {
    expect(backupName('us-west', 'v2+build/7', 1234)).toBe('us-west-before-v2_build_7-1234');
  });
});

describe('DATA_FAULT on the candidate', () => {
  it('goes to the canary slot only, and is empty (none) for the others', () => {
    const env = composeEnv(
      target,
      new Map([
        [
          'us-east',
          {
            stable: { version: 'v1', failureRate: 0 },
            canary: { version: 'v2', failureRate: 0, dataFault: 'corrupt' },
          },
        ],
      ]),
    );
    expect(env.CG_US_EAST_CANARY_DATA_FAULT).toBe('corrupt');
    expect(env.CG_US_EAST_DATA_FAULT).toBe('');
    expect(env.CG_US_WEST_CANARY_DATA_FAULT).toBe('');
  });

  it('deploy --data-fault takes corrupt or drop, and refuses anything else with exit 2 naming the flag', () => {
    expect(parseCommand(['deploy', 'v2', '--data-fault', 'drop'])).toMatchObject({ name: 'deploy', dataFault: 'drop' });
    expect(() => parseCommand(['deploy', 'v2', '--data-fault', 'wipe'])).toThrow(/"wipe" must be one of corrupt, drop/);
  });
});
