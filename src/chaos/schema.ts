import { z } from 'zod';
import { UsageError } from '../util/errors.ts';
import { zodIssues } from '../util/issues.ts';
import { MAX_SHOWN_CHARS } from '../util/limits.ts';
import { quote } from '../util/shown.ts';
import {
  DEFAULT_EFFECT,
  DEFAULT_THRESHOLDS,
  EVIDENCE,
  EVIDENCE_NAMES,
  effectKey,
  evidenceFits,
  MEASUREMENT_NAMES,
  MEASUREMENTS,
  thresholdKey,
  unknownThresholdRule,
  type EvidenceDef,
} from './catalogue.ts';
import { COMPOSE_SERVICE_NAME } from '../target/service.ts';
import {
  CPU_METHODS,
  MEMORY_METHODS,
  DEFAULT_CGROUP_CPUS,
  DEPENDENCY_MODES,
  FAULT_KINDS,
  type DependencyMode,
  type EffectFloor,
  type Experiment,
  type Fault,
  type ProxyParams,
  type Threshold,
} from './experiment.ts';
import { EXPERIMENT_NAME_PATTERN } from './experiment-list.ts';

// One experiment file (chaos/*.yml), snake_case, validated strictly: an unknown field or a
// value out of range is refused with the field path and the rule, never ignored.
//
//   name: network-latency                  # lowercase letters, digits, "-"; unique in the suite
//   description: 300 ms more on every answer of one region; callers see it, nothing fails
//   target: us-east                        # a region, a list [us-west, eu-west], or random
//   fault: { kind: latency, duration_seconds: 8, delay_ms: 300, jitter_ms: 50 }
//   load: { rps: 40, write_share: 0.3, read_share: 0.3, other_regions_rps: 5, timeout_ms: 2000 }
//   windows: { before_seconds: 5, after_seconds: 5, recovery_deadline_seconds: 30 }
//   thresholds: { max_p99_latency_ms_during: 1000, max_error_rate_during: 0.01 }
//   effect: { min_median_latency_rise_ms: 100 }   # evidence the fault took effect (one is enough)
//
// Fault kinds and their fields (every kind but kill takes duration_seconds):
//   kill                         SIGKILL of the container's main process (a crash)
//   latency  delay_ms, jitter_ms, method: auto | tc-netem | fault-endpoint
//   cpu      method: fault-endpoint (the demo's busy loop) | cgroup (a CFS quota from outside:
//            the container keeps `cpus` of a core, default 0.1; its own throttling counters
//            show the effect, however loaded the host)
//   db_unavailable | partition
//   memory   mb, method: fault-endpoint (the demo allocates `mb` MiB inside) | cgroup (from
//            outside: the container's memory limit set to its own memory plus `mb` MiB; its
//            cgroup must report the limit, and its usage is sampled while the limit holds)
//   failure_rate  rate            share of requests the service fails on purpose
//   dependency  service, mode       a service of your dependencies file fails: its container
//            (pause | stop), or the way to it in the region's fault proxy: latency (delay_ms,
//            jitter_ms), http_error (status, share, first_n), reset (share), timeout (share),
//            bandwidth (rate_kbps); errors (share): http_error 503 where the way speaks HTTP,
//            reset where it does not
// Thresholds not written take the kind's defaults (catalogue.ts); an `effect` written
// replaces the kind's default evidence as a whole (its entries are alternatives, so adding
// one to the defaults could only make the evidence weaker).

const seconds = (max: number) => z.number().gt(0, 'must be greater than 0').max(max, `must be at most ${max}`);
const int = (min: number, max: number) =>
  z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const duration = seconds(300);

const faultSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('kill') }),
    z
      .strictObject({
        kind: z.literal('latency'),
        duration_seconds: duration,
        delay_ms: int(1, 10_000),
        jitter_ms: int(0, 10_000).default(0),
        method: z.enum(['auto', 'tc-netem', 'fault-endpoint']).default('auto'),
      })
      .refine((f) => f.jitter_ms <= f.delay_ms, {
        path: ['jitter_ms'],
        message: 'must be at most delay_ms (a delay cannot go below 0)',
      }),
    z
      .strictObject({
        kind: z.literal('cpu'),
        duration_seconds: duration,
        method: z.enum(CPU_METHODS).default('fault-endpoint'),
        cpus: z
          .number()
          .min(0.01, 'must be at least 0.01 (a CFS quota of 1 ms in 100 ms)')
          .max(1, 'must be at most 1 (a core)')
          .optional(),
      })
      .refine((f) => f.cpus === undefined || f.method === 'cgroup', {
        path: ['cpus'],
        message: 'applies only with method: cgroup',
      }),
    z.strictObject({
      kind: z.literal('memory'),
      duration_seconds: duration,
      mb: int(1, 4096),
      method: z.enum(MEMORY_METHODS).default('fault-endpoint'),
    }),
    z.strictObject({ kind: z.literal('db_unavailable'), duration_seconds: duration }),
    z.strictObject({
      kind: z.literal('failure_rate'),
      duration_seconds: duration,
      rate: z.number().gt(0, 'must be greater than 0').max(1, 'must be at most 1'),
    }),
    z.strictObject({ kind: z.literal('partition'), duration_seconds: duration }),
    z
      .strictObject({
        kind: z.literal('dependency'),
        duration_seconds: duration,
        service: z
          .string()
          .regex(COMPOSE_SERVICE_NAME, 'must be a service of your dependencies file (a Compose service name)'),
        mode: z.enum(DEPENDENCY_MODES).default('pause'),
        delay_ms: int(1, 10_000).optional(),
        jitter_ms: int(0, 10_000).optional(),
        status: int(500, 599).optional(),
        share: z.number().gt(0, 'must be greater than 0').max(1, 'must be at most 1').optional(),
        first_n: int(1, 100_000).optional(),
        rate_kbps: int(1, 1_000_000).optional(),
      })
      .superRefine(proxyFieldRules),
  ],
  {
    error: (issue) => {
      const kinds = FAULT_KINDS.map((k) => JSON.stringify(k)).join(', ');
      const given = (issue.input as { kind?: unknown } | undefined)?.kind;
      return given === undefined ? `is required (one of ${kinds})` : `must be one of ${kinds}, got ${shown(given)}`;
    },
  },
);

/** Which proxy fields each dependency mode takes, and which it needs. */
const PROXY_FIELDS: Record<DependencyMode, { allowed: readonly string[]; required: readonly string[] }> = {
  pause: { allowed: [], required: [] },
  stop: { allowed: [], required: [] },
  latency: { allowed: ['delay_ms', 'jitter_ms'], required: ['delay_ms'] },
  errors: { allowed: ['share'], required: [] },
  http_error: { allowed: ['status', 'share', 'first_n'], required: [] },
  reset: { allowed: ['share'], required: [] },
  timeout: { allowed: ['share'], required: [] },
  bandwidth: { allowed: ['rate_kbps'], required: ['rate_kbps'] },
};

function proxyFieldRules(f: Record<string, unknown> & { mode: DependencyMode }, ctx: z.RefinementCtx): void {
  const rule = PROXY_FIELDS[f.mode];
  for (const key of ['delay_ms', 'jitter_ms', 'status', 'share', 'first_n', 'rate_kbps']) {
    const modes = DEPENDENCY_MODES.filter((m) => PROXY_FIELDS[m].allowed.includes(key)).join(', ');
    if (f[key] !== undefined && !rule.allowed.includes(key))
      ctx.addIssue({ code: 'custom', path: [key], message: `applies only with mode ${modes} (mode is ${f.mode})` });
  }
  for (const key of rule.required.filter((k) => f[k] === undefined))
    ctx.addIssue({ code: 'custom', path: [key], message: `is required with mode ${f.mode}` });
  if (typeof f.jitter_ms === 'number' && typeof f.delay_ms === 'number' && f.jitter_ms > f.delay_ms) {
    ctx.addIssue({
      code: 'custom',
      path: ['jitter_ms'],
      message: 'must be at most delay_ms (a delay cannot go below 0)',
    });
  }
}

// zod 4 refuses .inf/.nan as "not a number"; the message says what is wrong instead.
const finite = z.number({
  error: (i) =>
    typeof i.input === 'number' ? 'must be a finite number (.inf and .nan are not thresholds)' : undefined,
});

/** An experiment's thresholds, and the gate config's overrides of them: one set of rules. */
export const thresholdsSchema = z.strictObject(
  Object.fromEntries(
    MEASUREMENT_NAMES.map((name) => {
      const base = finite.min(0, 'must be 0 or more');
      return [
        thresholdKey(name),
        (MEASUREMENTS[name].unit === 'ratio' ? base.max(1, 'must be at most 1 (a share)') : base).optional(),
      ];
    }),
  ),
);

// A floor of 0 holds whatever the fault did, and an empty list asks for nothing: both would
// switch the evidence off, which is what `effect` exists to prevent.
const effectSchema = z
  .strictObject(
    Object.fromEntries(
      EVIDENCE_NAMES.map((name) => [
        effectKey(name),
        z.number().gt(0, 'must be greater than 0 (a floor of 0 holds whatever the fault did)').optional(),
      ]),
    ),
  )
  .refine((o) => Object.values(o).some((v) => v !== undefined), {
    message: "must name at least one piece of evidence (leave effect out for the fault kind's default)",
  });

function experimentSchema(regions: readonly string[]) {
  const notARegion = (input: unknown) => `${shown(input)} is not a region of the stack (${regions.join(', ')})`;
  const region = z.string().refine((r) => regions.includes(r), { error: (i) => notARegion(i.input) });
  return z
    .strictObject({
      name: z.string().regex(EXPERIMENT_NAME_PATTERN, 'must be 1 to 63 of lowercase letters, digits and "-"'),
      description: z.string().trim().min(1, 'must say what the experiment shows'),
      target: z.union([z.literal('random'), region, z.array(region).min(1, 'must list at least one region')], {
        error: (i) => (i.input === undefined ? 'is required (a region, a list of regions, or "random")' : undefined),
      }),
      fault: faultSchema,
      load: z
        .strictObject({
          rps: z.number().gt(0, 'must be greater than 0').max(500, 'must be at most 500').default(40),
          write_share: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0.3),
          read_share: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0.3),
          other_regions_rps: z.number().min(0, 'must be 0 or more').max(500, 'must be at most 500').default(5),
          timeout_ms: int(100, 30_000).default(2000),
        })
        .refine((l) => l.write_share + l.read_share <= 1, {
          path: ['read_share'],
          message: 'write_share + read_share must be at most 1 (the rest are health checks)',
        })
        .prefault({}),
      windows: z
        .strictObject({
          before_seconds: z
            .number()
            .min(1, 'must be at least 1 (the baseline needs data)')
            .max(300, 'must be at most 300')
            .default(5),
          after_seconds: z.number().min(1, 'must be at least 1').max(300, 'must be at most 300').default(5),
          recovery_deadline_seconds: seconds(600).default(30),
        })
        .prefault({}),
      thresholds: thresholdsSchema.prefault({}),
      effect: effectSchema.optional(),
    })
    .superRefine((e, ctx) => {
      for (const name of EVIDENCE_NAMES) {
        if (e.effect?.[effectKey(name)] === undefined || evidenceFits(name, e.fault.kind)) continue;
        const def: EvidenceDef = EVIDENCE[name];
        ctx.addIssue({
          code: 'custom',
          path: ['effect', effectKey(name)],
          message: `can only be measured for a ${(def.kinds ?? []).join(' or ')} fault (fault.kind is ${e.fault.kind})`,
        });
      }
      if (Array.isArray(e.target)) {
        const seen = new Set<string>();
        e.target.forEach((r, i) => {
          if (seen.has(r))
            ctx.addIssue({ code: 'custom', path: ['target', i], message: `duplicate region ${shown(r)}` });
          seen.add(r);
        });
      }
    });
}

/** A value from the file quoted in a message: escaped and cut (it may be anything). */
function shown(value: unknown): string {
  if (typeof value === 'string') return quote(value, MAX_SHOWN_CHARS);
  return (JSON.stringify(value) ?? String(value)).slice(0, MAX_SHOWN_CHARS);
}

/** Validates one parsed file; throws a UsageError naming every problem with its field path. */
export function toExperiment(input: unknown, source: string, regions: readonly string[]): Experiment {
  const parsed = experimentSchema(regions).safeParse(input, { reportInput: true });
  if (!parsed.success) throw new UsageError(zodIssues(parsed.error, source, '').map(knownKeys));
  const e = parsed.data;
  const fault = toFault(e.fault);
  const written = new Map<string, number>();
  for (const [key, value] of Object.entries(e.thresholds)) if (value !== undefined) written.set(key, value);
  // Without traffic to other regions there is no blast radius to measure: that default goes.
  const others =
    e.load.other_regions_rps > 0 && !(Array.isArray(e.target) && regions.every((r) => e.target.includes(r)));
  const defaults = { ...DEFAULT_THRESHOLDS[e.fault.kind] };
  if (!others) delete defaults.other_regions_error_rate_during;
  const thresholds: Threshold[] = [];
  for (const name of MEASUREMENT_NAMES) {
    const value = written.get(thresholdKey(name)) ?? defaults[name];
    if (value !== undefined) thresholds.push({ measurement: name, comparator: MEASUREMENTS[name].comparator, value });
  }
  return {
    name: e.name,
    description: e.description,
    source,
    target:
      e.target === 'random' ? { random: true } : { regions: typeof e.target === 'string' ? [e.target] : e.target },
    fault,
    load: {
      rps: e.load.rps,
      writeShare: e.load.write_share,
      readShare: e.load.read_share,
      otherRegionsRps: e.load.other_regions_rps,
      timeoutMs: e.load.timeout_ms,
    },
    windows: {
      beforeSeconds: e.windows.before_seconds,
      afterSeconds: e.windows.after_seconds,
      recoveryDeadlineSeconds: e.windows.recovery_deadline_seconds,
    },
    thresholds,
    effect: effectFloors(fault, e.effect),
  };
}

/** An unknown key of thresholds or effect is answered with the keys that exist. */
function knownKeys<I extends { path: string; rule: string }>(i: I): I {
  if (!i.rule.startsWith('unknown field')) return i;
  if (i.path.startsWith('thresholds.')) return { ...i, rule: unknownThresholdRule() };
  if (i.path.startsWith('effect.'))
    return { ...i, rule: `unknown evidence (known: ${EVIDENCE_NAMES.map(effectKey).join(', ')})` };
  return i;
}

/** The file's effect, or the kind's default when it wrote none (never a mix of both). */
function effectFloors(fault: Fault, written: Readonly<Record<string, number | undefined>> | undefined): EffectFloor[] {
  // A cgroup fault is checked by its injector, on the container's own cgroup counters.
  const cgroup = (fault.kind === 'cpu' || fault.kind === 'memory') && fault.method === 'cgroup';
  const defaults = cgroup ? {} : (DEFAULT_EFFECT[fault.kind] ?? {});
  return EVIDENCE_NAMES.flatMap((name) => {
    const value = written ? written[effectKey(name)] : defaults[name];
    return value === undefined ? [] : [{ evidence: name, value }];
  });
}

function toFault(f: z.output<typeof faultSchema>): Fault {
  switch (f.kind) {
    case 'kill':
      return { kind: 'kill' };
    case 'cpu':
      return {
        kind: 'cpu',
        durationSeconds: f.duration_seconds,
        method: f.method,
        cpus: f.cpus ?? DEFAULT_CGROUP_CPUS,
      };
    case 'latency':
      return {
        kind: 'latency',
        durationSeconds: f.duration_seconds,
        delayMs: f.delay_ms,
        jitterMs: f.jitter_ms,
        method: f.method,
      };
    case 'memory':
      return { kind: 'memory', durationSeconds: f.duration_seconds, mb: f.mb, method: f.method };
    case 'failure_rate':
      return { kind: 'failure_rate', durationSeconds: f.duration_seconds, rate: f.rate };
    case 'dependency':
      return {
        kind: 'dependency',
        durationSeconds: f.duration_seconds,
        service: f.service,
        mode: f.mode,
        ...proxyParams(f),
      };
    default:
      return { kind: f.kind, durationSeconds: f.duration_seconds };
  }
}

/** The proxy parameters of a dependency fault, each mode's defaults filled in. */
function proxyParams(f: Extract<z.output<typeof faultSchema>, { kind: 'dependency' }>): ProxyParams {
  switch (f.mode) {
    case 'latency':
      return { ...(f.delay_ms === undefined ? {} : { delayMs: f.delay_ms }), jitterMs: f.jitter_ms ?? 0 };
    case 'http_error':
      return {
        status: f.status ?? 503,
        share: f.share ?? 1,
        ...(f.first_n === undefined ? {} : { firstN: f.first_n }),
      };
    case 'reset':
    case 'timeout':
    case 'errors':
      return { share: f.share ?? 1 };
    case 'bandwidth':
      return f.rate_kbps === undefined ? {} : { rateKbps: f.rate_kbps };
    default:
      return {};
  }
}
