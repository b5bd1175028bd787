import type { Clock, Rng } from './clock.ts';

// In-memory fault state for the chaos engine. Every fault lifts itself after its duration;
// a restart clears them all, as nothing is persisted.

export type FaultSpec =
  | { kind: 'latency'; durationMs: number; delayMs: number; jitterMs: number }
  | { kind: 'failure_rate'; durationMs: number; rate: number }
  | { kind: 'db_unavailable'; durationMs: number }
  | { kind: 'cpu'; durationMs: number }
  | { kind: 'memory'; durationMs: number; mb: number };

export type FaultKind = FaultSpec['kind'];

export interface ActiveFault {
  id: number;
  spec: FaultSpec;
  expiresAt: number;
}

export type ParseResult = { ok: true; spec: FaultSpec } | { ok: false; error: string };

/** The extra fields each kind takes besides kind and duration_ms; [min, max, integer]. */
const FIELDS: Record<FaultKind, Record<string, [number, number, boolean]>> = {
  latency: { delay_ms: [0, 60_000, true], jitter_ms: [0, 60_000, true] },
  failure_rate: { rate: [0, 1, false] },
  db_unavailable: {},
  cpu: {},
  memory: { mb: [1, 4096, true] },
};
const OPTIONAL = new Set(['jitter_ms']);

function isKind(value: unknown): value is FaultKind {
  return typeof value === 'string' && Object.hasOwn(FIELDS, value);
}

/** Validates a POST /faults body; the error names the field and the rule. */
export function parseFaultSpec(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, error: 'body must be a JSON object' };
  const b = body as Record<string, unknown>;
  if (!isKind(b.kind)) return { ok: false, error: `"kind" must be one of ${Object.keys(FIELDS).join(', ')}` };
  const kind = b.kind;
  const rules: Record<string, [number, number, boolean]> = { duration_ms: [1, 600_000, true], ...FIELDS[kind] };
  // Unknown fields are refused so a misspelt parameter is not silently ignored.
  for (const key of Object.keys(b)) {
    if (key !== 'kind' && !Object.hasOwn(rules, key))
      return { ok: false, error: `"${key}" is not a field of a ${kind} fault` };
  }
  const values: Record<string, number> = {};
  for (const [key, [min, max, integer]] of Object.entries(rules)) {
    const v = b[key];
    if (v === undefined && OPTIONAL.has(key)) {
      values[key] = 0;
      continue;
    }
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
    if (!ok)
      return { ok: false, error: `"${key}" must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}` };
    values[key] = v;
  }
  const durationMs = values.duration_ms as number;
  switch (kind) {
    case 'latency':
      return {
        ok: true,
        spec: { kind, durationMs, delayMs: values.delay_ms as number, jitterMs: values.jitter_ms as number },
      };
    case 'failure_rate':
      return { ok: true, spec: { kind, durationMs, rate: values.rate as number } };
    case 'memory':
      return { ok: true, spec: { kind, durationMs, mb: values.mb as number } };
    default:
      return { ok: true, spec: { kind, durationMs } };
  }
}

/** The JSON shape of a fault in GET /faults. */
export function faultJson(f: ActiveFault): Record<string, unknown> {
  const { kind, durationMs, ...params } = f.spec;
  const snake = Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
  return { id: f.id, kind, expires_at: new Date(f.expiresAt).toISOString(), duration_ms: durationMs, ...snake };
}

interface Entry {
  fault: ActiveFault;
  /** Cancels the expiry timer and undoes the fault's effect. */
  lift: () => void;
}

export interface FaultOptions {
  /** CPU fault duty cycle: busy for busyMs, then yield for idleMs (default 50 / 10). */
  cpuBusyMs?: number;
  cpuIdleMs?: number;
}

const MIB = 1024 * 1024;

export class Faults {
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #options: Required<FaultOptions>;
  readonly #active = new Map<number, Entry>();
  #nextId = 1;

  constructor(clock: Clock, rng: Rng, options: FaultOptions = {}) {
    this.#clock = clock;
    this.#rng = rng;
    this.#options = { cpuBusyMs: 50, cpuIdleMs: 10, ...options };
  }

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = { id: this.#nextId++, spec, expiresAt: this.#clock.now() + spec.durationMs };
    const undo = this.#start(spec);
    const cancel = this.#clock.setTimer(spec.durationMs, () => this.#lift(fault.id));
    this.#active.set(fault.id, {
      fault,
      lift: () => {
        cancel();
        undo();
      },
    });
    return fault;
  }

  /** Lifts every active fault; returns how many there were. */
  liftAll(): number {
    const n = this.#active.size;
    for (const id of [...this.#active.keys()]) this.#lift(id);
    return n;
  }

  list(): ActiveFault[] {
    return [...this.#active.values()].map((e) => e.fault);
  }

  /** Delay to add to a request now: the newest latency fault's delay ± jitter, or 0. */
  latencyMs(): number {
    const spec = this.#newest('latency');
    if (!spec) return 0;
    return Math.max(0, Math.round(spec.delayMs + (this.#rng() * 2 - 1) * spec.jitterMs));
  }

  /** The newest failure_rate fault's rate, overriding FAILURE_RATE, or undefined. */
  failureRate(): number | undefined {
    return this.#newest('failure_rate')?.rate;
  }

  dbUnavailable(): boolean {
    return this.#newest('db_unavailable') !== undefined;
  }

  #newest<K extends FaultKind>(kind: K): Extract<FaultSpec, { kind: K }> | undefined {
    let found: FaultSpec | undefined;
    for (const { fault } of this.#active.values()) if (fault.spec.kind === kind) found = fault.spec;
    return found as Extract<FaultSpec, { kind: K }> | undefined;
  }

  #lift(id: number): void {
    const entry = this.#active.get(id);
    if (!entry) return;
    this.#active.delete(id);
    entry.lift();
  }

  /** Starts a fault's side effect and returns what undoes it. */
  #start(spec: FaultSpec): () => void {
    if (spec.kind === 'cpu') return this.#burnCpu();
    if (spec.kind === 'memory') return holdMemory(spec.mb);
    return () => {};
  }

  #burnCpu(): () => void {
    const { cpuBusyMs, cpuIdleMs } = this.#options;
    let cancel = (): void => {};
    const slice = (): void => {
      // Real time, not the injected clock: the point is to burn actual CPU on the event loop.
      const end = performance.now() + cpuBusyMs;
      while (performance.now() < end) {
        // spin
      }
      cancel = this.#clock.setTimer(cpuIdleMs, slice);
    };
    // The first slice waits a tick so the 202 goes out before the loop is busy.
    cancel = this.#clock.setTimer(0, slice);
    return () => cancel();
  }
}

/** Allocates mb MiB and writes every page, so RSS really grows, until the returned function drops it. */
function holdMemory(mb: number): () => void {
  const chunks: Buffer[] = [];
  for (let left = mb; left > 0; left -= 64) chunks.push(Buffer.allocUnsafeSlow(Math.min(left, 64) * MIB).fill(0xa5));
  // Dropping the references lets the GC return the memory; it is not freed synchronously.
  return () => {
    chunks.length = 0;
  };
}
