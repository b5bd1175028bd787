import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { instantQuery } from '../prometheus/client.ts';
import { processReading } from './process-metrics.ts';
import type { HealthProbe, ProcessSample, UpSample } from './recording.ts';

// Watches the targets while an experiment runs: GET /health every few hundred ms (the
// recovery clock and the health-check flag are read from these), the process metrics of
// each target's /metrics (the evidence that a memory or CPU fault took effect), and
// Prometheus's `up` for each target (the detection of a partition). Every loop is bounded
// in time and stops when asked; each request has its own time-out.

export interface MonitorTarget {
  region: string;
  baseUrl: string;
}

export interface MonitorOptions {
  healthPath: string;
  /**
   * The target's Prometheus metrics (default /metrics); scraped
   * directly, not through Prometheus, for readings twice a second.
   */
  metricsPath?: string;
  metricsIntervalMs?: number;
  /** Long enough for a process swapping at its memory limit to answer. */
  metricsTimeoutMs?: number;
  /** Prometheus base URL; undefined: `up` is not read. */
  prometheusUrl?: string;
  intervalMs?: number;
  probeTimeoutMs?: number;
  upIntervalMs?: number;
  maxDurationMs: number;
}

/** Prometheus labels the region service's scrape targets with region and slot (observability/prometheus.yml). */
export function upQuery(region: string): string {
  return `up{job="regions",region="${region.replace(/["\\]/g, '')}",slot="stable"}`;
}

export class Monitor {
  readonly probes: HealthProbe[] = [];
  readonly up: UpSample[] = [];
  readonly samples: ProcessSample[] = [];
  private readonly targets: readonly MonitorTarget[];
  private readonly options: Required<Omit<MonitorOptions, 'prometheusUrl'>> & { prometheusUrl?: string };
  // No keep-alive: a probe must open a connection the way a new client would, so a crashed
  // or cut-off service fails at once instead of on a pooled socket.
  private readonly agent = new Agent({ pipelining: 0 });
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(targets: readonly MonitorTarget[], options: MonitorOptions) {
    this.targets = targets;
    this.options = {
      intervalMs: 200,
      probeTimeoutMs: 1000,
      upIntervalMs: 500,
      metricsPath: '/metrics',
      metricsIntervalMs: 500,
      metricsTimeoutMs: 2000,
      ...options,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const until = Date.now() + this.options.maxDurationMs;
    this.loops = this.targets.map((t) => this.every(this.options.intervalMs, until, () => this.probe(t)));
    this.loops.push(
      ...this.targets.map((t) => this.every(this.options.metricsIntervalMs, until, () => this.scrape(t))),
    );
    const prometheus = this.options.prometheusUrl;
    if (prometheus) this.loops.push(this.every(this.options.upIntervalMs, until, () => this.readUp(prometheus)));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    await this.agent.close();
  }

  private async every(intervalMs: number, until: number, action: () => Promise<void>): Promise<void> {
    while (this.running && Date.now() < until) {
      const started = Date.now();
      await action();
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  }

  private async probe(target: MonitorTarget): Promise<void> {
    const at = Date.now();
    const started = performance.now();
    let status = 0;
    try {
      const res = await request(target.baseUrl + this.options.healthPath, {
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.probeTimeoutMs),
      });
      await res.body.dump();
      status = res.statusCode;
    } catch {
      status = 0;
    }
    this.probes.push({ region: target.region, at, latencyMs: performance.now() - started, ok: status === 200, status });
  }

  /** A reading is kept only when the target answered with at least one of the two series. */
  private async scrape(target: MonitorTarget): Promise<void> {
    try {
      const res = await request(target.baseUrl + this.options.metricsPath, {
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.metricsTimeoutMs),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) return;
      const reading = processReading(text);
      // Stamped at the answer: the counters are read when the service gets to the request,
      // which under a busy event loop is late in the round trip, not at its start.
      if (reading.rssBytes !== null || reading.cpuSeconds !== null)
        this.samples.push({ region: target.region, at: Date.now(), ...reading });
    } catch {
      // No reading: the evidence is computed from those there are.
    }
  }

  private async readUp(url: string): Promise<void> {
    await Promise.all(
      this.targets.map(async (t) => {
        const at = Date.now();
        const outcome = await instantQuery({ url, timeoutMs: 1000, retries: 0 }, upQuery(t.region));
        this.up.push({ region: t.region, at, up: outcome.kind === 'value' ? outcome.value : null });
      }),
    );
  }
}
