// The worker: keeps entries in PostgreSQL, for the API in front of it. start() is the whole
// service except the process wiring (server.js); tests run it in-process with a fake `db`.
//
//   GET  /healthz              200 while the process serves (never asks the database)
//   GET  /readyz               200 once its schema exists, else 503: the Compose healthcheck
//   POST /entries {name}       201 {id, name, created_at} once the INSERT committed
//   GET  /entries/:id          200 {id, name, created_at} or 404
//   GET  /entries?limit=20     200 [...]: the newest `limit` (1 to 100), newest first
//
// A database error or timeout answers 503 with `x-failed-hop: postgres`; the worker's own
// failures answer 500 with `x-failed-hop: worker`. The API reads that header.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createPool, literal } from './pg.js';

const MAX_BODY_BYTES = 16 * 1024;
const MAX_NAME_LENGTH = 200;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** Below the API's 2 s per call, so a slow database is blamed on postgres, not on the worker. */
export const DEFAULT_QUERY_TIMEOUT_MS = 1500;
/** A retry is not worth starting with less time than this left. */
const MIN_RETRY_MS = 100;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS entries (id text PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());
  CREATE INDEX IF NOT EXISTS entries_created_at ON entries (created_at DESC);
`;
/** created_at as ISO 8601 in UTC, whatever the server's DateStyle and TimeZone. */
const COLUMNS = `id, name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

class HttpError extends Error {
  constructor(status, message, hop) {
    super(message);
    this.status = status;
    this.hop = hop;
  }
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => (size > limit ? reject(new HttpError(413, `body over ${limit} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** The name from a POST body, or a 400. */
export function parseName(raw) {
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body must be JSON');
  }
  const name = body?.name;
  if (typeof name !== 'string' || name.trim() === '') throw new HttpError(400, 'name must be a non-empty string');
  if (name.length > MAX_NAME_LENGTH) throw new HttpError(400, `name must be at most ${MAX_NAME_LENGTH} characters`);
  if (name.includes('\0')) throw new HttpError(400, 'name must not contain NUL');
  return name;
}

/**
 * Starts the worker; resolves once it listens. The schema is created after that, retried
 * every `schemaRetryMs` until PostgreSQL answers (the worker may start first): `ready`
 * resolves then, and until then the entry routes answer 503 (hop postgres).
 *
 * Options: port (4000; 0 = any), host ('0.0.0.0'), db ({query(sql, {timeoutMs}), end()}:
 * default a pool of 4 on `pg`), pg ({host, port, user, database}), queryTimeoutMs (1500),
 * schemaRetryMs (1000), graceMs (5000), log (console.log).
 */
export async function start(options = {}) {
  const {
    port = 4000,
    host = '0.0.0.0',
    pg = {},
    queryTimeoutMs = DEFAULT_QUERY_TIMEOUT_MS,
    db = createPool({ size: 4, timeoutMs: queryTimeoutMs, ...pg }),
    schemaRetryMs = 1000,
    graceMs = 5000,
    log = console.log,
  } = options;

  let schemaReady = false;
  let schemaRun;
  let closing = false;
  let retryTimer;

  /** Runs sql; on a broken connection (not a timeout) once more, if time is left. */
  async function query(sql, { retry }) {
    const started = performance.now();
    try {
      return await db.query(sql, { timeoutMs: queryTimeoutMs });
    } catch (err) {
      const left = queryTimeoutMs - (performance.now() - started);
      if (!(retry && err?.connection && !err.timeout && left >= MIN_RETRY_MS)) throw err;
      return db.query(sql, { timeoutMs: Math.ceil(left) });
    }
  }

  /** A database call; every failure of it is the database's (503, hop postgres). */
  async function database(sql, { retry }) {
    if (!schemaReady) throw new HttpError(503, 'database not ready', 'postgres');
    try {
      return await query(sql, { retry });
    } catch (err) {
      // The table is gone (a fresh data volume under a running worker): create it again.
      if (err?.code === '42P01') ensureSchema();
      throw new HttpError(503, `database: ${err?.message ?? err}`, 'postgres');
    }
  }

  function ensureSchema() {
    if (schemaRun && !schemaReady) return schemaRun;
    schemaReady = false;
    schemaRun = new Promise((resolve) => {
      const attempt = () => {
        retryTimer = undefined;
        if (closing) return resolve();
        query(SCHEMA, { retry: true }).then(
          () => {
            schemaReady = true;
            log('worker: schema ready');
            resolve();
          },
          (err) => {
            log(`worker: database not ready (${err?.message ?? err}); retrying`);
            if (!closing) retryTimer = setTimeout(attempt, schemaRetryMs);
            else resolve();
          },
        );
      };
      attempt();
    });
    return schemaRun;
  }

  async function insert(name) {
    const id = randomUUID();
    // Retried once on a broken connection: the id is made here, so when the first INSERT
    // committed but its answer was lost, the retry conflicts and does nothing instead of
    // storing a duplicate, and the SELECT below finds the committed row.
    const { rows } = await database(`INSERT INTO entries (id, name) VALUES (${literal(id)}, ${literal(name)}) ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`, { retry: true });
    if (rows[0]) return rows[0];
    const row = (await database(`SELECT ${COLUMNS} FROM entries WHERE id = ${literal(id)}`, { retry: true })).rows[0];
    if (row?.name !== name) throw new Error(`entry ${id} exists with another name`);
    return row;
  }

  const routes = [
    { pattern: /^\/healthz$/, GET: (_req, res) => send(res, 200, { status: 'ok' }) },
    { pattern: /^\/readyz$/, GET: (_req, res) => send(res, schemaReady ? 200 : 503, { status: schemaReady ? 'ready' : 'database not ready' }) },
    {
      pattern: /^\/entries$/,
      GET: async (req, res) => {
        const raw = new URL(req.url ?? '/', 'http://x').searchParams.get('limit');
        const limit = raw === null ? DEFAULT_LIMIT : Number(raw);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new HttpError(400, `limit must be an integer from 1 to ${MAX_LIMIT}`);
        const { rows } = await database(`SELECT ${COLUMNS} FROM entries ORDER BY created_at DESC, id DESC LIMIT ${limit}`, { retry: true });
        send(res, 200, rows);
      },
      POST: async (req, res) => {
        const entry = await insert(parseName(await readBody(req, MAX_BODY_BYTES)));
        send(res, 201, entry, { location: `/entries/${entry.id}` });
      },
    },
    {
      pattern: /^\/entries\/([^/]+)$/,
      GET: async (_req, res, id) => {
        const { rows } = id.length > 200 || id.includes('\0') ? { rows: [] } : await database(`SELECT ${COLUMNS} FROM entries WHERE id = ${literal(id)}`, { retry: true });
        if (rows[0]) send(res, 200, rows[0]);
        else send(res, 404, { error: 'no such entry' });
      },
    },
  ];

  async function handle(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      const handler = r[req.method === 'HEAD' ? 'GET' : req.method];
      if (!handler) return send(res, 405, { error: 'method not allowed' }, { allow: ['GET', 'POST'].filter((x) => r[x]).join(', ') });
      let param;
      try {
        param = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
      } catch {
        return send(res, 404, { error: 'no such entry' });
      }
      return handler(req, res, param);
    }
    send(res, 404, { error: 'not found' });
  }

  const server = createServer((req, res) => {
    if (closing) res.setHeader('connection', 'close');
    Promise.resolve()
      .then(() => handle(req, res))
      .catch((err) => {
        if (res.headersSent || res.destroyed) return;
        if (err instanceof HttpError && err.hop) send(res, err.status, { error: err.message, hop: err.hop }, { 'x-failed-hop': err.hop });
        else if (err instanceof HttpError) send(res, err.status, { error: err.message });
        else {
          log(`worker: ${req.method} ${req.url}: ${err?.stack ?? err}`);
          send(res, 500, { error: 'internal error', hop: 'worker' }, { 'x-failed-hop': 'worker' });
        }
      });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  log(`worker: listening on ${host}:${boundPort}`);

  const ready = ensureSchema();

  let closed;
  /** Stops accepting, lets in-flight requests finish (at most graceMs), closes the pool. */
  function close() {
    closed ??= new Promise((resolve) => {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      server.close(() => {
        clearTimeout(deadline);
        db.end();
        resolve();
      });
      server.closeIdleConnections();
    });
    return closed;
  }

  return { server, port: boundPort, url: `http://127.0.0.1:${boundPort}`, ready, close };
}
