import type { ContainerFacts } from './inspect.ts';
import type { Deployment, RegionTarget, Slot, StackTarget } from './target.ts';

// The seam between the gate and the infrastructure it runs on. Compose implements it here;
// a Kubernetes backend could implement it later without touching rollout/, analysis/ or chaos/.

export interface ContainerStatus {
  service: string;
  slot: Slot;
  state: string;
  health: string;
  restartCount: number;
  /** What the container was started with. */
  deployment: Deployment | undefined;
  /** What the service itself reports on its version path; undefined when it does not answer. */
  reportedVersion: string | undefined;
}

export interface RegionStatus {
  region: string;
  port: number;
  stable: ContainerStatus | undefined;
  canary: ContainerStatus | undefined;
}

export interface StackStatus {
  regions: RegionStatus[];
  prometheus: { state: string; ready: boolean };
  grafana: { state: string; ready: boolean } | undefined;
}

export interface UpResult {
  notes: string[];
  grafana: boolean;
}

export interface Stack {
  readonly target: StackTarget;
  up(): Promise<UpResult>;
  /** Removes every container, network and volume of the project. */
  down(): Promise<void>;
  status(): Promise<StackStatus>;
  containers(): Promise<ContainerFacts[]>;
  /** What each region's containers currently run, read from the running stack. */
  deployments(): Promise<Map<string, Partial<Record<Slot, Deployment>>>>;
  /** (Re)creates one container of a region with a deployment, and waits until it answers with that version. */
  deploy(region: RegionTarget, slot: Slot, deployment: Deployment): Promise<void>;
  removeCanary(region: RegionTarget): Promise<void>;
  logs(service: string, tail: number): Promise<string>;
  /** Token the region services accept on their fault-injection endpoint. */
  faultToken(): Promise<string>;
}
