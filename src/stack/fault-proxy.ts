import { request } from 'undici';
import { isProxied, type RegionTarget, type StackTarget } from './target.ts';

// The control API of a region's fault proxy (services/fault-proxy), on loopback. A toxic is
// one fault on the way from the region to one dependency; the proxy lifts it by itself at
// its expiry, so a gate that dies leaves nothing behind.

export interface ToxicSpec {
  /** The dependency: the proxy's route of that name. */
  route: string;
  kind: string;
  duration_ms: number;
  [param: string]: string | number;
}

export interface Toxic {
  id: string;
  route: string;
  kind: string;
  /** Requests or connections it acted on so far: the evidence that it took effect. */
  affected: number;
}

const TIMEOUT_MS = 5000;

/** The control API of a region's proxy, or undefined when the stack has none. */
export function proxyUrl(target: StackTarget, region: RegionTarget): string | undefined {
  return isProxied(target.service) ? `http://${target.host}:${region.proxyPort}` : undefined;
}

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await request(url, {
    method,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.statusCode, body: parsed };
}

function errorOf(body: unknown): string {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
    ? (body as { error: string }).error
    : JSON.stringify(body);
}

function toxicOf(body: unknown): Toxic {
  const b = (body ?? {}) as Record<string, unknown>;
  return {
    id: String(b.id),
    route: String(b.route),
    kind: String(b.kind),
    affected: typeof b.affected === 'number' ? b.affected : 0,
  };
}

/** Starts a toxic; throws with the proxy's reason when it refuses. */
export async function addToxic(url: string, spec: ToxicSpec): Promise<Toxic> {
  const res = await call('POST', `${url}/toxics`, spec);
  if (res.status !== 201)
    throw new Error(
      `the fault proxy at ${url} refused the ${spec.kind} fault on ${spec.route}: ` +
        `HTTP ${res.status} ${errorOf(res.body)}`,
    );
  return toxicOf(res.body);
}

/** The toxics in place now. */
export async function listToxics(url: string): Promise<Toxic[]> {
  const res = await call('GET', `${url}/toxics`);
  const list = (res.body as { toxics?: unknown } | undefined)?.toxics;
  if (res.status !== 200 || !Array.isArray(list))
    throw new Error(`the fault proxy at ${url} did not list its faults: HTTP ${res.status}`);
  return list.map(toxicOf);
}

/** What a proxy has forwarded on a route so far: connections, and HTTP requests among them. */
export interface RouteCounts {
  name: string;
  connections: number;
  requests: number;
}

export async function listRoutes(url: string): Promise<RouteCounts[]> {
  const res = await call('GET', `${url}/routes`);
  const list = (res.body as { routes?: unknown } | undefined)?.routes;
  if (res.status !== 200 || !Array.isArray(list))
    throw new Error(`the fault proxy at ${url} did not list its routes: HTTP ${res.status}`);
  return list.map((r: Record<string, unknown>) => ({
    name: String(r.name),
    connections: Number(r.connections) || 0,
    requests: Number(r.requests) || 0,
  }));
}

/** Lifts a toxic; its final count, or undefined when it had already expired. */
export async function liftToxic(url: string, id: string): Promise<Toxic | undefined> {
  const res = await call('DELETE', `${url}/toxics/${encodeURIComponent(id)}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200)
    throw new Error(`the fault proxy at ${url} did not lift fault ${id}: HTTP ${res.status} ${errorOf(res.body)}`);
  return toxicOf(res.body);
}

/** Lifts every toxic of a proxy (a leftover check or a repair); how many there were. */
export async function liftAllToxics(url: string): Promise<number> {
  const res = await call('DELETE', `${url}/toxics`);
  if (res.status !== 200)
    throw new Error(`the fault proxy at ${url} did not lift its faults: HTTP ${res.status} ${errorOf(res.body)}`);
  const lifted = (res.body as { lifted?: unknown }).lifted;
  return typeof lifted === 'number' ? lifted : 0;
}
