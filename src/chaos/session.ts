import type { ContainerFacts } from '../stack/inspect.ts';
import type { Stack } from '../stack/stack.ts';
import { dependencyService, regionUrl } from '../stack/target.ts';
import { TrafficGenerator, type TrafficStream } from '../traffic/generator.ts';
import { ObservationStore } from '../traffic/store.ts';
import { userWorkload, type Workload } from '../traffic/workload.ts';
import type { Experiment } from './experiment.ts';
import { faultSeconds } from './experiment.ts';
import { Monitor } from './monitor.ts';
import type { ContainerOutcome } from './recording.ts';
import { experimentRandom } from './targets.ts';

// The live parts of one experiment: its own observation store, the load, the monitor of its
// targets, and the container facts before and after. Every loop is capped in time (and the
// load in count) from the experiment's own windows, so none can outlive a stuck run.

export class Session {
  readonly store = new ObservationStore();
  readonly monitor: Monitor;
  private readonly traffic: TrafficGenerator;
  private readonly stack: Stack;
  private readonly targets: readonly string[];
  /** A user's service's requests; undefined: the demo's. */
  readonly workload: Workload | undefined;

  constructor(
    experiment: Experiment,
    deps: { stack: Stack; seed: number; prometheusUrl?: string },
    targets: readonly string[],
  ) {
    this.stack = deps.stack;
    this.targets = targets;
    const plan = deps.stack.target.service?.plan;
    this.workload = plan ? userWorkload(plan) : undefined;
    const { load, windows } = experiment;
    const capMs =
      (windows.beforeSeconds +
        faultSeconds(experiment.fault) +
        2 * windows.recoveryDeadlineSeconds +
        windows.afterSeconds +
        120) *
      1000;
    const totalRps =
      load.rps * targets.length + load.otherRegionsRps * Math.max(0, deps.stack.target.regions.length - targets.length);
    const random = experimentRandom(deps.seed, experiment.name, 'traffic');
    this.traffic = new TrafficGenerator({
      store: this.store,
      ...(this.workload ? { workload: this.workload } : {}),
      random: () => random.next(),
      mix: { health: Math.max(0, 1 - load.writeShare - load.readShare), write: load.writeShare, read: load.readShare },
      timeoutMs: load.timeoutMs,
      maxDurationMs: capMs,
      maxRequests: Math.ceil((totalRps * capMs) / 1000) + 100,
    });
    const regions = deps.stack.target.regions.filter((r) => targets.includes(r.name));
    this.monitor = new Monitor(
      regions.map((r) => ({ region: r.name, baseUrl: regionUrl(deps.stack.target, r) })),
      {
        healthPath: deps.stack.target.healthPath,
        maxDurationMs: capMs,
        ...(deps.prometheusUrl ? { prometheusUrl: deps.prometheusUrl } : {}),
      },
    );
  }

  start(streams: readonly TrafficStream[]): void {
    this.traffic.setStreams(streams);
    this.traffic.start();
    this.monitor.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.traffic.close(), this.monitor.stop()]);
  }

  async facts(region: string): Promise<ContainerFacts | undefined> {
    const service = this.stack.target.regions.find((r) => r.name === region)?.service;
    return (await this.stack.containers()).find((c) => c.service === service);
  }

  /**
   * A dependency's container now (a user's dependencies file; of
   * a per-region one, the first target's copy), or undefined.
   */
  async dependency(service: string): Promise<ContainerFacts | undefined> {
    const dependency = this.stack.target.service?.dependencies.find((d) => d.name === service);
    const region = this.targets[0];
    if (!dependency || region === undefined) return undefined;
    const name = dependencyService(dependency, region);
    return (await this.stack.containers()).find((c) => c.service === name);
  }

  /** The targets' containers now; throws when one is not running (the experiment cannot start). */
  async targetFacts(): Promise<Map<string, ContainerFacts>> {
    const all = await this.stack.containers();
    const out = new Map<string, ContainerFacts>();
    for (const region of this.targets) {
      const service = this.stack.target.regions.find((r) => r.name === region)?.service;
      const c = all.find((x) => x.service === service);
      if (!c || c.state !== 'running' || c.pid <= 1)
        throw new Error(`${service ?? region} is not running (${c?.state ?? 'no container'})`);
      out.set(region, c);
    }
    return out;
  }

  /**
   * Whether a target's process died and came back (restart count
   * up), with a line per target that did and each target's outcome.
   */
  async restarts(
    before: ReadonlyMap<string, ContainerFacts>,
  ): Promise<{ crashed: boolean; notes: string[]; outcomes: ContainerOutcome[] }> {
    const notes: string[] = [];
    const all = await this.stack.containers().catch((e: unknown) => {
      notes.push(
        `the targets' containers could not be inspected after the experiment: ` +
          (e instanceof Error ? e.message : String(e)),
      );
      return undefined;
    });
    const outcomes: ContainerOutcome[] = [];
    let crashed = false;
    for (const [region, was] of before) {
      const now = all?.find((c) => c.id === was.id);
      if (!now) {
        outcomes.push({ region, restarts: null, oomKilled: null });
        if (all) notes.push(`${region}: container ${was.name} is gone`);
        continue;
      }
      outcomes.push({ region, restarts: Math.max(0, now.restartCount - was.restartCount), oomKilled: now.oomKilled });
      if (now.restartCount > was.restartCount) {
        crashed = true;
        notes.push(
          `${region}: restarted by its restart policy (restarts ${was.restartCount} -> ` +
            `${now.restartCount}${now.oomKilled ? ', OOM-killed' : ''})`,
        );
      } else if (now.pid !== was.pid) {
        notes.push(`${region}: a new process (pid ${was.pid} -> ${now.pid}) without a restart by the policy`);
      }
    }
    return { crashed, notes, outcomes };
  }
}
