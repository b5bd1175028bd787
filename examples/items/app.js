// The items service: a small JSON API over SQLite. start() is the whole service except the
// process wiring (environment, signals, exit), which is server.js; tests run it in-process.
//
//   GET  /healthz         200 {status: "ok"} once the database is open, 503 before
//   GET  /version         {version, commit?}: VERSION (the file) and $COMMIT
//   GET  /metrics         Prometheus text format
//   POST /api/items       {name} -> 201 {id, name}; 400 bad JSON or name, 413 body too large
//   GET  /api/items       200 [{id, name}]: the last 50, newest first
//   GET  /api/items/:id   200 {id, name} or 404
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createMetrics } from './metrics.js';
import { openStore } from './store.js';

const MAX_BODY_BYTES = 16 * 1024;
const MAX_NAME_LENGTH = 200;
const LIST_LIMIT = 50;
const DB_RETRY_MS = 1000;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The version this build carries: the VERSION file beside this module, copied into the image. */
export function readVersion() {
  try {
    return readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The request body, at most `limit` bytes (413 beyond). */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new HttpError(413, `body over ${limit} bytes`));
      return;
    }
    const chunks = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, `body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The new item's name from a POST body, or a 400. */
function parseNewItem(raw) {
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body must be JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object');
  const { name } = body;
  if (typeof name !== 'string' || name.trim() === '') throw new HttpError(400, 'name must be a non-empty string');
  if (name.length > MAX_NAME_LENGTH) throw new HttpError(400, `name must be at most ${MAX_NAME_LENGTH} characters`);
  return name;
}

/**
 * Starts the service; resolves once it listens. The database is opened after that (retried
 * every second while it fails): `ready` resolves when it is open, and until then /healthz
 * and /api answer 503.
 *
 * Options: port (3000; 0 = any), host ('0.0.0.0'), dataDir ('/data'), version (the VERSION
 * file), commit, startDelaySeconds (0: a test knob, wait before listening), noMetrics (false:
 * a test knob, /metrics answers 404), graceMs (5000: how long close() lets in-flight requests
 * finish), log (console.log).
 */
export async function start(options = {}) {
  const {
    port = 3000,
    host = '0.0.0.0',
    dataDir = '/data',
    version = readVersion(),
    commit,
    startDelaySeconds = 0,
    noMetrics = false,
    graceMs = 5000,
    log = console.log,
  } = options;

  if (startDelaySeconds > 0) await new Promise((resolve) => setTimeout(resolve, startDelaySeconds * 1000));

  const metrics = createMetrics();
  let store;
  let closing = false;
  let retryTimer;

  function requireStore() {
    if (!store) throw new HttpError(503, 'database not ready');
    return store;
  }

  const routes = [
    {
      route: '/healthz',
      pattern: /^\/healthz$/,
      GET: (_req, res) => (store ? send(res, 200, { status: 'ok' }) : send(res, 503, { status: 'starting' })),
    },
    {
      route: '/version',
      pattern: /^\/version$/,
      GET: (_req, res) => send(res, 200, commit ? { version, commit } : { version }),
    },
    {
      route: '/metrics',
      pattern: /^\/metrics$/,
      GET: (_req, res) => {
        if (noMetrics) return send(res, 404, { error: 'not found' });
        const text = metrics.render();
        res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
    },
    {
      route: '/api/items',
      pattern: /^\/api\/items$/,
      GET: (_req, res) => send(res, 200, requireStore().latest(LIST_LIMIT)),
      POST: async (req, res) => {
        const name = parseNewItem(await readBody(req, MAX_BODY_BYTES));
        const item = requireStore().insert(randomUUID(), name);
        send(res, 201, item, { location: `/api/items/${item.id}` });
      },
    },
    {
      route: '/api/items/:id',
      pattern: /^\/api\/items\/([^/]+)$/,
      GET: (_req, res, id) => {
        const item = requireStore().get(id);
        if (item) send(res, 200, item);
        else send(res, 404, { error: 'no such item' });
      },
    },
  ];

  async function handle(req, res, setRoute) {
    const path = (req.url ?? '/').split('?')[0];
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      setRoute(r.route);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const handler = r[method];
      if (!handler) {
        const allow = ['GET', 'POST'].filter((x) => r[x]).join(', ');
        return send(res, 405, { error: 'method not allowed' }, { allow });
      }
      let param;
      try {
        param = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
      } catch {
        return send(res, 404, { error: 'no such item' });
      }
      return handler(req, res, param);
    }
    send(res, 404, { error: 'not found' });
  }

  /** Responses not yet sent: close() asks them to close their connection. */
  const inFlight = new Set();

  const server = createServer((req, res) => {
    const started = performance.now();
    inFlight.add(res);
    res.on('close', () => inFlight.delete(res));
    const method = METHODS.has(req.method) ? req.method : 'other';
    let route = 'unmatched';
    res.on('finish', () => {
      inFlight.delete(res);
      metrics.observe(method, route, res.statusCode, (performance.now() - started) / 1000);
    });
    // While shutting down, every answer closes its connection, so keep-alive clients leave.
    if (closing) res.setHeader('connection', 'close');
    Promise.resolve()
      .then(() => handle(req, res, (r) => { route = r; }))
      .catch((err) => {
        if (res.headersSent || res.destroyed) return;
        if (err instanceof HttpError) {
          if (err.status === 413) res.setHeader('connection', 'close');
          send(res, err.status, { error: err.message });
        } else {
          log(`items: ${req.method} ${req.url}: ${err?.stack ?? err}`);
          send(res, 500, { error: 'internal error' });
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
  log(`items: listening on ${host}:${boundPort}, version ${version}${commit ? ` (${commit})` : ''}`);

  const ready = new Promise((resolve) => {
    const attempt = () => {
      retryTimer = undefined;
      if (closing) return resolve();
      try {
        store = openStore(dataDir);
        log(`items: database open in ${dataDir}`);
        resolve();
      } catch (err) {
        log(`items: cannot open the database in ${dataDir} (${err?.message ?? err}); retrying`);
        retryTimer = setTimeout(attempt, DB_RETRY_MS);
      }
    };
    attempt();
  });

  let closed;
  /**
   * Stops accepting connections, lets in-flight requests finish (at most graceMs, then cuts
   * the connections left), closes the database. Idempotent.
   */
  function close() {
    closed ??= new Promise((resolve) => {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      // In-flight answers close their connection once sent, so keep-alive clients leave.
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      server.close(() => {
        clearTimeout(deadline);
        store?.close();
        store = undefined;
        resolve();
      });
      server.closeIdleConnections();
    });
    return closed;
  }

  return { server, port: boundPort, url: `http://127.0.0.1:${boundPort}`, version, ready, close };
}
