// The worker's routes, in-process on 127.0.0.1, port 0, against a fake database: a query
// function that records the SQL and answers as each test says.
import { afterEach, describe, expect, test } from 'vitest';
import { start, type Db, type Service } from '../worker/app.js';
import { ConnectionError, PgError, type QueryResult } from '../worker/pg.js';

const quiet = (): void => {};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CREATED = '2026-01-02T03:04:05.678Z';

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

type Answer = (sql: string, call: number) => QueryResult | Promise<QueryResult>;

/** A Db that records every query and answers with `answer` (the schema succeeds unless it says otherwise). */
function fakeDb(answer: Answer): Db & { sql: string[]; ended: boolean } {
  const db = {
    sql: [] as string[],
    ended: false,
    async query(sql: string) {
      db.sql.push(sql);
      return answer(sql, db.sql.length);
    },
    end() {
      db.ended = true;
    },
  };
  return db;
}

const isSchema = (sql: string) => sql.includes('CREATE TABLE IF NOT EXISTS entries');
const none = (): QueryResult => ({ command: 'SELECT 0', rows: [] });

/** An in-memory entries table that understands the worker's statements. */
function memoryTable(): Answer {
  const rows = new Map<string, { id: string; name: string; created_at: string }>();
  return (sql) => {
    if (isSchema(sql)) return { command: 'CREATE INDEX', rows: [] };
    const insert = /^INSERT INTO entries \(id, name\) VALUES \('([^']+)', '((?:[^']|'')*)'\) ON CONFLICT \(id\) DO NOTHING RETURNING /.exec(sql);
    if (insert) {
      if (rows.has(insert[1]!)) return { command: 'INSERT 0 0', rows: [] };
      const row = { id: insert[1]!, name: insert[2]!.replaceAll("''", "'"), created_at: CREATED };
      rows.set(row.id, row);
      return { command: 'INSERT 0 1', rows: [row] };
    }
    const byId = / FROM entries WHERE id = '((?:[^']|'')*)'$/.exec(sql);
    if (byId) {
      const row = rows.get(byId[1]!.replaceAll("''", "'"));
      return { command: `SELECT ${row ? 1 : 0}`, rows: row ? [row] : [] };
    }
    const list = / FROM entries ORDER BY created_at DESC, id DESC LIMIT (\d+)$/.exec(sql);
    if (list) return { command: 'SELECT', rows: [...rows.values()].reverse().slice(0, Number(list[1])) };
    throw new Error(`the fake does not know: ${sql}`);
  };
}

async function run(db: Db, options: { queryTimeoutMs?: number; schemaRetryMs?: number } = {}): Promise<Service> {
  const s = await start({ port: 0, host: '127.0.0.1', db, log: quiet, ...options });
  services.push(s);
  return s;
}

async function call(url: string, init: { method?: string; body?: unknown; raw?: string } = {}) {
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), body: body ?? null, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, hop: res.headers.get('x-failed-hop'), headers: res.headers };
}

describe('the worker', () => {
  test('POST stores with a fresh uuid, GET by id and the list read it back', async () => {
    const db = fakeDb(memoryTable());
    const s = await run(db);
    await s.ready;
    const created = await call(`${s.url}/entries`, { body: { name: "O'Brien" } });
    expect(created).toMatchObject({ status: 201, hop: null, body: { id: expect.stringMatching(UUID), name: "O'Brien", created_at: CREATED } });
    const { id } = created.body as { id: string };
    expect(created.headers.get('location')).toBe(`/entries/${id}`);
    expect(db.sql.at(-1)).toContain(`VALUES ('${id}', 'O''Brien') ON CONFLICT (id) DO NOTHING RETURNING`);
    expect(await call(`${s.url}/entries/${id}`)).toMatchObject({ status: 200, body: { id, name: "O'Brien", created_at: CREATED } });
    expect(await call(`${s.url}/entries/${encodeURIComponent("x' OR '1'='1")}`)).toMatchObject({ status: 404, hop: null });
    expect(db.sql.at(-1)).toContain("WHERE id = 'x'' OR ''1''=''1'");
    const second = await call(`${s.url}/entries`, { body: { name: 'second' } });
    expect((await call(`${s.url}/entries`)).body).toEqual([second.body, created.body]);
    expect(db.sql.at(-1)).toMatch(/LIMIT 20$/);
    expect((await call(`${s.url}/entries?limit=1`)).body).toEqual([second.body]);
  });

  test('bad input is the client\'s: 400/404/405 without x-failed-hop, nothing asked of the database', async () => {
    const db = fakeDb(memoryTable());
    const s = await run(db);
    await s.ready;
    const before = db.sql.length;
    for (const raw of ['', '{', 'null', '{}', '{"name":""}', '{"name":42}', '{"name":"a\\u0000b"}', JSON.stringify({ name: 'x'.repeat(201) })]) {
      expect(await call(`${s.url}/entries`, { raw }), raw).toMatchObject({ status: 400, hop: null });
    }
    for (const q of ['0', '101', 'ten', '1.5']) expect(await call(`${s.url}/entries?limit=${q}`), q).toMatchObject({ status: 400, hop: null });
    expect(await call(`${s.url}/entries/${'x'.repeat(201)}`)).toMatchObject({ status: 404 });
    expect(await call(`${s.url}/entries/%E0%A4%A`)).toMatchObject({ status: 404 });
    expect(await call(`${s.url}/entries`, { method: 'DELETE' })).toMatchObject({ status: 405, hop: null });
    expect(await call(`${s.url}/nowhere`)).toMatchObject({ status: 404, hop: null });
    expect(db.sql.length).toBe(before);
  });

  test('healthz never asks the database; entries answer 503 postgres until the schema exists', async () => {
    let up = false;
    const table = memoryTable();
    const db = fakeDb((sql) => {
      if (!up) throw new ConnectionError('connection to postgres:5432: ECONNREFUSED');
      return table(sql, 0);
    });
    const s = await run(db, { schemaRetryMs: 10 });
    expect(await call(`${s.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call(`${s.url}/readyz`)).toMatchObject({ status: 503, body: { status: 'database not ready' } });
    expect(await call(`${s.url}/entries`, { body: { name: 'early' } })).toMatchObject({ status: 503, hop: 'postgres', body: { hop: 'postgres', error: 'database not ready' } });
    expect(await call(`${s.url}/entries/some-id`)).toMatchObject({ status: 503, hop: 'postgres' });
    expect(db.sql.every(isSchema)).toBe(true);
    const attempts = db.sql.length;
    up = true;
    await s.ready;
    expect(db.sql.length).toBeGreaterThan(attempts);
    expect(await call(`${s.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await call(`${s.url}/entries`, { body: { name: 'later' } })).status).toBe(201);
  });

  test('a database error or timeout is 503 with x-failed-hop: postgres', async () => {
    for (const err of [new PgError({ S: 'ERROR', C: '53300', M: 'too many connections' }), new ConnectionError('query timed out after 1500 ms', { timeout: true })]) {
      const db = fakeDb((sql) => {
        if (isSchema(sql)) return none();
        throw err;
      });
      const s = await run(db);
      await s.ready;
      for (const [path, body] of [['/entries', { name: 'x' }], ['/entries/abc', undefined], ['/entries', undefined]] as const) {
        const res = await call(`${s.url}${path}`, { body });
        expect(res, `${path} ${err.message}`).toMatchObject({ status: 503, hop: 'postgres', body: { hop: 'postgres', error: `database: ${err.message}` } });
      }
    }
  });

  test('reads are retried once on a broken connection, never after a timeout', async () => {
    let failures: Error[] = [];
    const db = fakeDb((sql) => {
      if (isSchema(sql)) return none();
      const e = failures.shift();
      if (e) throw e;
      return { command: 'SELECT 1', rows: [{ id: 'a', name: 'n', created_at: CREATED }] };
    });
    const s = await run(db);
    await s.ready;
    const count = () => db.sql.filter((x) => !isSchema(x)).length;
    failures = [new ConnectionError('lost')];
    expect((await call(`${s.url}/entries/a`)).status).toBe(200);
    expect(count()).toBe(2);
    failures = [new ConnectionError('lost'), new ConnectionError('lost again')];
    expect(await call(`${s.url}/entries/a`)).toMatchObject({ status: 503, hop: 'postgres' });
    expect(count()).toBe(4);
    failures = [new ConnectionError('timed out', { timeout: true })];
    expect(await call(`${s.url}/entries`)).toMatchObject({ status: 503, hop: 'postgres' });
    expect(count()).toBe(5);
    failures = [new PgError({ S: 'ERROR', C: '42601', M: 'syntax error' })];
    expect((await call(`${s.url}/entries`)).status).toBe(503);
    expect(count()).toBe(6);
  });

  test('a write whose answer was lost is retried without a duplicate: the retry conflicts, the committed row is returned', async () => {
    const table = memoryTable();
    let lose = true;
    const db = fakeDb((sql) => {
      const result = table(sql, 0);
      if (sql.startsWith('INSERT') && lose) {
        lose = false; // committed, but the connection broke before the answer came
        throw new ConnectionError('connection to postgres:5432 lost: closed');
      }
      return result;
    });
    const s = await run(db);
    await s.ready;
    const res = await call(`${s.url}/entries`, { body: { name: 'once' } });
    expect(res).toMatchObject({ status: 201, body: { id: expect.stringMatching(UUID), name: 'once' } });
    const statements = db.sql.filter((x) => !isSchema(x));
    expect(statements.map((x) => x.split(' ')[0])).toEqual(['INSERT', 'INSERT', 'SELECT']);
    expect(statements[0]).toBe(statements[1]);
    expect((await call(`${s.url}/entries`)).body).toHaveLength(1);
  });

  test('a write is not retried after a timeout (the API has given up by then)', async () => {
    const db = fakeDb((sql) => {
      if (isSchema(sql)) return none();
      throw new ConnectionError('query timed out after 1500 ms', { timeout: true });
    });
    const s = await run(db);
    await s.ready;
    expect(await call(`${s.url}/entries`, { body: { name: 'x' } })).toMatchObject({ status: 503, hop: 'postgres' });
    expect(db.sql.filter((x) => x.startsWith('INSERT'))).toHaveLength(1);
  });

  test('a missing table (a fresh database under a running worker) is created again', async () => {
    let dropped = false;
    const table = memoryTable();
    const db = fakeDb((sql) => {
      if (dropped && !isSchema(sql)) throw new PgError({ S: 'ERROR', C: '42P01', M: 'relation "entries" does not exist' });
      if (isSchema(sql)) dropped = false;
      return table(sql, 0);
    });
    const s = await run(db);
    await s.ready;
    dropped = true;
    expect(await call(`${s.url}/entries`)).toMatchObject({ status: 503, hop: 'postgres' });
    expect(db.sql.filter(isSchema)).toHaveLength(2);
    expect(await call(`${s.url}/entries`)).toMatchObject({ status: 200 });
  });

  test('the worker\'s own failure is 500 with x-failed-hop: worker', async () => {
    const db = fakeDb((sql) => (isSchema(sql) ? none() : ({ command: 'SELECT' } as QueryResult)));
    const s = await run(db);
    await s.ready;
    expect(await call(`${s.url}/entries/a`)).toMatchObject({ status: 500, hop: 'worker', body: { hop: 'worker' } });
  });

  test('close() ends the pool', async () => {
    const db = fakeDb(memoryTable());
    const s = await run(db);
    await s.ready;
    await s.close();
    expect(db.ended).toBe(true);
  });
});
