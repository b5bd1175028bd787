import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';

// The region's data safety net, driven by the gate through the token-protected /admin
// endpoints: an online backup before a candidate reaches the region, an integrity check on
// rollback (SQLite's own plus a per-row checksum and a ledger of rows ever written, so a
// garbled row and a dropped row both show), and a restore that puts the backup back while
// keeping the stable version's intact rows written since.

/** A deliberate data bug for tests: garble or delete an earlier row on every write. */
export type DataFault = 'corrupt' | 'drop';
export const DATA_FAULTS: readonly DataFault[] = ['corrupt', 'drop'];

/** Backup names are ours, never paths: nothing outside DATA_DIR/backups can be read or written. */
export const BACKUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

interface RowFields {
  item: string;
  quantity: number;
  /** The stored JSON text. */
  data: string;
  createdAt: string;
  version: string;
}

export function rowChecksum(r: RowFields): string {
  return createHash('sha256')
    .update(JSON.stringify([r.item, r.quantity, r.data, r.createdAt, r.version]))
    .digest('hex')
    .slice(0, 32);
}

interface Row {
  id: number;
  item: string;
  quantity: number;
  data: string;
  created_at: string;
  version: string | null;
  checksum: string | null;
}

function intact(r: Row): boolean | null {
  if (r.checksum === null || r.version === null) return null;
  return (
    rowChecksum({ item: r.item, quantity: r.quantity, data: r.data, createdAt: r.created_at, version: r.version }) ===
    r.checksum
  );
}

export interface IntegrityReport {
  ok: boolean;
  /** PRAGMA integrity_check's lines: ["ok"] when SQLite finds nothing. */
  sqlite: string[];
  rows: number;
  /** Rows ever written (the ledger); rows - this < 0 means rows went missing. */
  written: number;
  missingRows: number;
  checksumMismatches: number;
  /** First ids whose checksum does not match. */
  mismatchedIds: number[];
  /** Rows from before checksums existed. */
  unchecked: number;
  maxId: number;
  /** With a backup named: its rows compared with the live table (absent or changed = missing). */
  backupRowsChecked?: number;
  backupRowsMissing?: number;
}

export function integrity(db: DatabaseSync): IntegrityReport {
  const sqlite = (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map(
    (r) => r.integrity_check,
  );
  const rows = db
    .prepare('SELECT id, item, quantity, data, created_at, version, checksum FROM orders ORDER BY id')
    .all() as unknown as Row[];
  const written = Number(
    (db.prepare("SELECT n FROM ledger WHERE k = 'rows'").get() as { n: number } | undefined)?.n ?? rows.length,
  );
  const mismatched: number[] = [];
  let unchecked = 0;
  for (const r of rows) {
    const ok = intact(r);
    if (ok === null) unchecked++;
    else if (!ok) mismatched.push(r.id);
  }
  const missingRows = Math.max(0, written - rows.length);
  const sqliteOk = sqlite.length === 1 && sqlite[0] === 'ok';
  return {
    ok: sqliteOk && mismatched.length === 0 && missingRows === 0,
    sqlite: sqlite.slice(0, 20),
    rows: rows.length,
    written,
    missingRows,
    checksumMismatches: mismatched.length,
    mismatchedIds: mismatched.slice(0, 20),
    unchecked,
    maxId: rows.at(-1)?.id ?? 0,
  };
}

const MISSING_FROM_BACKUP = `SELECT count(*) AS n FROM bak.orders b LEFT JOIN main.orders m ON m.id = b.id
  WHERE m.id IS NULL OR m.item IS NOT b.item OR m.quantity IS NOT b.quantity OR m.data IS NOT b.data OR m.created_at IS NOT b.created_at OR m.checksum IS NOT b.checksum`;

function count(db: DatabaseSync, sql: string): number {
  return Number((db.prepare(sql).get() as { n: number }).n);
}

/** Every row of the backup (each one acknowledged before it was taken) looked up in the live table. */
function compareWithBackup(db: DatabaseSync): { backupRowsChecked: number; backupRowsMissing: number } {
  return {
    backupRowsChecked: count(db, 'SELECT count(*) AS n FROM bak.orders'),
    backupRowsMissing: count(db, MISSING_FROM_BACKUP),
  };
}

function withBackup<T>(db: DatabaseSync, dataDir: string, name: string, fn: () => T): T {
  const file = join(backupDir(dataDir), `${name}.db`);
  statSync(file); // a missing backup fails here, before anything changes
  db.prepare('ATTACH DATABASE ? AS bak').run(file);
  try {
    return fn();
  } finally {
    db.exec('DETACH DATABASE bak');
  }
}

/** integrity(), plus the comparison with a backup when one is named. */
export function checkAgainst(db: DatabaseSync, dataDir: string, name: string | undefined): IntegrityReport {
  const report = integrity(db);
  if (name === undefined) return report;
  const compared = withBackup(db, dataDir, name, () => compareWithBackup(db));
  return { ...report, ...compared, ok: report.ok && compared.backupRowsMissing === 0 };
}

export interface BackupReport {
  name: string;
  bytes: number;
  rows: number;
  maxId: number;
  durationMs: number;
  /** The database as it was backed up, so a rollback compares against it, not against perfection. */
  integrity: IntegrityReport;
}

export function backupDir(dataDir: string): string {
  return join(dataDir, 'backups');
}

/** SQLite's online backup (node:sqlite backup()): consistent while the service keeps writing. */
export async function takeBackup(db: DatabaseSync, dataDir: string, name: string): Promise<BackupReport> {
  const dir = backupDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.db`);
  const started = performance.now();
  await backup(db, file);
  const durationMs = performance.now() - started;
  const copy = new DatabaseSync(file, { readOnly: true });
  try {
    const report = integrity(copy);
    return { name, bytes: statSync(file).size, rows: report.rows, maxId: report.maxId, durationMs, integrity: report };
  } finally {
    copy.close();
  }
}

export interface RestoreReport {
  name: string;
  durationMs: number;
  /** Rows put back from the backup. */
  rowsRestored: number;
  /** Rows written after the backup by keepVersion, intact: kept. */
  keptAfterBackup: number;
  /** Rows written after the backup that the restore undid, by the version that wrote them. */
  undone: Record<string, number>;
  undoneIds: number[];
  /** Every backup row compared with the live table after the restore. */
  backupRowsChecked: number;
  backupRowsMissing: number;
  integrity: IntegrityReport;
}

/**
 * Puts the backup's rows back in one transaction on the live connection (readers never see
 * a half-restored table), then re-inserts the rows written since the backup by keepVersion
 * that are intact: the stable version kept serving during the canary, and its writes were
 * acknowledged. Everything else written since is undone and counted by writer. Ids are kept
 * as they were; AUTOINCREMENT never hands out an undone id again.
 */
export function restoreBackup(db: DatabaseSync, dataDir: string, name: string, keepVersion: string): RestoreReport {
  const started = performance.now();
  const result = withBackup(db, dataDir, name, () => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const backupMax = count(db, 'SELECT coalesce(max(id), 0) AS n FROM bak.orders');
      const since = db
        .prepare(
          'SELECT id, item, quantity, data, created_at, version, checksum FROM main.orders WHERE id > ? ORDER BY id',
        )
        .all(backupMax) as unknown as Row[];
      const keep = since.filter((r) => r.version === keepVersion && intact(r) === true);
      const undoneRows = since.filter((r) => !keep.includes(r));
      db.exec('DELETE FROM main.orders');
      db.exec(
        'INSERT INTO main.orders (id, item, quantity, data, created_at, version, checksum) SELECT id, item, quantity, data, created_at, version, checksum FROM bak.orders',
      );
      const put = db.prepare(
        'INSERT INTO main.orders (id, item, quantity, data, created_at, version, checksum) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of keep) put.run(r.id, r.item, r.quantity, r.data, r.created_at, r.version, r.checksum);
      const backedUp = Number(
        (db.prepare("SELECT n FROM bak.ledger WHERE k = 'rows'").get() as { n: number } | undefined)?.n ?? 0,
      );
      db.prepare("UPDATE main.ledger SET n = ? WHERE k = 'rows'").run(backedUp + keep.length);
      const compared = compareWithBackup(db);
      db.exec('COMMIT');
      const undone: Record<string, number> = {};
      for (const r of undoneRows) undone[r.version ?? 'unknown'] = (undone[r.version ?? 'unknown'] ?? 0) + 1;
      return {
        rowsRestored: compared.backupRowsChecked,
        keptAfterBackup: keep.length,
        undone,
        undoneIds: undoneRows.slice(0, 50).map((r) => r.id),
        ...compared,
      };
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  });
  return { name, durationMs: performance.now() - started, ...result, integrity: integrity(db) };
}
