import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { BaselinePlan, ImageSource, ProbeSpec, ServicePlan, TrafficEntry } from '../target/service.ts';
import { isInside } from '../util/paths.ts';
import { quote } from '../util/shown.ts';
import { dependenciesFileIssues } from './dependencies-file.ts';
import { UsageError, type InputIssue } from '../util/errors.ts';
import { zodIssues } from '../util/issues.ts';
import {
  MAX_BODY_BYTES,
  MAX_ISSUES,
  MAX_SERVICE_VARIABLES,
  MAX_SHOWN_CHARS,
  MAX_SHOWN_PATH_CHARS,
  MAX_TRAFFIC_ENTRIES,
} from '../util/limits.ts';
import { deepFreeze } from '../util/freeze.ts';

// The `service:` and `baseline:` sections of chaos-gate.yml: the user's own service as the
// target instead of the demo (issue 11), validated into target/service.ts's plans.
// The fields, with an example: README.md, "Your service: `service:` and `baseline:`".
//
// Everything here is pure (data in, plan or UsageError out) except serviceFileIssues, the
// one check that looks at the disk, which config/load.ts runs for a file it read.
// Local paths must stay inside the working directory or the config file's folder: a config
// from a pull request must not build a context of the runner's home into an image, and
// baseline.ref rebuilds the same paths from git.

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** What a traffic entry counts as success when it does not say: any 2xx or 3xx. */
const DEFAULT_TRAFFIC_STATUSES = Array.from({ length: 200 }, (_, i) => 200 + i);
const DEFAULT_BASELINE_REF = 'HEAD~1';

// ---- templates ----

/**
 * A template in a request's path or in a string of its body: `{{ name }}`, the name trimmed
 * (traffic/workload.ts fills in uuid and id, spaces inside the braces optional). Any name is
 * matched here so that an unknown one is refused rather than sent as it is.
 */
const TEMPLATE = /\{\{([^{}]*)\}\}/g;
type TemplateName = 'uuid' | 'id';
const KNOWN_TEMPLATES =
  '{{ uuid }}, a fresh uuid per request; {{ id }}, the id the probe write answered, in probe.read.path only';

/** The first problem with the templates of `text`, where only `allowed` are filled in. */
function templateIssue(text: string, allowed: readonly TemplateName[]): string | undefined {
  for (const [whole, inner = ''] of text.matchAll(TEMPLATE)) {
    const name = inner.trim();
    if ((allowed as readonly string[]).includes(name)) continue;
    if (allowed.length === 0)
      return (
        `has the template ${quote(whole, MAX_SHOWN_CHARS)}: ` +
        `templates are filled in traffic and probe requests only`
      );
    if (name === 'id') return '{{ id }} is known in probe.read.path only (the id the probe write answered)';
    return `unknown template ${quote(whole, MAX_SHOWN_CHARS)} (known: ${KNOWN_TEMPLATES})`;
  }
  // A "{{" left after the templates is one not closed, which would be sent as it is.
  return text.replace(TEMPLATE, '').includes('{{')
    ? 'has "{{" without its "}}" (a template is written {{ uuid }})'
    : undefined;
}

function hasTemplate(text: string, name: TemplateName): boolean {
  return [...text.matchAll(TEMPLATE)].some((m) => m[1]?.trim() === name);
}

// ---- fields ----

// Templates are taken out before the whitespace test: "{{ id }}" may have spaces inside.
const HTTP_PATH = /^\/[^\s\p{Cc}]*$/u;
const HTTP_PATH_RULE = 'must be an HTTP path: "/" first, no whitespace or control characters';

/** An HTTP path where `allowed` templates are filled in. */
function httpPath(allowed: readonly TemplateName[]) {
  return z
    .string()
    .max(2048, { error: 'must be at most 2048 characters', abort: true })
    .refine((p) => HTTP_PATH.test(p.replace(TEMPLATE, 'x')), { error: HTTP_PATH_RULE, abort: true })
    .superRefine((p, ctx) => {
      const issue = templateIssue(p, allowed);
      if (issue) ctx.addIssue({ code: 'custom', message: issue });
    });
}

const status = z
  .number()
  .int('must be a whole number')
  .min(100, 'must be an HTTP status, 100 to 599')
  .max(599, 'must be an HTTP status, 100 to 599');
const statuses = z.array(status).min(1, 'must list at least one status').max(20, 'must list at most 20 statuses');
const method = z.enum(METHODS);

// A JSON field of an answer; dots walk into objects ("data.id"), digits into lists.
const FIELD = /^[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*$/;
const field = z
  .string()
  .max(200, { error: 'must be at most 200 characters', abort: true })
  .regex(FIELD, 'must be a JSON field name: letters, digits, "_", "-" or "$", with "." to walk into objects (data.id)');

/** A file or folder of the repository, relative to the configuration file's folder. */
const localPath = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters (a path)')
  // eslint-disable-next-line no-control-regex -- a control character in a path is a mistake or a trick
  .refine((f) => !/[\u0000-\u001f\u007f]/.test(f), 'must not contain control characters');

// Names as a shell and docker take them; values as Compose does: numbers and booleans become text.
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const variableValue = z.union(
  [z.string().refine((v) => !v.includes('\0'), 'must not contain a NUL character'), z.number(), z.boolean()],
  { error: 'must be text, a finite number or true/false (not a mapping or a list)' },
);

/** env and build.args. An object with a catchall, as predict.dependencies: mapping messages worded alike. */
const variables = z
  .object({})
  .catchall(variableValue)
  .superRefine((vars, ctx) => {
    const names = Object.keys(vars);
    if (names.length > MAX_SERVICE_VARIABLES) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `has ${names.length} entries, more than the ${MAX_SERVICE_VARIABLES} allowed`,
      });
    }
    for (const name of names.filter((n) => !VARIABLE_NAME.test(n))) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'must be a variable name: letters, digits and "_", not starting with a digit',
      });
    }
  })
  .meta({ propertyNames: { pattern: VARIABLE_NAME.source } });

// [registry[:port]/]name[:tag][@sha256:digest] (Docker's reference grammar): as docker reads
// it, a first part is a registry only with a "." or a port, or as localhost; names are lowercase.
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const REGISTRY = `(?:(?:localhost|${DOMAIN_PART}(?:\\.${DOMAIN_PART})+)(?::[0-9]+)?|${DOMAIN_PART}:[0-9]+)`;
const NAME_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(
  `^(?:${REGISTRY}/)?${NAME_PART}(?:/${NAME_PART})*` +
    '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$',
);
// The length first: the pattern backtracks, so it only ever sees a short text.
const image = z
  .string()
  .max(255, { error: 'must be at most 255 characters (an image reference)', abort: true })
  .regex(
    IMAGE_REFERENCE,
    'must be a Docker image reference such as registry.example.com:5000/team/app:1.2 ' +
      'or app@sha256:<64 hex>: lowercase name parts, no whitespace',
  );

// A git revision that git can never read as an option, a range or two words.
const GIT_REF = /^[A-Za-z0-9._/~^@{}-]+$/;
const gitRef = z
  .string()
  .max(200, { error: 'must be at most 200 characters', abort: true })
  .superRefine((ref, ctx) => {
    const message = ref.startsWith('-')
      ? 'must not start with "-" (git would read it as an option)'
      : ref.includes('..')
        ? 'must not contain ".." (that is a range, not one revision)'
        : GIT_REF.test(ref)
          ? undefined
          : 'must be a git revision such as HEAD~1, main, v1.2.0 or a commit id: ' +
            'letters, digits and . _ / ~ ^ @ { } - only';
    if (message) ctx.addIssue({ code: 'custom', message });
  });

// The volume is mounted with docker's "-v name:PATH": no ":" or ",", no "." or ".." parts.
const CONTAINER_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._+@-]+)+$/;
const containerPath = z
  .string()
  .max(1024, { error: 'must be at most 1024 characters', abort: true })
  .regex(
    CONTAINER_PATH,
    'must be an absolute path in the container such as /data: "/"-separated names of letters, ' +
      'digits, ".", "_", "-", "+" or "@", no "." or ".." parts',
  );

// An HTTP field name (RFC 9110 token), matched without case as HTTP does.
const headerName = z
  .string()
  .max(100, { error: 'must be at most 100 characters', abort: true })
  .regex(
    /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/,
    "must be an HTTP header name such as x-failed-hop: letters, digits and !#$%&'*+.^_`|~- only",
  )
  .transform((h) => h.toLowerCase());

// ---- requests ----

/** A body is any JSON value, sent as application/json; size and contents are checked by bodyIssues. */
function body(allowed: readonly TemplateName[]) {
  return z.unknown().superRefine((value, ctx) => {
    for (const found of bodyIssues(value, allowed))
      ctx.addIssue({ code: 'custom', path: found.path, message: found.message });
  });
}

/** A GET or HEAD has no body: servers and proxies may drop or refuse one. */
function noBodyOnRead(r: { method: string; body?: unknown }, ctx: z.RefinementCtx): void {
  if ((r.method === 'GET' || r.method === 'HEAD') && r.body !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['body'],
      message: `a ${r.method} request has no body (use POST, PUT, PATCH or DELETE, or leave body out)`,
    });
  }
}

const trafficSchema = z
  .strictObject({
    method: method.default('GET'),
    path: httpPath(['uuid']),
    body: body(['uuid']).optional(),
    // Left out of the schema's defaults (200 numbers); toTrafficEntry fills them in.
    expect_status: statuses.optional(),
    weight: z
      .number()
      .gt(0, 'must be greater than 0 (weights are relative)')
      .max(1000, 'must be at most 1000')
      .default(1),
  })
  .superRefine(noBodyOnRead);

const probeSchema = z.strictObject({
  write: z
    .strictObject({
      method: method.default('POST'),
      path: httpPath(['uuid']),
      body: body(['uuid']).optional(),
      expect_status: statuses.default([200, 201]),
      id: field,
    })
    .superRefine(noBodyOnRead),
  read: z.strictObject({
    method: method.default('GET'),
    path: httpPath(['uuid', 'id']).refine(
      (p) => hasTemplate(p, 'id'),
      'must contain {{ id }}: the read fetches what the write created',
    ),
    expect_status: statuses.default([200]),
  }),
});

// ---- sections ----

/** The fields alone: an environment's override in the JSON Schema is a part of them (config/json-schema.ts). */
export const serviceFields = z.strictObject({
  build: z
    .strictObject({
      context: localPath.default('.'),
      dockerfile: localPath.default('Dockerfile'),
      args: variables.default({}),
    })
    .optional(),
  image: image.optional(),
  port: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be a port, 1 to 65535')
    .max(65535, 'must be a port, 1 to 65535'),
  health: z.strictObject({ path: httpPath([]), expect_status: statuses.default([200]) }),
  version: z.strictObject({ path: httpPath([]), field }).optional(),
  metrics: z.strictObject({ path: httpPath([]) }).optional(),
  env: variables.default({}),
  data: z.strictObject({ path: containerPath }).optional(),
  traffic: z
    .array(trafficSchema)
    .min(1, 'must list at least one request')
    .max(MAX_TRAFFIC_ENTRIES, `must list at most ${MAX_TRAFFIC_ENTRIES} requests`),
  probe: probeSchema.optional(),
  dependencies: localPath.optional(),
  attribution: z.strictObject({ header: headerName }).optional(),
});

export const serviceSchema = serviceFields.superRefine((s, ctx) => {
  if ((s.build === undefined) === (s.image === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: 'give exactly one of build (the candidate built from this workspace) or image (a prebuilt candidate)',
    });
  }
});

export const baselineSchema = z
  .strictObject({ ref: gitRef.optional(), image: image.optional() })
  .superRefine((b, ctx) => {
    if ((b.ref === undefined) === (b.image === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'give exactly one of ref (a git revision, built like service.build) or image (a prebuilt stable image)',
      });
    }
  });

type ServiceInput = z.output<typeof serviceSchema>;
type BaselineInput = z.output<typeof baselineSchema>;

/** The target the gate deploys: both undefined when there is no service (the demo is the target). */
export interface Target {
  service: ServicePlan | undefined;
  baseline: BaselinePlan | undefined;
}

/** Where local paths are resolved (`dir`, the config file's folder) and the folders they must stay in. */
export interface PathBase {
  dir: string;
  roots: readonly string[];
}

/** Validates `service:` and `baseline:` together (each rule of one depends on the other). */
export function toTarget(service: unknown, baseline: unknown, source: string, base: PathBase): Target {
  const s = service === undefined ? undefined : serviceSchema.safeParse(service, { reportInput: true });
  const b = baseline === undefined ? undefined : baselineSchema.safeParse(baseline, { reportInput: true });
  const issues = [
    ...(s?.error ? zodIssues(s.error, source, 'service') : []),
    ...(b?.error ? zodIssues(b.error, source, 'baseline') : []),
    ...baselineIssues(service, baseline, source),
  ];
  const plan = s?.data && toServicePlan(s.data, base.dir);
  if (plan) issues.push(...outsideIssues(plan, source, base));
  if (issues.length > 0) throw new UsageError(issues);
  return deepFreeze({ service: plan, baseline: plan && toBaselinePlan(b?.data) });
}

/** The rules between the two sections, read from what was written (so they show beside the sections' own). */
function baselineIssues(service: unknown, baseline: unknown, source: string): InputIssue[] {
  const issue = (path: string, rule: string): InputIssue[] => [{ source, path, rule }];
  if (baseline !== undefined && service === undefined)
    return issue(
      'baseline',
      'needs a service: section (without one, the demo is the target and brings its own baseline)',
    );
  // Only a prebuilt candidate needs more: with a build, the baseline is the build at a ref.
  if (!writes(service, 'image') || writes(service, 'build')) return [];
  if (baseline === undefined)
    return issue('service.image', 'needs a baseline to compare against: give baseline.image (the stable image)');
  if (writes(baseline, 'ref'))
    return issue(
      'baseline.ref',
      'cannot be used with service.image: there is nothing to build at a git revision; give baseline.image',
    );
  return [];
}

function writes(section: unknown, key: string): boolean {
  return typeof section === 'object' && section !== null && Object.hasOwn(section, key);
}

function toServicePlan(s: ServiceInput, dir: string): ServicePlan {
  return {
    source: imageSource(s, dir),
    port: s.port,
    health: { path: s.health.path, expectStatus: s.health.expect_status },
    version: s.version,
    metrics: s.metrics,
    env: asText(s.env),
    data: s.data,
    traffic: s.traffic.map(toTrafficEntry),
    probe: s.probe && toProbeSpec(s.probe),
    dependencies: s.dependencies === undefined ? undefined : resolve(dir, s.dependencies),
    attribution: s.attribution,
  };
}

function imageSource(s: ServiceInput, dir: string): ImageSource {
  if (!s.build) return { kind: 'image', image: s.image ?? '' };
  const context = resolve(dir, s.build.context);
  return { kind: 'build', context, dockerfile: resolve(context, s.build.dockerfile), args: asText(s.build.args) };
}

function asText(vars: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
}

function toTrafficEntry(t: z.output<typeof trafficSchema>): TrafficEntry {
  return {
    method: t.method,
    path: t.path,
    ...(t.body === undefined ? {} : { body: t.body }),
    expectStatus: t.expect_status ?? DEFAULT_TRAFFIC_STATUSES,
    weight: t.weight,
  };
}

function toProbeSpec(p: z.output<typeof probeSchema>): ProbeSpec {
  const { write, read } = p;
  return {
    write: {
      method: write.method,
      path: write.path,
      ...(write.body === undefined ? {} : { body: write.body }),
      expectStatus: write.expect_status,
      id: write.id,
    },
    read: { method: read.method, path: read.path, expectStatus: read.expect_status },
  };
}

/** Without a baseline, the service is built (baselineIssues requires one for an image): HEAD~1 is built alike. */
function toBaselinePlan(b: BaselineInput | undefined): BaselinePlan {
  if (b?.image !== undefined) return { source: { kind: 'image', image: b.image } };
  return { source: { kind: 'ref', ref: b?.ref ?? DEFAULT_BASELINE_REF } };
}

// ---- local paths ----

interface LocalPath {
  field: string;
  path: string;
  kind: 'file' | 'folder';
  /** What it was resolved against, for the message. */
  against: string;
}

/** The plan's paths on this machine, the build context first (the Dockerfile is inside it). */
function localPaths(plan: ServicePlan): LocalPath[] {
  const out: LocalPath[] = [];
  const configDir = "the configuration file's folder";
  if (plan.source.kind === 'build') {
    out.push({ field: 'service.build.context', path: plan.source.context, kind: 'folder', against: configDir });
    out.push({
      field: 'service.build.dockerfile',
      path: plan.source.dockerfile,
      kind: 'file',
      against: 'build.context',
    });
  }
  if (plan.dependencies !== undefined)
    out.push({ field: 'service.dependencies', path: plan.dependencies, kind: 'file', against: configDir });
  return out;
}

function outsideIssues(plan: ServicePlan, source: string, base: PathBase): InputIssue[] {
  const roots = base.roots.length > 0 ? base.roots : [base.dir];
  return pathIssues(plan, source, (p) =>
    roots.some((root) => isInside(root, p.path))
      ? undefined
      : `resolves to ${quote(p.path, MAX_SHOWN_PATH_CHARS)}, ` +
        `outside the working directory and the configuration file's folder: ` +
        'the gate builds and runs what the repository holds, nothing else on the machine',
  );
}

/** The one check that reads the disk: the build context, the Dockerfile and the dependencies file must exist. */
export function serviceFileIssues(plan: ServicePlan, source: string, roots: readonly string[]): InputIssue[] {
  const missing = pathIssues(plan, source, (p) =>
    kindOf(p.path) === p.kind
      ? undefined
      : `no ${p.kind} at ${quote(p.path, MAX_SHOWN_PATH_CHARS)} (resolved against ${p.against})`,
  );
  const deps = plan.dependencies;
  if (deps === undefined || missing.some((i) => i.path === 'service.dependencies')) return missing;
  return [...missing, ...dependenciesFileIssues(deps, roots)];
}

/** An issue for each local path `problem` finds one with; a bad context says it for its Dockerfile too. */
function pathIssues(plan: ServicePlan, source: string, problem: (p: LocalPath) => string | undefined): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const p of localPaths(plan)) {
    const rule = p.field === 'service.build.dockerfile' && issues.length > 0 ? undefined : problem(p);
    if (rule !== undefined) issues.push({ source, path: p.field, rule });
  }
  return issues;
}

function kindOf(path: string): 'file' | 'folder' | undefined {
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat?.isDirectory() ? 'folder' : stat?.isFile() ? 'file' : undefined;
  } catch {
    return undefined; // ENOTDIR, EACCES, a name too long: not there for the build either
  }
}

// ---- bodies ----

interface Found {
  path: (string | number)[];
  message: string;
}

/** A value of a body being walked: its parent's index in the walk and its key there, for its path. */
interface Visit {
  value: unknown;
  parent: number;
  key: string | number;
}

/**
 * A body's problems: over MAX_BODY_BYTES as JSON (the count stops there, so an alias that
 * refers to itself ends too), a value JSON cannot hold, a template not known here.
 */
function bodyIssues(body: unknown, allowed: readonly TemplateName[]): Found[] {
  const found: Found[] = [];
  const todo: Visit[] = [{ value: body, parent: -1, key: '' }];
  let bytes = 0;
  for (let i = 0; i < todo.length && found.length < MAX_ISSUES; i++) {
    const { value } = todo[i] as Visit;
    bytes += jsonBytes(value);
    if (bytes > MAX_BODY_BYTES)
      return [
        { path: [], message: `must be at most ${MAX_BODY_BYTES / 1024} KiB as JSON (it is sent with every request)` },
      ];
    if (Array.isArray(value)) value.forEach((v: unknown, k) => todo.push({ value: v, parent: i, key: k }));
    else if (isPlainObject(value))
      for (const [k, v] of Object.entries(value)) todo.push({ value: v, parent: i, key: k });
    else {
      const message = leafIssue(value, allowed);
      if (message) found.push({ path: pathOf(todo, i), message });
    }
  }
  return found;
}

/** Levels of a body a path names: aliases can nest a body thousands deep, and a message stays a line. */
const MAX_BODY_PATH = 16;

/** The keys from the body down to visit `i`, the first MAX_BODY_PATH of them (built for an issue only). */
function pathOf(todo: readonly Visit[], i: number): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at = i; at > 0; at = (todo[at] as Visit).parent) path.push((todo[at] as Visit).key);
  return path.reverse().slice(0, MAX_BODY_PATH);
}

/** The bytes `value` adds to the JSON text, not counting what it holds. */
function jsonBytes(value: unknown): number {
  if (Array.isArray(value)) return 2 + Math.max(0, value.length - 1);
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    return keys.reduce((n, k) => n + Buffer.byteLength(JSON.stringify(k)) + 1, 2 + Math.max(0, keys.length - 1));
  }
  if (typeof value === 'string') return Buffer.byteLength(JSON.stringify(value));
  return String(value).length;
}

function leafIssue(value: unknown, allowed: readonly TemplateName[]): string | undefined {
  if (typeof value === 'string') return templateIssue(value, allowed);
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : 'must be a finite number (JSON has no .inf or .nan)';
  if (value === null || typeof value === 'boolean') return undefined;
  return 'must be a JSON value: text, a number, true/false, null, a list or a mapping';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
