import { Agent } from 'undici';
import { isError, type Cohort, type Observation } from '../analysis/observation.ts';
import { pickKind, type RequestMix } from './mix.ts';
import type { ObservationStore } from './store.ts';
import { DEMO_WORKLOAD, exchange, type Outgoing, type Workload } from './workload.ts';

// Synthetic load at a fixed arrival rate (an open model: requests are sent on schedule
// whether or not earlier ones have answered), with bounded concurrency and hard caps on
// duration and count so a loop can never run away.
//
// Latency is timed on this process's event loop, which the controller shares. When that loop
// is blocked, a response that has arrived waits to be read and its latency grows by the
// stall: the client's delay, not the service's. The tick notices a stall (it ran late) and
// every request in flight across one is marked untimed, so a slow moment of the gate itself
// can never pass for a slow candidate.

/** A tick this much later than planned is a stall of the event loop (ms). */
export const STALL_MS = 50;

export interface TrafficStream {
  region: string;
  cohort: Cohort;
  version: string;
  baseUrl: string;
  rps: number;
}

export interface TrafficOptions {
  store: ObservationStore;
  /** Uniform [0,1) source; seeded by the run for reproducible mixes. */
  random: () => number;
  /** The requests to send (default: the demo region service's). */
  workload?: Workload;
  /** The share of each kind (default: the workload's own mix). */
  mix?: RequestMix;
  maxInFlight?: number;
  timeoutMs?: number;
  /** Hard caps: the generator stops itself past either. */
  maxDurationMs?: number;
  maxRequests?: number;
  tickMs?: number;
}

export interface TrafficStats {
  sent: number;
  /** Requests not sent because maxInFlight were already waiting. */
  skipped: number;
  inFlight: number;
  /** Acknowledged writes that a later read could not find (404; 410 too for a user's probe). */
  missingReads: number;
  /** Requests in flight while the event loop stalled: their latencies are not used. */
  untimed: number;
  /** The longest stall of the event loop seen, ms (0: none of STALL_MS or more). */
  maxClientStallMs: number;
}

interface Stall {
  from: number;
  to: number;
}

export class TrafficGenerator {
  private readonly options: Required<TrafficOptions>;
  private readonly agent: Agent;
  private streams: { stream: TrafficStream; credit: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private lastTick = 0;
  private seq = 0;
  private readonly pending = new Set<Promise<void>>();
  /** Recent stalls (epoch ms), kept for as long as a request can be in flight. */
  private stalls: Stall[] = [];
  readonly stats: TrafficStats = { sent: 0, skipped: 0, inFlight: 0, missingReads: 0, untimed: 0, maxClientStallMs: 0 };

  constructor(options: TrafficOptions) {
    const workload = options.workload ?? DEMO_WORKLOAD;
    this.options = {
      maxInFlight: 64,
      timeoutMs: 2000,
      maxDurationMs: 30 * 60_000,
      maxRequests: 2_000_000,
      tickMs: 10,
      ...options,
      workload,
      mix: options.mix ?? workload.mix,
    };
    this.agent = new Agent({ connections: this.options.maxInFlight, keepAliveTimeout: 4000 });
  }

  /** Replaces the streams; credit carries over for a stream that stays, so rates change smoothly. */
  setStreams(streams: readonly TrafficStream[]): void {
    const old = new Map(this.streams.map((s) => [key(s.stream), s.credit]));
    this.streams = streams.filter((s) => s.rps > 0).map((stream) => ({ stream, credit: old.get(key(stream)) ?? 0 }));
  }

  start(): void {
    if (this.timer) return;
    this.startedAt = this.lastTick = Date.now();
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Stops sending and waits for the requests in flight (each is bounded by timeoutMs). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.agent.close();
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.startedAt > this.options.maxDurationMs || this.stats.sent >= this.options.maxRequests) {
      void this.stop();
      return;
    }
    const dt = now - this.lastTick;
    if (dt - this.options.tickMs >= STALL_MS) this.noteStall({ from: this.lastTick + this.options.tickMs, to: now });
    this.lastTick = now;
    for (const s of this.streams) {
      s.credit = Math.min(s.credit + (s.stream.rps * dt) / 1000, s.stream.rps); // at most one second of backlog
      while (s.credit >= 1) {
        s.credit -= 1;
        this.fire(s.stream);
      }
    }
  }

  private noteStall(stall: Stall): void {
    this.stats.maxClientStallMs = Math.max(this.stats.maxClientStallMs, stall.to - stall.from);
    const horizon = stall.to - this.options.timeoutMs - 1000;
    this.stalls = [...this.stalls.filter((s) => s.to >= horizon), stall];
  }

  /** Whether the event loop stalled while a request sent at `from` was in flight until `to`. */
  private stalledDuring(from: number, to: number): boolean {
    // The tick that would record a stall still going on may not have run yet.
    const ongoing = this.timer !== undefined && to - this.lastTick - this.options.tickMs >= STALL_MS;
    return ongoing || this.stalls.some((s) => s.from < to && s.to > from);
  }

  private fire(stream: TrafficStream): void {
    if (this.stats.inFlight >= this.options.maxInFlight) {
      this.stats.skipped++;
      return;
    }
    const writes = this.options.store.acknowledgedWrites(stream.region);
    const kind = pickKind(this.options.mix, this.options.random(), writes.length > 0);
    const outgoing = this.options.workload.request(kind, {
      random: this.options.random,
      writes,
      seq: ++this.seq,
      cohort: stream.cohort,
    });
    this.stats.sent++;
    this.stats.inFlight++;
    const p = this.send(stream, outgoing).finally(() => {
      this.stats.inFlight--;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }

  private async send(stream: TrafficStream, outgoing: Outgoing): Promise<void> {
    const at = Date.now();
    const started = performance.now();
    const answer = await exchange(
      this.agent,
      stream.baseUrl,
      outgoing,
      this.options.timeoutMs,
      this.options.workload.hopHeader,
    );
    const latencyMs = performance.now() - started;
    const untimed = this.stalledDuring(at, Date.now());
    if (untimed) this.stats.untimed++;
    const { region, cohort, version } = stream;
    const verdict = outgoing.settle(answer);
    const observation: Observation = {
      at,
      region,
      version,
      cohort,
      route: outgoing.route,
      status: answer.status,
      latencyMs,
      ...(untimed ? { untimed } : {}),
      ...(verdict.unexpected ? { unexpected: true } : {}),
    };
    this.options.store.add(
      answer.hop !== undefined && isError(observation) ? { ...observation, hop: answer.hop } : observation,
    );
    if (verdict.acknowledged) this.options.store.acknowledge({ ...verdict.acknowledged, region, cohort, version, at });
    if (verdict.missing) this.stats.missingReads++;
  }
}

function key(s: TrafficStream): string {
  return `${s.region}/${s.cohort}/${s.baseUrl}`;
}
