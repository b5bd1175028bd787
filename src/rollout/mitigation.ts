import type { BackupReport, DataAdmin, IntegrityReport, RestoreReport } from '../stack/data-admin.ts';
import type { RegionTarget } from '../stack/target.ts';
import type { AcknowledgedWrite } from '../traffic/store.ts';

// Rollback with mitigation. Before the candidate reaches a region its database is backed
// up; when the region is rolled back, the database is checked (SQLite's integrity_check,
// per-row checksums, the ledger of rows ever written, every backed-up row looked up) and,
// when the candidate left it worse than the backup found it, the backup is restored. Then
// the writes acknowledged before the backup are read back, and the candidate's acknowledged
// writes are read back before and after the restore: those it undid are counted, apart from
// those the candidate had already lost itself. Nothing is silently lost.

export interface BackupRecord {
  name: string;
  /** When the backup was taken (ms since the epoch); writes acknowledged before it are "pre-deploy". */
  at: number;
  rows: number;
  bytes: number;
  durationMs: number;
  /** The database's own state at backup time: problems already there are not the candidate's. */
  integrity: IntegrityReport;
}

export interface MitigationRecord {
  region: string;
  backup: Omit<BackupRecord, 'integrity'> | null;
  integrity: {
    ok: boolean;
    problems: string[];
    sqlite: string[];
    rows: number;
    missingRows: number;
    checksumMismatches: number;
    backupRowsMissing: number | null;
  } | null;
  restored: boolean;
  restore: Omit<RestoreReport, 'integrity' | 'undoneIds' | 'name'> | null;
  /** Rows of the backup (each acknowledged before the candidate arrived) compared with the database at the end. */
  preDeployWritesChecked: number;
  preDeployWritesMissing: number;
  /** The gate's own acknowledged writes from before the backup, read back over HTTP. */
  acknowledgedReadBack: { checked: number; missing: number };
  candidateWritesAcknowledged: number;
  /** The candidate's acknowledged writes already gone or garbled before any restore: its own doing. */
  candidateWritesLostByCandidate: number;
  /** The candidate's acknowledged writes that read back before the restore and not after: the restore undid them. */
  candidateWritesUndone: number;
  /** Why this region's data could not be shown safe; non-empty fails the rollback. */
  problems: string[];
}

/** What the candidate did to the database: only what is worse than at backup time counts. */
export function integrityProblems(before: IntegrityReport, after: IntegrityReport): string[] {
  const problems: string[] = [];
  const sqliteOk = (r: IntegrityReport) => r.sqlite.length === 1 && r.sqlite[0] === 'ok';
  if (!sqliteOk(after) && sqliteOk(before)) problems.push(`SQLite integrity_check: ${after.sqlite.join('; ')}`);
  if (after.checksumMismatches > before.checksumMismatches)
    problems.push(
      `${after.checksumMismatches - before.checksumMismatches} row(s) garbled ` +
        `(checksum mismatch, e.g. id ${after.mismatchedIds.slice(0, 5).join(', ')})`,
    );
  if (after.missingRows > before.missingRows)
    problems.push(
      `${after.missingRows - before.missingRows} row(s) missing ` +
        `(the ledger counts ${after.written} written, ${after.rows} present)`,
    );
  if ((after.backupRowsMissing ?? 0) > 0)
    problems.push(
      `${after.backupRowsMissing ?? 0} of ${after.backupRowsChecked ?? 0} pre-deploy row(s) ` +
        'absent or changed since the backup',
    );
  return problems;
}

/** The writes to read back in a region: acknowledged before the backup, and the candidate's after it. */
export function writesToCheck(
  writes: readonly AcknowledgedWrite[],
  region: string,
  backupAt: number,
  candidateVersion: string,
): { preDeploy: AcknowledgedWrite[]; candidate: AcknowledgedWrite[] } {
  const own = writes.filter((w) => w.region === region);
  return {
    preDeploy: own.filter((w) => w.at < backupAt),
    candidate: own.filter((w) => w.at >= backupAt && w.cohort === 'canary' && w.version === candidateVersion),
  };
}

/** Ids of the writes that do not read back as written (gone, or another item). The demo's ids are numbers. */
async function missingWrites(
  admin: DataAdmin,
  region: RegionTarget,
  writes: readonly AcknowledgedWrite[],
): Promise<Set<AcknowledgedWrite['id']>> {
  const missing = new Set<AcknowledgedWrite['id']>();
  const queue = [...writes];
  // A few reads at a time: the region is serving, and this is on the rollback's clock.
  await Promise.all(
    Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let w = queue.shift(); w; w = queue.shift()) {
        if (typeof w.id !== 'number' || (await admin.readItem(region, w.id)) !== w.item) missing.add(w.id);
      }
    }),
  );
  return missing;
}

export async function takeRegionBackup(
  admin: DataAdmin,
  region: RegionTarget,
  name: string,
  now: () => number,
): Promise<BackupRecord> {
  const at = now();
  const b: BackupReport = await admin.backup(region, name);
  return {
    name: b.name,
    at,
    rows: b.rows,
    bytes: b.bytes,
    durationMs: Math.round(b.durationMs),
    integrity: b.integrity,
  };
}

export interface MitigateInput {
  admin: DataAdmin;
  region: RegionTarget;
  backup: BackupRecord | undefined;
  /** The version the region is back on: its intact rows written since the backup are kept. */
  stableVersion: string;
  candidateVersion: string;
  writes: readonly AcknowledgedWrite[];
}

/** After the region is back on its previous version: check, restore if needed, read back. */
export async function mitigateRegion(input: MitigateInput): Promise<MitigationRecord> {
  const { admin, region, backup } = input;
  const none = {
    region: region.name,
    integrity: null,
    restored: false,
    restore: null,
    preDeployWritesChecked: 0,
    preDeployWritesMissing: 0,
    acknowledgedReadBack: { checked: 0, missing: 0 },
    candidateWritesAcknowledged: 0,
    candidateWritesLostByCandidate: 0,
    candidateWritesUndone: 0,
  };
  if (!backup) return { ...none, backup: null, problems: [] };
  const { integrity: before, ...backupRecord } = backup;
  const record: MitigationRecord = { ...none, backup: backupRecord, problems: [] };
  try {
    const after = await admin.integrity(region, backup.name);
    const problems = integrityProblems(before, after);
    record.integrity = {
      ok: problems.length === 0,
      problems,
      sqlite: after.sqlite,
      rows: after.rows,
      missingRows: after.missingRows,
      checksumMismatches: after.checksumMismatches,
      backupRowsMissing: after.backupRowsMissing ?? null,
    };
    record.preDeployWritesChecked = after.backupRowsChecked ?? 0;
    record.preDeployWritesMissing = after.backupRowsMissing ?? 0;
    const { preDeploy, candidate } = writesToCheck(input.writes, region.name, backup.at, input.candidateVersion);
    record.candidateWritesAcknowledged = candidate.length;
    const lostBefore = await missingWrites(admin, region, candidate);
    record.candidateWritesLostByCandidate = lostBefore.size;
    if (problems.length > 0) {
      const {
        integrity: restoredIntegrity,
        undoneIds: _ids,
        name: _name,
        ...restore
      } = await admin.restore(region, backup.name, input.stableVersion);
      record.restored = true;
      record.restore = { ...restore, durationMs: Math.round(restore.durationMs) };
      record.preDeployWritesChecked = restore.backupRowsChecked;
      record.preDeployWritesMissing = restore.backupRowsMissing;
      const still = integrityProblems(before, restoredIntegrity);
      if (still.length > 0) record.problems.push(`still damaged after the restore: ${still.join('; ')}`);
    }
    record.acknowledgedReadBack = {
      checked: preDeploy.length,
      missing: (await missingWrites(admin, region, preDeploy)).size,
    };
    if (record.restored)
      record.candidateWritesUndone = [...(await missingWrites(admin, region, candidate))].filter(
        (id) => !lostBefore.has(id),
      ).length;
    const lost = record.preDeployWritesMissing + record.acknowledgedReadBack.missing;
    if (lost > 0) record.problems.push(`${lost} write(s) acknowledged before the deploy do not read back`);
  } catch (e) {
    record.problems.push(`data check failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  return record;
}
