import type { Clock, Rng } from './clock.ts';
import type { ToxicSpec } from './spec.ts';

// The table of active toxics and the decisions taken from it. Pure: time and randomness are
// injected, and sockets only ever see a Verdict or a Shaping.
//
// Order on a request (HTTP) or a new connection (TCP): reset, then timeout, then http_error
// (HTTP only); the first toxic that picks it wins. What is forwarded then gets latency and
// bandwidth on the way back (Shaping). Within a kind, older toxics are asked first.

export interface Toxic {
  id: number;
  spec: ToxicSpec;
  createdAt: number;
  expiresAt: number;
  /** Requests or connections this toxic acted on: the evidence that the fault took effect. */
  affected: number;
}

export type Verdict = { action: 'reset' | 'timeout' | 'http_error'; toxic: Toxic } | { action: 'forward' };

/** What happens to the data coming back from upstream. rateKbps null: unthrottled. */
export interface Shaping {
  delayMs: number;
  rateKbps: number | null;
}

export type Listener = (toxic: Toxic) => void;

export class Toxics {
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #active = new Map<number, { toxic: Toxic; cancel: () => void }>();
  readonly #onAdd: Listener[] = [];
  readonly #onLift: Listener[] = [];
  #nextId = 1;

  constructor(clock: Clock, rng: Rng) {
    this.#clock = clock;
    this.#rng = rng;
  }

  /** Starts a toxic; it lifts itself at expiresAt whether or not anyone asks again. */
  add(spec: ToxicSpec): Toxic {
    const now = this.#clock.now();
    const toxic: Toxic = { id: this.#nextId++, spec, createdAt: now, expiresAt: now + spec.duration_ms, affected: 0 };
    const cancel = this.#clock.setTimer(spec.duration_ms, () => this.lift(toxic.id));
    this.#active.set(toxic.id, { toxic, cancel });
    for (const fn of this.#onAdd) fn(toxic);
    return toxic;
  }

  /** Lifts one toxic; undefined when it is unknown or already gone. */
  lift(id: number): Toxic | undefined {
    const entry = this.#active.get(id);
    if (!entry) return undefined;
    this.#active.delete(id);
    entry.cancel();
    for (const fn of this.#onLift) fn(entry.toxic);
    return entry.toxic;
  }

  /** Lifts every toxic; returns how many there were. */
  liftAll(): number {
    const ids = [...this.#active.keys()];
    for (const id of ids) this.lift(id);
    return ids.length;
  }

  /** Active toxics in creation order; one past its expiry is lifted here if its timer is late. */
  list(route?: string): Toxic[] {
    const now = this.#clock.now();
    const out: Toxic[] = [];
    for (const { toxic } of [...this.#active.values()]) {
      if (toxic.expiresAt <= now) this.lift(toxic.id);
      else if (route === undefined || toxic.spec.route === route) out.push(toxic);
    }
    return out;
  }

  get(id: number): Toxic | undefined {
    return this.list().find((t) => t.id === id);
  }

  isActive(id: number): boolean {
    return this.#active.has(id);
  }

  onAdd(fn: Listener): void {
    this.#onAdd.push(fn);
  }

  onLift(fn: Listener): void {
    this.#onLift.push(fn);
  }

  /** Whether a share-based toxic acts on one more request or connection; counts it when it does. */
  pick(toxic: Toxic): boolean {
    const { spec } = toxic;
    if (spec.kind === 'latency' || spec.kind === 'bandwidth') return false;
    if (spec.kind === 'http_error' && spec.first_n !== undefined && toxic.affected >= spec.first_n) return false;
    // share 1 and 0 do not draw, so a pinned rng in a test only matters for real shares.
    const picked = spec.share >= 1 || (spec.share > 0 && this.#rng() < spec.share);
    if (picked) toxic.affected++;
    return picked;
  }

  /** What to do with a new HTTP request or TCP connection on a route. */
  verdict(route: string, protocol: 'http' | 'tcp'): Verdict {
    const toxics = this.list(route);
    const kinds = protocol === 'http' ? (['reset', 'timeout', 'http_error'] as const) : (['reset', 'timeout'] as const);
    for (const action of kinds) {
      for (const toxic of toxics) if (toxic.spec.kind === action && this.pick(toxic)) return { action, toxic };
    }
    return { action: 'forward' };
  }

  /**
   * Latency and bandwidth for data coming back now: delays add up (each toxic with its own
   * jitter), the lowest rate wins. Each toxic counts once per id not yet in `seen`.
   */
  shaping(route: string, seen?: Set<number>): Shaping {
    const shaping: Shaping = { delayMs: 0, rateKbps: null };
    for (const toxic of this.list(route)) {
      const { spec } = toxic;
      if (spec.kind === 'latency') {
        const jitter = spec.jitter_ms === 0 ? 0 : (this.#rng() * 2 - 1) * spec.jitter_ms;
        shaping.delayMs += Math.max(0, Math.round(spec.delay_ms + jitter));
      } else if (spec.kind === 'bandwidth') {
        shaping.rateKbps = Math.min(shaping.rateKbps ?? Infinity, spec.rate_kbps);
      } else {
        continue;
      }
      if (!seen?.has(toxic.id)) toxic.affected++;
      seen?.add(toxic.id);
    }
    return shaping;
  }
}

/** The JSON shape of a toxic in the control API. */
export function toxicJson(toxic: Toxic, now: number): Record<string, unknown> {
  const { route, kind, duration_ms, ...params } = toxic.spec;
  return {
    id: toxic.id,
    route,
    kind,
    ...params,
    duration_ms,
    created_at: new Date(toxic.createdAt).toISOString(),
    expires_at: new Date(toxic.expiresAt).toISOString(),
    expires_in_ms: Math.max(0, toxic.expiresAt - now),
    affected: toxic.affected,
  };
}
