import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Rng } from './clock.ts';
import { rowChecksum, type DataFault } from './data.ts';

export interface NewOrder {
  item: string;
  quantity: number;
  /** The whole request body, kept as sent. */
  data: Record<string, unknown>;
  createdAt: string;
  /** The service version that wrote the row: a restore keeps the stable version's rows. */
  version: string;
}

export interface Order extends Omit<NewOrder, 'version'> {
  id: number;
}

export interface OrderStore {
  /** Returns the new id once the row is durably committed. */
  insert(order: NewOrder): number;
  get(id: number): Order | undefined;
  /** Throws StoreUnavailableError when the database cannot be used. */
  ping(): void;
  close(): void;
}

/** The database cannot serve a request: the client gets 503, never a 500 or a false 201. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  item TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL
)`;
// Added later: databases from before keep their rows, with no checksum (counted as unchecked).
const COLUMNS = ['version', 'checksum'] as const;
// Rows ever committed: a row that disappears without a trace shows as ledger > count(*).
const LEDGER = `CREATE TABLE IF NOT EXISTS ledger (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`;

interface Row {
  id: number;
  item: string;
  quantity: number;
  data: string;
  created_at: string;
}

/**
 * SQLite in DATA_DIR/orders.db. WAL with synchronous=FULL makes every autocommitted insert
 * reach the disk before insert() returns. Opening is retried on each call, so a data
 * directory that is missing at start-up makes the service unhealthy rather than dead.
 */
export interface StoreOptions {
  /** A deliberate data bug of the test service (DATA_FAULT); none by default. */
  dataFault?: DataFault | undefined;
  rng?: Rng;
}

export class SqliteStore implements OrderStore {
  readonly dataDir: string;
  readonly path: string;
  readonly #dataFault: DataFault | undefined;
  readonly #rng: Rng;
  #db: DatabaseSync | undefined;

  constructor(dataDir: string, options: StoreOptions = {}) {
    this.dataDir = dataDir;
    this.path = join(dataDir, 'orders.db');
    this.#dataFault = options.dataFault;
    this.#rng = options.rng ?? Math.random;
  }

  /** The open connection, for the data admin (backup, integrity, restore). */
  connection(): DatabaseSync {
    return this.#open();
  }

  #open(): DatabaseSync {
    if (this.#db) return this.#db;
    let db: DatabaseSync | undefined;
    try {
      mkdirSync(this.dataDir, { recursive: true });
      db = new DatabaseSync(this.path);
      // A canary shares its region's database file; wait for its write lock instead of failing.
      db.exec('PRAGMA busy_timeout = 2000');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      db.exec(SCHEMA);
      migrate(db);
    } catch (err) {
      db?.close();
      throw unavailable(err);
    }
    this.#db = db;
    return db;
  }

  #run<T>(fn: (db: DatabaseSync) => T): T {
    const db = this.#open();
    try {
      return fn(db);
    } catch (err) {
      throw unavailable(err);
    }
  }

  insert(order: NewOrder): number {
    // Outside #run: a body that cannot be serialised is the request's fault, not the database's (no 503).
    const data = JSON.stringify(order.data);
    return this.#run((db) =>
      transaction(db, () => {
        const row = db
          .prepare(
            'INSERT INTO orders (item, quantity, data, created_at, version, checksum) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
          )
          .get(
            order.item,
            order.quantity,
            data,
            order.createdAt,
            order.version,
            rowChecksum({
              item: order.item,
              quantity: order.quantity,
              data,
              createdAt: order.createdAt,
              version: order.version,
            }),
          );
        db.prepare("UPDATE ledger SET n = n + 1 WHERE k = 'rows'").run();
        const id = Number(row?.id);
        if (this.#dataFault && id > 1) this.#damage(db, 1 + Math.floor(this.#rng() * (id - 1)));
        return id;
      }),
    );
  }

  /** The deliberate bug: an earlier row garbled (its checksum left as it was) or deleted. */
  #damage(db: DatabaseSync, id: number): void {
    if (this.#dataFault === 'corrupt')
      db.prepare(`UPDATE orders SET item = 'garbled', data = '{"garbled":true}' WHERE id = ?`).run(id);
    else db.prepare('DELETE FROM orders WHERE id = ?').run(id);
  }

  get(id: number): Order | undefined {
    return this.#run((db) => {
      const row = db.prepare('SELECT id, item, quantity, data, created_at FROM orders WHERE id = ?').get(id) as
        Row | undefined;
      if (!row) return undefined;
      return {
        id: row.id,
        item: row.item,
        quantity: row.quantity,
        data: JSON.parse(row.data) as Record<string, unknown>,
        createdAt: row.created_at,
      };
    });
  }

  ping(): void {
    this.#run((db) => db.prepare('SELECT 1 FROM orders LIMIT 1').get());
  }

  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }
}

/** Runs fn in one IMMEDIATE transaction (the write lock up front, so busy_timeout applies). */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** Stable and canary open the same file at once: the migration runs under the write lock. */
function migrate(db: DatabaseSync): void {
  transaction(db, () => {
    const have = new Set((db.prepare('PRAGMA table_info(orders)').all() as { name: string }[]).map((c) => c.name));
    for (const column of COLUMNS) if (!have.has(column)) db.exec(`ALTER TABLE orders ADD COLUMN ${column} TEXT`);
    db.exec(LEDGER);
    db.exec("INSERT OR IGNORE INTO ledger (k, n) SELECT 'rows', count(*) FROM orders");
  });
}

function unavailable(err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(err instanceof Error ? err.message : String(err), { cause: err });
}
