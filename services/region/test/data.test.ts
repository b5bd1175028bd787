import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { systemClock } from '../src/clock.ts';
import { checkAgainst, integrity, restoreBackup, takeBackup } from '../src/data.ts';
import { Faults } from '../src/faults.ts';
import { createMetrics } from '../src/metrics.ts';
import { SqliteStore } from '../src/store.ts';
import { call, TOKEN } from './helpers.ts';

// Backup, integrity check and restore on a real SQLite file, with the deliberate data bugs.
const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir: string, options: ConstructorParameters<typeof SqliteStore>[1] = {}): SqliteStore {
  const s = new SqliteStore(dir, options);
  stores.push(s);
  return s;
}

function write(store: SqliteStore, version: string, n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) =>
    store.insert({
      item: `o-${from + i}`,
      quantity: 1 + i,
      data: { item: `o-${from + i}` },
      createdAt: '2030-01-01T00:00:00.000Z',
      version,
    }),
  );
}

function region() {
  const dir = mkdtempSync(join(tmpdir(), 'region-data-'));
  dirs.push(dir);
  return dir;
}

describe('DATA_FAULT', () => {
  test('is off by default and takes corrupt or drop; anything else is a start-up error naming the rule', () => {
    const base = { VERSION: 'v2', REGION: 'us-west' };
    const plain = parseConfig(base);
    expect(plain.ok && 'dataFault' in plain.config).toBe(false);
    expect(parseConfig({ ...base, DATA_FAULT: '' })).toMatchObject({ ok: true });
    expect(parseConfig({ ...base, DATA_FAULT: 'drop' })).toMatchObject({ ok: true, config: { dataFault: 'drop' } });
    expect(parseConfig({ ...base, DATA_FAULT: 'Corrupt' })).toEqual({
      ok: false,
      errors: ['DATA_FAULT="Corrupt" must be one of corrupt, drop (or empty: no fault)'],
    });
  });
});

describe('integrity', () => {
  test('a healthy database passes: SQLite ok, every checksum matches, nothing missing', () => {
    const store = open(region());
    write(store, 'v1', 20);
    expect(integrity(store.connection())).toMatchObject({
      ok: true,
      sqlite: ['ok'],
      rows: 20,
      written: 20,
      missingRows: 0,
      checksumMismatches: 0,
      unchecked: 0,
    });
  });

  test.each([
    ['corrupt', { checksumMismatches: 10, missingRows: 0 }],
    ['drop', { missingRows: 10, checksumMismatches: 0 }],
  ] as const)('a candidate with DATA_FAULT=%s sharing the file is caught', (fault, found) => {
    const dir = region();
    const stable = open(dir);
    write(stable, 'v1', 50);
    // Each write damages a distinct earlier row: the rng walks the first ten ids.
    let k = 0;
    const candidate = open(dir, { dataFault: fault, rng: () => (k++ + 0.5) / 50 });
    write(candidate, 'v2', 10, 100);
    const report = integrity(stable.connection());
    expect(report).toMatchObject({ ok: false, sqlite: ['ok'], ...found });
  });
});

describe('backup and restore', () => {
  test("restore puts the backup back, keeps the stable version's intact later rows, undoes and counts the candidate's", async () => {
    const dir = region();
    const stable = open(dir);
    const before = write(stable, 'v1', 40);
    const backup = await takeBackup(stable.connection(), dir, 'before-v2');
    expect(backup).toMatchObject({ name: 'before-v2', rows: 40, maxId: 40, integrity: { ok: true } });
    expect(backup.durationMs).toBeGreaterThanOrEqual(0);

    let k = 0;
    const candidate = open(dir, { dataFault: 'drop', rng: () => (k++ % 40) / 41 });
    const candidateIds = write(candidate, 'v2', 8, 100);
    const stableLater = write(stable, 'v1', 5, 200);
    expect(integrity(stable.connection()).ok).toBe(false);

    const r = restoreBackup(stable.connection(), dir, 'before-v2', 'v1');
    expect(r).toMatchObject({
      backupRowsChecked: 40,
      backupRowsMissing: 0,
      keptAfterBackup: 5,
      undone: { v2: 8 },
      integrity: { ok: true, rows: 45 },
    });
    expect(r.undoneIds).toEqual(candidateIds);
    for (const id of [...before, ...stableLater]) expect(stable.get(id)).toBeDefined();
    for (const id of candidateIds) expect(stable.get(id)).toBeUndefined();
    // New writes never reuse an undone id.
    expect(write(stable, 'v1', 1, 300)[0]).toBeGreaterThan(Math.max(...candidateIds, ...stableLater));
  });

  test('a later stable row the candidate garbled is not kept: it is counted as undone', async () => {
    const dir = region();
    const stable = open(dir);
    write(stable, 'v1', 10);
    await takeBackup(stable.connection(), dir, 'b');
    const [later] = write(stable, 'v1', 1, 50);
    stable.connection().prepare(`UPDATE orders SET item = 'garbled' WHERE id = ?`).run(later!);
    const r = restoreBackup(stable.connection(), dir, 'b', 'v1');
    expect(r).toMatchObject({ keptAfterBackup: 0, undone: { v1: 1 }, backupRowsMissing: 0, integrity: { ok: true } });
  });

  test('an unknown backup fails before anything changes', () => {
    const dir = region();
    const stable = open(dir);
    write(stable, 'v1', 3);
    expect(() => restoreBackup(stable.connection(), dir, 'nope', 'v1')).toThrow(/ENOENT/);
    expect(integrity(stable.connection()).rows).toBe(3);
  });

  test('a database from before checksums is migrated: its rows count as unchecked, not as corrupt', async () => {
    const dir = region();
    const { DatabaseSync } = await import('node:sqlite');
    const old = new DatabaseSync(join(dir, 'orders.db'));
    old.exec(
      `CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL, quantity INTEGER NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL)`,
    );
    old.exec(`INSERT INTO orders (item, quantity, data, created_at) VALUES ('a', 1, '{}', 'x'), ('b', 1, '{}', 'x')`);
    old.close();
    const store = open(dir);
    write(store, 'v1', 1);
    expect(integrity(store.connection())).toMatchObject({ ok: true, rows: 3, written: 3, unchecked: 2 });
  });
});

describe('compared with the backup', () => {
  test('every backed-up row is looked up: a garbled pre-deploy row counts as missing', async () => {
    const dir = region();
    const stable = open(dir);
    write(stable, 'v1', 30);
    await takeBackup(stable.connection(), dir, 'b');
    expect(checkAgainst(stable.connection(), dir, 'b')).toMatchObject({
      ok: true,
      backupRowsChecked: 30,
      backupRowsMissing: 0,
    });
    let k = 0;
    write(open(dir, { dataFault: 'corrupt', rng: () => (k++ + 0.5) / 30 }), 'v2', 4, 100);
    expect(checkAgainst(stable.connection(), dir, 'b')).toMatchObject({
      ok: false,
      backupRowsChecked: 30,
      backupRowsMissing: 4,
    });
  });
});

describe('/admin over HTTP', () => {
  test('needs the token, refuses a name that is a path, and backs up with 201', async () => {
    const dir = region();
    const store = open(dir);
    write(store, 'v1', 5);
    const config = { version: 'v1', region: 'us-west', failureRate: 0, port: 0, dataDir: dir, faultToken: TOKEN };
    const server = createServer(
      createApp({
        config,
        rng: () => 0.5,
        clock: systemClock,
        store,
        metrics: createMetrics({ region: 'us-west', version: 'v1' }),
        faults: new Faults(systemClock, () => 0.5),
        database: () => store.connection(),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    try {
      expect((await call(`${url}/admin/backup`, { body: { name: 'b1' } })).status).toBe(401);
      expect((await call(`${url}/admin/backup`, { body: { name: '../etc/x' }, headers: auth })).status).toBe(400);
      const made = await call(`${url}/admin/backup`, { body: { name: 'b1' }, headers: auth });
      expect(made).toMatchObject({ status: 201, json: { name: 'b1', rows: 5 } });
      expect(await call(`${url}/admin/integrity`, { body: { name: 'b1' }, headers: auth })).toMatchObject({
        status: 200,
        json: { ok: true, backupRowsChecked: 5 },
      });
      expect(
        (await call(`${url}/admin/restore`, { body: { name: 'b2', keep_version: 'v1' }, headers: auth })).status,
      ).toBe(404);
      expect((await call(`${url}/admin/restore`, { body: { name: 'b1' }, headers: auth })).status).toBe(400);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
