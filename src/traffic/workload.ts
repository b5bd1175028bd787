import { randomUUID } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { DEMO_ROUTES, DEMO_WRITE_STATUS, demoOrderBody, demoOrderPath } from '../target/demo.ts';
import type { HttpMethod, ProbeSpec, RequestSpec, ServicePlan, TrafficEntry } from '../target/service.ts';
import { DEFAULT_MIX, type RequestKind, type RequestMix } from './mix.ts';
import { fieldAt } from '../util/json.ts';
import type { AcknowledgedWrite } from './store.ts';

// What the synthetic traffic sends and what its answers mean: the demo region service's
// routes (DEMO_WORKLOAD, exactly the requests the gate always sent), or a user's service
// built from chaos-gate.yml's `traffic:` and `probe:` (userWorkload). The generator draws a
// kind from the mix (mix.ts) and the workload turns it into a request; at the end of an
// experiment the read-back (chaos/readback.ts) reads every acknowledged write with the same
// workload. Picking, rendering and parsing are pure; only `exchange` does I/O.

/** An answer as the gate read it; status 0: none (network error or time-out). */
export interface Answer {
  status: number;
  text: string;
  /** The hop the service named in its attribution header; undefined: none named (or none asked). */
  hop?: string;
}

/** What one answer means for the run. */
export interface Verdict {
  /** An answer outside the request's expected statuses: an error for a user's traffic (the demo's never sets it). */
  unexpected: boolean;
  /** A write the service acknowledged: kept, read by later requests and read back at the end. */
  acknowledged?: Pick<AcknowledgedWrite, 'id' | 'item' | 'uuids'>;
  /** A read that says an acknowledged write is gone. */
  missing: boolean;
}

/** One HTTP request, rendered. */
export interface HttpCall {
  method: HttpMethod;
  /** Path and query, every template filled in. */
  path: string;
  /** JSON text, sent as application/json; undefined: no body. */
  body: string | undefined;
}

/** A request of the synthetic traffic, and how to read its answer. */
export interface Outgoing extends HttpCall {
  /** The observation's route: the demo's route names, a user's "METHOD path-template". */
  route: string;
  settle(answer: Answer): Verdict;
}

export interface DrawContext {
  /** Uniform [0,1) source (seeded by the run). */
  random: () => number;
  /** The region's acknowledged writes: a read picks one of them. */
  writes: readonly AcknowledgedWrite[];
  /** The generator's request count, from 1 (the demo's items are named after it). */
  seq: number;
  /** Whose request this is: a user's service without shared data reads its own cohort's writes only. */
  cohort?: AcknowledgedWrite['cohort'];
}

export type ReadBackOutcome = 'ok' | 'missing' | 'retry';

/** How an acknowledged write is read back at the end of an experiment. */
export interface ReadBackSpec {
  request(write: AcknowledgedWrite): HttpCall;
  /** `answer` is a real answer (status > 0): no answer at all is retried by the caller. */
  judge(write: AcknowledgedWrite, answer: Answer): ReadBackOutcome;
}

export interface Workload {
  /** The mix when the caller gives none. */
  readonly mix: RequestMix;
  /** The request of a drawn kind (a read with no acknowledged write to read becomes a write). */
  request(kind: RequestKind, context: DrawContext): Outgoing;
  /** undefined: the workload writes nothing to read back. */
  readonly readBack: ReadBackSpec | undefined;
  /** The response header naming the hop an error came from (service.attribution); undefined: none. */
  readonly hopHeader?: string;
}

// ---- the demo -------------------------------------------------------------------------

const PLAIN: Verdict = { unexpected: false, missing: false };

/** The demo region service: health checks, orders written (201 with a numeric id) and read back by id. */
export const DEMO_WORKLOAD: Workload = {
  mix: DEFAULT_MIX,
  request(kind, { random, writes, seq }) {
    if (kind === 'write') {
      const body = demoOrderBody(seq);
      return {
        route: DEMO_ROUTES.write,
        method: 'POST',
        path: DEMO_ROUTES.write,
        body: JSON.stringify(body),
        settle: ({ status, text }) => {
          const id = status === DEMO_WRITE_STATUS ? fieldAt(parseJson(text), 'id') : undefined;
          return typeof id === 'number' ? { ...PLAIN, acknowledged: { id, item: body.item } } : PLAIN;
        },
      };
    }
    if (kind === 'read') {
      const pick = pickWrite(writes, random());
      return {
        route: DEMO_ROUTES.read,
        method: 'GET',
        path: demoOrderPath(pick?.id ?? 1),
        body: undefined,
        settle: ({ status }) => ({ ...PLAIN, missing: status === 404 }),
      };
    }
    return { route: DEMO_ROUTES.health, method: 'GET', path: DEMO_ROUTES.health, body: undefined, settle: () => PLAIN };
  },
  readBack: {
    request: (write) => ({ method: 'GET', path: demoOrderPath(write.id), body: undefined }),
    // A 404, or another item under its id, is a lost write.
    judge: (write, { status, text }) => {
      if (status === 404) return 'missing';
      if (status !== 200) return 'retry';
      const order = parseJson(text);
      if (order === NOT_JSON) return 'retry';
      return fieldAt(order, 'item') === write.item ? 'ok' : 'missing';
    },
  },
};

// ---- a user's service -----------------------------------------------------------------

/**
 * A user's mix. With a probe: 70% the `traffic` entries (by their relative weights), 15%
 * probe writes, 15% probe reads of earlier acknowledged writes; enough writes to judge
 * durability without drowning the service's own request mix. Without a probe: 100% traffic
 * entries. The `health` share is the plain one: the demo's health checks, a user's entries.
 */
export const USER_MIX: RequestMix = { health: 0.7, write: 0.15, read: 0.15 };
export const TRAFFIC_ONLY_MIX: RequestMix = { health: 1, write: 0, read: 0 };

/**
 * The workload of a user's service. Without `traffic` entries its health check is the
 * traffic. `uuid` fills `{{ uuid }}` (injected for tests); one value per request, the same
 * in every place of that request (so PUT /items/{{ uuid }} with {"id": "{{ uuid }}"} agree).
 */
export function userWorkload(
  plan: Pick<ServicePlan, 'traffic' | 'probe' | 'health'> &
    Partial<Pick<ServicePlan, 'data' | 'dependencies' | 'attribution'>>,
  uuid: () => string = randomUUID,
): Workload {
  // Canary and baseline share a region's data only through its volume or a dependency; without
  // either, a canary reading the baseline's writes would find none and look broken.
  const shared = plan.data !== undefined || plan.dependencies !== undefined;
  const entries: readonly TrafficEntry[] =
    plan.traffic.length > 0
      ? plan.traffic
      : [{ method: 'GET', path: plan.health.path, expectStatus: plan.health.expectStatus, weight: 1 }];
  const { probe } = plan;
  const entry = (random: () => number): Outgoing => {
    const spec = pickEntry(entries, random());
    return {
      ...render(spec, { uuid: uuid() }),
      settle: ({ status }) => ({ ...PLAIN, unexpected: isUnexpected(spec, status) }),
    };
  };
  return {
    mix: probe ? USER_MIX : TRAFFIC_ONLY_MIX,
    request(kind, { random, writes, cohort }) {
      // Without a probe every kind is an entry: a caller's mix with writes still sends the service's own traffic.
      if (!probe || kind === 'health') return entry(random);
      const readable = shared || cohort === undefined ? writes : writes.filter((w) => w.cohort === cohort);
      const write = kind === 'read' ? pickWrite(readable, random()) : undefined;
      return write ? probeRead(probe, write, uuid()) : probeWrite(probe, uuid());
    },
    readBack: probe ? probeReadBack(probe, uuid) : undefined,
    ...(plan.attribution ? { hopHeader: plan.attribution.header } : {}),
  };
}

function probeWrite(probe: ProbeSpec, uuid: string): Outgoing {
  const call = render(probe.write, { uuid });
  const uuids = call.body?.includes(uuid) ? [uuid] : [];
  return {
    ...call,
    settle: ({ status, text }) => {
      const id = probe.write.expectStatus.includes(status) ? parseIdField(text, probe.write.id) : undefined;
      const verdict = { ...PLAIN, unexpected: isUnexpected(probe.write, status) };
      return id === undefined ? verdict : { ...verdict, acknowledged: { id, uuids } };
    },
  };
}

function probeRead(probe: ProbeSpec, write: AcknowledgedWrite, uuid: string): Outgoing {
  return {
    ...render(probe.read, { uuid, id: write.id }),
    settle: ({ status }) => ({ unexpected: isUnexpected(probe.read, status), missing: isGone(status) }),
  };
}

function probeReadBack(probe: ProbeSpec, uuid: () => string): ReadBackSpec {
  return {
    request: (write) => {
      const { method, path, body } = render(probe.read, { uuid: uuid(), id: write.id });
      return { method, path, body };
    },
    judge: (write, answer) => judgeProbeRead(probe.read.expectStatus, write.uuids ?? [], answer),
  };
}

/**
 * A probe read-back: ok when the status is expected and the answer holds every uuid the
 * write sent, so an item that is there but corrupted counts as lost like one that is gone;
 * 404 or 410 is gone; anything else is retried (a failed answer is no evidence either way).
 */
export function judgeProbeRead(
  expectStatus: readonly number[],
  uuids: readonly string[],
  answer: Answer,
): ReadBackOutcome {
  if (isGone(answer.status)) return 'missing';
  if (!expectStatus.includes(answer.status)) return 'retry';
  return uuids.every((u) => answer.text.includes(u)) ? 'ok' : 'missing';
}

function isGone(status: number): boolean {
  return status === 404 || status === 410;
}

/** An answer (status 0 is none) outside the expected statuses. */
export function isUnexpected(spec: Pick<RequestSpec, 'expectStatus'>, status: number): boolean {
  return status !== 0 && !spec.expectStatus.includes(status);
}

// ---- pure parts -----------------------------------------------------------------------

/** The observation's route of a user's request: its method and path template. */
export function routeOf(spec: Pick<RequestSpec, 'method' | 'path'>): string {
  return `${spec.method} ${spec.path}`;
}

export interface TemplateValues {
  uuid?: string;
  id?: string | number;
}

const TEMPLATE = /\{\{\s*(uuid|id)\s*\}\}/g;
const ONLY_ID = /^\{\{\s*id\s*\}\}$/;

/** Fills the templates of a text; one with no value stays as written. */
function renderText(text: string, values: TemplateValues, encode: (s: string) => string): string {
  return text.replace(TEMPLATE, (whole, name: 'uuid' | 'id') => {
    const value = values[name];
    return value === undefined ? whole : encode(String(value));
  });
}

/** A path with its templates filled in, each value URL-encoded. */
export function renderPath(path: string, values: TemplateValues): string {
  return renderText(path, values, encodeURIComponent);
}

/**
 * A JSON body with the templates of its string leaves filled in; a leaf that
 * is only `{{ id }}` takes the id as it came (a number stays a number).
 */
export function renderBody(body: unknown, values: TemplateValues): unknown {
  if (typeof body === 'string')
    return values.id !== undefined && ONLY_ID.test(body) ? values.id : renderText(body, values, (s) => s);
  if (Array.isArray(body)) return body.map((b: unknown) => renderBody(b, values));
  if (body !== null && typeof body === 'object')
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, renderBody(v, values)]));
  return body;
}

/** A request spec rendered, with its route. */
export function render(spec: RequestSpec, values: TemplateValues): HttpCall & { route: string } {
  return {
    route: routeOf(spec),
    method: spec.method,
    path: renderPath(spec.path, values),
    body: spec.body === undefined ? undefined : JSON.stringify(renderBody(spec.body, values)),
  };
}

/** The entry a uniform draw u in [0,1) picks, by relative weight. */
export function pickEntry<T extends { weight: number }>(entries: readonly T[], u: number): T {
  const total = entries.reduce((sum, e) => sum + Math.max(0, e.weight), 0);
  let x = u * total;
  for (const e of entries) {
    x -= Math.max(0, e.weight);
    if (x < 0) return e;
  }
  const last = entries.at(-1);
  if (last === undefined) throw new Error('pickEntry: no entries');
  return last;
}

/** The acknowledged write a uniform draw u in [0,1) picks; undefined when there is none. */
export function pickWrite(writes: readonly AcknowledgedWrite[], u: number): AcknowledgedWrite | undefined {
  return writes[Math.floor(u * writes.length)];
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** The id a write answered: a string (not empty) or a finite number at `field` of its JSON. */
export function parseIdField(text: string, field: string): string | number | undefined {
  const id = fieldAt(parseJson(text), field);
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  if (typeof id === 'string' && id !== '') return id;
  return undefined;
}

// ---- I/O --------------------------------------------------------------------------------

/** A hop name as shown in reports: the header's first value, bounded and printable. */
export function hopName(value: string | string[] | undefined): string | undefined {
  const first = (Array.isArray(value) ? value[0] : value)?.trim();
  return first ? first.replace(/[^\x20-\x7e]/g, '?').slice(0, 64) : undefined;
}

/**
 * Sends one call; no answer within timeoutMs (or any network
 * error) is status 0. `hopHeader`: read the hop an error names.
 */
export async function exchange(
  dispatcher: Dispatcher,
  baseUrl: string,
  call: HttpCall,
  timeoutMs: number,
  hopHeader?: string,
): Promise<Answer> {
  try {
    const res = await request(baseUrl + call.path, {
      method: call.method,
      dispatcher,
      signal: AbortSignal.timeout(timeoutMs),
      ...(call.body !== undefined ? { body: call.body, headers: { 'content-type': 'application/json' } } : {}),
    });
    const hop = hopHeader === undefined ? undefined : hopName(res.headers[hopHeader]);
    return { status: res.statusCode, text: await res.body.text(), ...(hop === undefined ? {} : { hop }) };
  } catch {
    return { status: 0, text: '' };
  }
}
