import type { RegionProbes } from '../rollout/verify.ts';
import type { ContainerFacts } from '../stack/inspect.ts';
import type { ContainerStatus, Stack, StackStatus } from '../stack/stack.ts';
import {
  defaultStackTarget,
  regionUrl,
  serviceOf,
  type Deployment,
  type ImageRef,
  type RegionTarget,
  type Slot,
  type StackTarget,
} from '../stack/target.ts';
import type { SimulatedClock } from './clock.ts';
import type { Random } from '../util/random.ts';
import type { CohortModel, SimulationScenario } from './scenario.ts';

// The stack a simulated rollout runs against: one stable container per region of the plan,
// a canary beside it when the controller deploys one, each answering as its cohort model
// says. A deploy takes SIM_DEPLOY_MS of virtual time; so does removing a canary that runs
// something else than the stable container (its share of the traffic goes back), while
// removing one that runs what the stable container now runs (a promotion) changes nothing.
// A /health probe fails with the model's error rate. The two versions are told apart by
// image, so a scenario may give both the same version.

/** Virtual time to start or replace a container. */
export const SIM_DEPLOY_MS = 1000;

export const BASELINE_IMAGE: ImageRef = { ref: 'simulated:baseline', id: 'baseline' };
export const CANDIDATE_IMAGE: ImageRef = { ref: 'simulated:candidate', id: 'candidate' };

interface Container {
  region: string;
  slot: Slot;
  deployment: Deployment;
}

export class SimulatedStack implements Stack {
  readonly target: StackTarget;
  /** /health probes answered so far. */
  healthProbes = 0;
  private readonly running = new Map<string, Container>();
  private readonly serviceAt = new Map<string, string>();
  private readonly scenario: SimulationScenario;
  private readonly clock: SimulatedClock;
  private readonly random: Random;

  constructor(regions: readonly string[], scenario: SimulationScenario, clock: SimulatedClock, random: Random) {
    this.scenario = scenario;
    this.clock = clock;
    this.random = random;
    const targets: RegionTarget[] = regions.map((name, i) => ({
      name,
      service: `region-${name}`,
      canaryService: `region-${name}-canary`,
      port: 20_000 + 2 * i,
      canaryPort: 20_001 + 2 * i,
      proxyPort: 0,
    }));
    this.target = { ...defaultStackTarget('.'), regions: targets };
    const stable: Deployment = { version: scenario.baseline.version, failureRate: 0, image: BASELINE_IMAGE };
    for (const r of targets) {
      this.serviceAt.set(regionUrl(this.target, r, 'stable'), r.service);
      this.serviceAt.set(regionUrl(this.target, r, 'canary'), r.canaryService);
      this.running.set(r.service, { region: r.name, slot: 'stable', deployment: stable });
    }
  }

  /** What the container behind a URL answers as; undefined when none runs there. */
  modelAt(baseUrl: string): CohortModel | undefined {
    const c = this.running.get(this.serviceAt.get(baseUrl) ?? '');
    return c && this.modelOf(c.deployment);
  }

  readonly probes: RegionProbes = {
    version: (baseUrl) => Promise.resolve(this.running.get(this.serviceAt.get(baseUrl) ?? '')?.deployment.version),
    health: (baseUrl) => {
      const model = this.modelAt(baseUrl);
      if (!model) return Promise.resolve(false);
      this.healthProbes++;
      return Promise.resolve(this.random.next() >= model.errorRate);
    },
  };

  deploy(region: RegionTarget, slot: Slot, deployment: Deployment): Promise<void> {
    this.clock.advance(SIM_DEPLOY_MS);
    this.running.set(serviceOf(region, slot), { region: region.name, slot, deployment });
    return Promise.resolve();
  }

  removeCanary(region: RegionTarget): Promise<void> {
    const canary = this.running.get(region.canaryService);
    const stable = this.running.get(region.service);
    this.running.delete(region.canaryService);
    if (canary && canary.deployment.image?.id !== stable?.deployment.image?.id) this.clock.advance(SIM_DEPLOY_MS);
    return Promise.resolve();
  }

  containers(): Promise<ContainerFacts[]> {
    return Promise.resolve(
      [...this.running.keys()].map((service) => ({
        id: service,
        name: service,
        service,
        state: 'running',
        health: 'none',
        restartCount: 0,
        pid: 1,
        exitCode: 0,
        oomKilled: false,
        env: {},
        labels: {},
        image: '',
        networks: [],
      })),
    );
  }

  deployments(): Promise<Map<string, Partial<Record<Slot, Deployment>>>> {
    const map = new Map<string, Partial<Record<Slot, Deployment>>>();
    for (const c of this.running.values()) map.set(c.region, { ...map.get(c.region), [c.slot]: c.deployment });
    return Promise.resolve(map);
  }

  status(): Promise<StackStatus> {
    const of = (service: string, slot: Slot): ContainerStatus | undefined => {
      const c = this.running.get(service);
      return c
        ? {
            service,
            slot,
            state: 'running',
            health: 'none',
            restartCount: 0,
            deployment: c.deployment,
            reportedVersion: c.deployment.version,
          }
        : undefined;
    };
    return Promise.resolve({
      regions: this.target.regions.map((r) => ({
        region: r.name,
        port: r.port,
        stable: of(r.service, 'stable'),
        canary: of(r.canaryService, 'canary'),
      })),
      prometheus: { state: 'absent', ready: false },
      grafana: undefined,
    });
  }

  up(): never {
    throw new Error('a simulated stack is never brought up');
  }
  down(): never {
    throw new Error('a simulated stack is never taken down');
  }
  logs(): Promise<string> {
    return Promise.resolve('');
  }
  faultToken(): Promise<string> {
    return Promise.resolve('simulated');
  }

  private modelOf(deployment: Deployment): CohortModel {
    return deployment.image?.id === CANDIDATE_IMAGE.id ? this.scenario.canary : this.scenario.baseline;
  }
}
