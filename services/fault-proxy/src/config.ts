// Environment -> proxy configuration, every problem named. Pure: no process access, no exits.

export interface Route {
  /** The dependency's name; several routes (ports) may share it, and toxics target it. */
  name: string;
  listen_port: number;
  upstream_host: string;
  upstream_port: number;
}

export interface ProxyConfig {
  routes: Route[];
  controlPort: number;
}

export type ConfigResult = { ok: true; config: ProxyConfig } | { ok: false; errors: string[] };

export const DEFAULT_CONTROL_PORT = 7070;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// A DNS name or an IPv4/IPv6 literal: anything else is a typo that would only fail at connect time.
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?|[0-9A-Fa-f:.]+)$/;
const FIELDS = ['name', 'listen_port', 'upstream_host', 'upstream_port'];

type Env = Readonly<Record<string, string | undefined>>;

/** Quotes a value for an error line; long values are cut so one bad variable stays one line. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** One element of CG_PROXY_ROUTES; pushes an error per bad field. */
function parseRoute(raw: unknown, at: string, errors: string[]): Route | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.push(`${at} must be an object with ${FIELDS.join(', ')}`);
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const before = errors.length;
  for (const key of Object.keys(r)) if (!FIELDS.includes(key)) errors.push(`${at}.${key} is not a route field`);
  if (typeof r.name !== 'string' || !NAME.test(r.name)) {
    errors.push(`${at}.name=${show(r.name)} must match ${NAME.source}`);
  }
  for (const key of ['listen_port', 'upstream_port']) {
    if (!isPort(r[key])) errors.push(`${at}.${key}=${show(r[key])} must be an integer between 1 and 65535`);
  }
  if (typeof r.upstream_host !== 'string' || !HOST.test(r.upstream_host)) {
    errors.push(`${at}.upstream_host=${show(r.upstream_host)} must be a host name or IP address`);
  }
  if (errors.length > before) return undefined;
  const { name, listen_port, upstream_host, upstream_port } = r as unknown as Route;
  return { name, listen_port, upstream_host, upstream_port };
}

function parseControlPort(env: Env, errors: string[]): number {
  const raw = env.CG_PROXY_CONTROL_PORT;
  if (raw === undefined || raw === '') return DEFAULT_CONTROL_PORT;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!isPort(port)) errors.push(`CG_PROXY_CONTROL_PORT=${show(raw)} must be an integer between 1 and 65535`);
  return port;
}

function parseRoutes(env: Env, errors: string[]): Route[] {
  const raw = env.CG_PROXY_ROUTES;
  if (raw === undefined || raw.trim() === '') {
    errors.push('CG_PROXY_ROUTES is required: a JSON array of {name, listen_port, upstream_host, upstream_port}');
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    errors.push(`CG_PROXY_ROUTES is not valid JSON: ${(err as Error).message}`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    errors.push(`CG_PROXY_ROUTES must be a non-empty JSON array of routes, not ${show(parsed)}`);
    return [];
  }
  const routes: Route[] = [];
  parsed.forEach((r, i) => {
    const route = parseRoute(r, `CG_PROXY_ROUTES[${i}]`, errors);
    if (route) routes.push(route);
  });
  return routes;
}

export function parseProxyConfig(env: Env): ConfigResult {
  const errors: string[] = [];
  const controlPort = parseControlPort(env, errors);
  const routes = parseRoutes(env, errors);
  // One listener per port: a duplicate would fail with EADDRINUSE after half the routes started.
  const taken = new Map<number, string>([[controlPort, 'CG_PROXY_CONTROL_PORT']]);
  routes.forEach((route, i) => {
    const other = taken.get(route.listen_port);
    if (other) errors.push(`CG_PROXY_ROUTES[${i}].listen_port=${route.listen_port} is already used by ${other}`);
    taken.set(route.listen_port, `CG_PROXY_ROUTES[${i}]`);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: { routes, controlPort } };
}
