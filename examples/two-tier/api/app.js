// The API: the gated service, in front of the worker (which keeps entries in PostgreSQL).
// start() is the whole service except the process wiring (server.js); tests run it in-process.
//
//   GET  /healthz             200 while the process serves (liveness only: never asks the worker)
//   GET  /version             {version, commit?}: VERSION (the file) and $COMMIT
//   GET  /metrics             Prometheus text format
//   POST /api/entries {name}  201 {id, name, created_at}: the worker's POST /entries
//   GET  /api/entries/:id     200 {id, name, created_at} or 404
//   GET  /api/entries         200 [...]: the latest 20, newest first
//
// Every failed answer names the hop that failed, in the header `x-failed-hop` and the body
// {"error", "hop"}:
//   502 worker    the worker is unreachable, timed out, or answered 5xx not naming postgres
//   503 postgres  the worker answered 5xx with `x-failed-hop: postgres` (passed through)
//   500 api       the API's own failure
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createMetrics } from './metrics.js';

const MAX_BODY_BYTES = 16 * 1024;
const MAX_NAME_LENGTH = 200;
const LIST_LIMIT = 20;
const READ_RETRIES = 2;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const HOP_HEADER = 'x-failed-hop';

/** The version this build carries: the VERSION file beside this module, copied into the image. */
export function readVersion() {
  try {
    return readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

class HttpError extends Error {
  /** `hop` for a failure (5xx): which hop failed. A client's mistake (4xx) has none. */
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

/** The request body, at most `limit` bytes (413 beyond). */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) return reject(new HttpError(413, `body over ${limit} bytes`));
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) reject(new HttpError(413, `body over ${limit} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The new entry's name from a POST body, or a 400. */
function parseName(raw) {
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
  if (name.includes('\0')) throw new HttpError(400, 'name must not contain NUL');
  return name;
}

/**
 * One call to the worker, at most `timeoutMs` (answer and body). Resolves {status, body} for
 * a 2xx or 4xx answer; throws the hop to blame otherwise.
 */
async function callWorker(workerUrl, timeoutMs, method, path, body) {
  let res;
  let text;
  try {
    res = await fetch(new URL(path, workerUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const timedOut = err?.name === 'TimeoutError';
    const why = timedOut ? `no answer within ${timeoutMs} ms` : (err?.cause?.code ?? err?.message ?? String(err));
    throw Object.assign(new HttpError(502, `worker ${method} ${path}: ${why}`, 'worker'), { retryable: !timedOut });
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (res.status >= 500) {
    const detail = typeof parsed?.error === 'string' ? parsed.error : `HTTP ${res.status}`;
    // The worker names postgres when the database failed it; anything else is the worker's.
    if (res.headers.get(HOP_HEADER) === 'postgres') throw new HttpError(503, detail, 'postgres');
    throw Object.assign(new HttpError(502, `worker: ${detail}`, 'worker'), { retryable: true });
  }
  if (parsed === undefined || res.status < 200 || (res.status >= 300 && res.status < 400)) throw new HttpError(502, `worker answered HTTP ${res.status} without JSON`, 'worker');
  return { status: res.status, body: parsed };
}

/**
 * Starts the API; resolves once it listens. Options: port (3000; 0 = any), host ('0.0.0.0'),
 * workerUrl ('http://worker:4000'), workerTimeoutMs (2000: per call to the worker), version
 * (the VERSION file), commit, graceMs (5000: how long close() lets in-flight requests
 * finish), log (console.log).
 */
export async function start(options = {}) {
  const {
    port = 3000,
    host = '0.0.0.0',
    workerUrl = 'http://worker:4000',
    workerTimeoutMs = 2000,
    version = readVersion(),
    commit,
    graceMs = 5000,
    log = console.log,
  } = options;

  const metrics = createMetrics();
  // A read the worker failed at once (a lost connection, a 5xx of its own) is tried again, up
  // to READ_RETRIES times: a dropped connection costs a retry, not an error. A time-out is not
  // (it already took workerTimeoutMs), nor is a write (retried, it could store an entry twice).
  const worker = async (method, path, body) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await callWorker(workerUrl, workerTimeoutMs, method, path, body);
      } catch (err) {
        if (method !== 'GET' || attempt >= READ_RETRIES || err?.retryable !== true) throw err;
      }
    }
  };
  let closing = false;

  const routes = [
    {
      route: '/healthz',
      pattern: /^\/healthz$/,
      GET: (_req, res) => send(res, 200, { status: 'ok' }),
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
        const text = metrics.render();
        res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
    },
    {
      route: '/api/entries',
      pattern: /^\/api\/entries$/,
      GET: async (_req, res) => {
        const answer = await worker('GET', `/entries?limit=${LIST_LIMIT}`);
        send(res, answer.status, answer.body);
      },
      POST: async (req, res) => {
        const name = parseName(await readBody(req, MAX_BODY_BYTES));
        const answer = await worker('POST', '/entries', { name });
        if (answer.status !== 201) return send(res, answer.status, answer.body);
        const { id, created_at } = answer.body;
        send(res, 201, { id, name: answer.body.name, created_at }, { location: `/api/entries/${encodeURIComponent(id)}` });
      },
    },
    {
      route: '/api/entries/:id',
      pattern: /^\/api\/entries\/([^/]+)$/,
      GET: async (_req, res, id) => {
        const answer = await worker('GET', `/entries/${encodeURIComponent(id)}`);
        send(res, answer.status, answer.status === 404 ? { error: 'no such entry' } : answer.body);
      },
    },
  ];

  async function handle(req, res, setRoute) {
    const path = (req.url ?? '/').split('?')[0];
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      setRoute(r.route);
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
    if (closing) res.setHeader('connection', 'close');
    Promise.resolve()
      .then(() => handle(req, res, (r) => { route = r; }))
      .catch((err) => {
        if (res.headersSent || res.destroyed) return;
        if (err instanceof HttpError) {
          if (err.status === 413) res.setHeader('connection', 'close');
          if (err.hop) send(res, err.status, { error: err.message, hop: err.hop }, { [HOP_HEADER]: err.hop });
          else send(res, err.status, { error: err.message });
        } else {
          // Anything else is a bug of the API itself.
          log(`api: ${req.method} ${req.url}: ${err?.stack ?? err}`);
          send(res, 500, { error: 'internal error', hop: 'api' }, { [HOP_HEADER]: 'api' });
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
  log(`api: listening on ${host}:${boundPort}, worker ${workerUrl}, version ${version}${commit ? ` (${commit})` : ''}`);

  let closed;
  /** Stops accepting, lets in-flight requests finish (at most graceMs, then cuts the rest). Idempotent. */
  function close() {
    closed ??= new Promise((resolve) => {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      server.close(() => {
        clearTimeout(deadline);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closed;
  }

  return { server, port: boundPort, url: `http://127.0.0.1:${boundPort}`, version, close };
}
