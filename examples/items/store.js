// The items table in SQLite (node:sqlite, no dependency). WAL with synchronous=FULL: an item
// is on disk before its 201 goes out, so a crash (SIGKILL, OOM kill) loses no acknowledged
// write.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const SCHEMA = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = FULL;
  PRAGMA busy_timeout = 5000;
  CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
`;

/** Opens (creating it if needed) `<dataDir>/items.db`. Throws when the folder is not writable. */
export function openStore(dataDir) {
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, 'items.db'));
  try {
    db.exec(SCHEMA);
  } catch (err) {
    db.close();
    throw err;
  }
  const insert = db.prepare('INSERT INTO items (id, name, created_at) VALUES (?, ?, ?)');
  const byId = db.prepare('SELECT id, name FROM items WHERE id = ?');
  const latest = db.prepare('SELECT id, name FROM items ORDER BY seq DESC LIMIT ?');
  let open = true;

  return {
    /** Stores a new item; returns it as the API shows it. */
    insert(id, name) {
      insert.run(id, name, new Date().toISOString());
      return { id, name };
    },
    /** The item, or undefined. */
    get(id) {
      const row = byId.get(id);
      return row ? { id: row.id, name: row.name } : undefined;
    },
    /** The newest `limit` items, newest first. */
    latest(limit) {
      return latest.all(limit).map((row) => ({ id: row.id, name: row.name }));
    },
    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
