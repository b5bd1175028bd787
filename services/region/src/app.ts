import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep, type Clock, type Rng } from './clock.ts';
import type { Config } from './config.ts';
import { BACKUP_NAME, checkAgainst, restoreBackup, takeBackup } from './data.ts';
import type { DatabaseSync } from 'node:sqlite';
import { faultJson, parseFaultSpec, type Faults } from './faults.ts';
import { bearerMatches, ClientGoneError, HttpError, readJson } from './http.ts';
import type { DbOperation, Metrics } from './metrics.ts';
import { validateOrder } from './orders.ts';
import { StoreUnavailableError, type OrderStore } from './store.ts';

export interface AppDeps {
  config: Config;
  rng: Rng;
  clock: Clock;
  store: OrderStore;
  metrics: Metrics;
  faults: Faults;
  /** Where a failed request is logged, as one line; stderr by default. */
  logError?: (line: string) => void;
  /** The SQLite connection for /admin (backup, integrity, restore); absent: those answer 404. */
  database?: () => DatabaseSync;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Route templates, as they appear in the `route` metric label. */
export type Route =
  | '/'
  | '/health'
  | '/metrics'
  | '/api/orders'
  | '/api/orders/:id'
  | '/faults'
  | '/admin/backup'
  | '/admin/integrity'
  | '/admin/restore'
  | 'unmatched';

const METHODS: Record<Exclude<Route, 'unmatched'>, readonly string[]> = {
  '/': ['GET'],
  '/health': ['GET'],
  '/metrics': ['GET'],
  '/api/orders': ['POST'],
  '/api/orders/:id': ['GET'],
  '/faults': ['GET', 'POST', 'DELETE'],
  '/admin/backup': ['POST'],
  '/admin/integrity': ['POST'],
  '/admin/restore': ['POST'],
};

const ADMIN: readonly Route[] = ['/faults', '/admin/backup', '/admin/integrity', '/admin/restore'];

function matchRoute(path: string): { route: Route; id?: string } {
  if (Object.hasOwn(METHODS, path) && path !== '/api/orders/:id') return { route: path as Route };
  const m = /^\/api\/orders\/([^/]+)$/.exec(path);
  if (m?.[1] !== undefined) return { route: '/api/orders/:id', id: m[1] };
  return { route: 'unmatched' };
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function createApp(deps: AppDeps): Handler {
  const { config, rng, clock, store, metrics, faults } = deps;
  const logError = deps.logError ?? ((line: string) => process.stderr.write(`${line}\n`));
  const identity = { version: config.version, region: config.region };

  /** One roll of the dice against FAILURE_RATE, or the rate of an active failure_rate fault. */
  const injectFailure = (): boolean => rng() < (faults.failureRate() ?? config.failureRate);

  const db = <T>(operation: DbOperation, fn: () => T): T => {
    if (faults.dbUnavailable()) throw new StoreUnavailableError('db_unavailable fault is active');
    const started = performance.now();
    try {
      return fn();
    } finally {
      metrics.dbOperation(operation, (performance.now() - started) / 1000);
    }
  };

  const health = (): Reply => {
    try {
      if (faults.dbUnavailable()) throw new StoreUnavailableError('db_unavailable fault is active');
      store.ping();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      return { status: 503, body: { status: 'unhealthy', ...identity, reason: 'database unavailable' } };
    }
    if (injectFailure()) return { status: 503, body: { status: 'unhealthy', ...identity, reason: 'injected failure' } };
    return { status: 200, body: { status: 'healthy', ...identity } };
  };

  const createOrder = async (req: IncomingMessage): Promise<Reply> => {
    const input = validateOrder(await readJson(req));
    if (typeof input === 'string') return { status: 400, body: { error: input } };
    if (injectFailure()) return { status: 503, body: { error: 'injected failure' } };
    const createdAt = new Date(clock.now()).toISOString();
    const id = db('insert', () => store.insert({ ...input, createdAt, version: config.version }));
    return { status: 201, body: { id, region: config.region, version: config.version } };
  };

  const getOrder = (rawId: string): Reply => {
    const id = /^[1-9]\d{0,15}$/.test(rawId) ? Number(rawId) : NaN;
    if (!Number.isSafeInteger(id)) return { status: 400, body: { error: '"id" must be a positive integer' } };
    if (injectFailure()) return { status: 503, body: { error: 'injected failure' } };
    const order = db('select', () => store.get(id));
    if (!order) return { status: 404, body: { error: 'not found' } };
    const { createdAt, ...rest } = order;
    return { status: 200, body: { ...rest, created_at: createdAt, region: config.region, version: config.version } };
  };

  const faultsEndpoint = async (req: IncomingMessage): Promise<Reply> => {
    if (req.method === 'GET') return { status: 200, body: { faults: faults.list().map(faultJson) } };
    if (req.method === 'DELETE') return { status: 200, body: { lifted: faults.liftAll() } };
    const parsed = parseFaultSpec(await readJson(req));
    if (!parsed.ok) return { status: 400, body: { error: parsed.error } };
    const fault = faults.add(parsed.spec);
    return {
      status: 202,
      body: { id: fault.id, kind: fault.spec.kind, expires_at: new Date(fault.expiresAt).toISOString() },
    };
  };

  const admin = async (req: IncomingMessage, route: Route): Promise<Reply> => {
    if (!deps.database) return { status: 404, body: { error: 'data administration not available' } };
    const conn = deps.database();
    const body = await readJson(req);
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    const named = typeof b.name === 'string' && BACKUP_NAME.test(b.name) ? b.name : undefined;
    if (named === undefined && (route !== '/admin/integrity' || b.name !== undefined))
      return { status: 400, body: { error: `"name" must match ${BACKUP_NAME.source}` } };
    try {
      if (route === '/admin/integrity') return { status: 200, body: checkAgainst(conn, config.dataDir, named) };
      if (named === undefined) throw new Error('unreachable: name checked above');
      if (route === '/admin/backup') return { status: 201, body: await takeBackup(conn, config.dataDir, named) };
      if (typeof b.keep_version !== 'string' || b.keep_version === '')
        return { status: 400, body: { error: '"keep_version" must be the stable version whose later rows are kept' } };
      return { status: 200, body: restoreBackup(conn, config.dataDir, named, b.keep_version) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { status: 404, body: { error: `no backup named ${String(b.name)}` } };
      throw err;
    }
  };

  const route = async (req: IncomingMessage, path: string, match: { route: Route; id?: string }): Promise<Reply> => {
    // Scrapes and the chaos engine's own control calls are never slowed by a latency fault.
    if (match.route !== '/metrics' && !ADMIN.includes(match.route)) {
      const delay = faults.latencyMs();
      if (delay > 0) await sleep(clock, delay);
    }
    if (match.route === 'unmatched') return { status: 404, body: { error: 'not found', path } };
    if (ADMIN.includes(match.route)) {
      if (config.faultToken === '') return { status: 404, body: { error: 'fault injection disabled' } };
      if (!bearerMatches(req.headers.authorization, config.faultToken)) {
        return { status: 401, body: { error: 'unauthorized' }, headers: { 'www-authenticate': 'Bearer' } };
      }
    }
    const allowed = METHODS[match.route];
    if (!allowed.includes(req.method ?? '')) {
      return { status: 405, body: { error: 'method not allowed' }, headers: { allow: allowed.join(', ') } };
    }
    switch (match.route) {
      case '/':
        return { status: 200, body: { status: 'ok', ...identity, failure_rate: config.failureRate } };
      case '/health':
        return health();
      case '/metrics':
        return { status: 200, body: await metrics.render(), headers: { 'content-type': metrics.contentType } };
      case '/api/orders':
        return createOrder(req);
      case '/api/orders/:id':
        return getOrder(match.id ?? '');
      case '/faults':
        return faultsEndpoint(req);
      case '/admin/backup':
      case '/admin/integrity':
      case '/admin/restore':
        return admin(req, match.route);
    }
  };

  const toReply = (err: unknown, req: IncomingMessage, path: string): Reply => {
    if (err instanceof HttpError) return { status: err.status, body: err.body, headers: err.headers };
    if (err instanceof StoreUnavailableError) return { status: 503, body: { error: 'database unavailable' } };
    if (err instanceof ClientGoneError) return { status: 400, body: { error: 'request body incomplete' } };
    // The details go to the log, never to the client.
    const detail = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
    logError(`region-service error: ${req.method ?? '?'} ${path}: ${detail.replace(/\s*\n\s*/g, ' | ')}`);
    return { status: 500, body: { error: 'internal error' } };
  };

  return (req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const match = matchRoute(path);
    metrics.requestStarted();
    const send = (reply: Reply): void => {
      metrics.requestFinished(req.method ?? '?', match.route, reply.status, (performance.now() - started) / 1000);
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        ...reply.headers,
      });
      res.end(text);
    };
    route(req, path, match)
      .catch((err: unknown) => toReply(err, req, path))
      .then(send)
      .catch((err: unknown) => {
        // Only a failure while writing the response gets here; the socket is the last resort.
        logError(`region-service error: writing response: ${String(err)}`);
        res.destroy();
      });
  };
}
