import { MIB } from '../util/format.ts';
import type { ServicePlan } from '../target/service.ts';

// What the stack runs and where it answers. The demo region service is the default target
// (the project's docker-compose.yml); a user's service (`service:` in chaos-gate.yml) is run
// from a Compose file rendered from its plan (service-compose.ts).

export interface RegionTarget {
  /** Region name as the service reports it, e.g. "us-west". */
  name: string;
  /** Compose service of the region's stable version, e.g. "region-us-west". */
  service: string;
  /** Compose service that runs a candidate beside it during canary stages. */
  canaryService: string;
  /** Loopback host ports. */
  port: number;
  canaryPort: number;
  /** Loopback port of the control API of the region's fault proxy (a user's service with dependencies). */
  proxyPort: number;
}

export interface StackTarget {
  /** Fixed Compose project name, so leftovers of an earlier run are found and removed. */
  project: string;
  /** Folder holding docker-compose.yml, services/ and observability/ (the action's own files). */
  projectDir: string;
  composeFile: string;
  regions: readonly RegionTarget[];
  /** Version and failure rate a region starts with when the stack is first brought up. */
  initialVersion: string;
  initialFailureRate: number;
  /** Paths on the region service. */
  versionPath: string;
  healthPath: string;
  host: string;
  /** The port the service listens on inside its container (the stack's network reaches it there). */
  containerPort: number;
  prometheusPort: number;
  grafanaPort: number;
  images: StackImages;
  /** The user's service; undefined: the demo region service. */
  service?: UserServiceTarget;
}

/** A user's service as the stack runs it. */
export interface UserServiceTarget {
  plan: ServicePlan;
  /** What the regions run before the rollout (the baseline), its image tag and id. */
  initial: ImageDeployment;
  /** The candidate the rollout deploys, its image tag and id. */
  candidate: ImageDeployment;
  /** Folder the rendered compose.json and prometheus.yml are written to. */
  runDir: string;
  /** Compose's project directory: relative paths of the dependencies file resolve against it. */
  projectDirectory: string;
  /** The services of the dependencies file, started once per stack beside the regions. */
  dependencies: readonly StackDependency[];
  /**
   * The fault proxy's image: each region then reaches every dependency through its own proxy
   * (fault-proxy-<region>, services/fault-proxy), where faults are injected from outside.
   */
  proxyImage?: string;
}

/** A service of the user's dependencies file as the stack starts it. */
export interface StackDependency {
  name: string;
  /** The image the gate built for it; undefined: the file's own `image:`. */
  image: string | undefined;
  dependsOn: readonly string[];
  /** One copy per region (`<name>-<region>`) made of `definition`, instead of one per stack. */
  perRegion: boolean;
  definition: Readonly<Record<string, unknown>> | undefined;
  /** TCP ports its callers reach it on: the file's and its image's. */
  ports: readonly number[];
}

/** Whether the regions reach their dependencies through fault proxies: a proxy image and something to reach. */
export function isProxied(service: Pick<UserServiceTarget, 'proxyImage' | 'dependencies'> | undefined): boolean {
  return service?.proxyImage !== undefined && service.dependencies.length > 0;
}

/** The Compose service of a region's fault proxy. */
export function proxyService(region: string): string {
  return `fault-proxy-${region}`;
}

/** The port the fault proxy's control API listens on inside its container. */
export const PROXY_CONTROL_PORT = 7070;

/** The Compose service a region uses for a dependency: its own copy of a per-region one. */
export function dependencyService(dependency: Pick<StackDependency, 'name' | 'perRegion'>, region: string): string {
  return dependency.perRegion ? `${dependency.name}-${region}` : dependency.name;
}

/** Every Compose service the dependencies file runs in the stack: the shared ones and each region's copies. */
export function dependencyServices(dependencies: readonly StackDependency[], regions: readonly string[]): string[] {
  return dependencies.flatMap((d) => (d.perRegion ? regions.map((r) => dependencyService(d, r)) : [d.name]));
}

export interface StackImages {
  region: string;
  /** Base image for the region service build; the official image unless overridden. */
  node: string;
  prometheus: string;
  grafana: string;
}

export const DEFAULT_REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'] as const;

/** Images the air-gapped script (scripts/offline-images.sh) builds from local packages. */
export const OFFLINE_IMAGES = {
  node: 'chaos-gate/node:24-offline',
  prometheus: 'chaos-gate/prometheus:offline',
} as const;

export const OFFICIAL_IMAGES: StackImages = {
  region: 'chaos-gate/region:local',
  node: 'node:24-alpine',
  prometheus: 'prom/prometheus:v2.53.2',
  grafana: 'grafana/grafana:11.3.0',
};

export function defaultRegionTargets(): RegionTarget[] {
  return DEFAULT_REGIONS.map((name, i) => ({
    name,
    service: `region-${name}`,
    canaryService: `region-${name}-canary`,
    port: 8081 + i,
    canaryPort: 9081 + i,
    proxyPort: 7081 + i,
  }));
}

export function defaultStackTarget(projectDir: string): StackTarget {
  return {
    project: 'chaos-gate',
    projectDir,
    composeFile: 'docker-compose.yml',
    regions: defaultRegionTargets(),
    initialVersion: 'v1',
    initialFailureRate: 0,
    versionPath: '/',
    healthPath: '/health',
    host: '127.0.0.1',
    containerPort: 8080,
    prometheusPort: 9090,
    grafanaPort: 3000,
    images: { ...OFFICIAL_IMAGES },
  };
}

/** Environment-variable stem of a region in docker-compose.yml: "us-west" -> "CG_US_WEST". */
export function envStem(region: string): string {
  return `CG_${region.toUpperCase().replace(/-/g, '_')}`;
}

export function regionUrl(target: StackTarget, region: RegionTarget, slot: Slot = 'stable'): string {
  return `http://${target.host}:${slot === 'canary' ? region.canaryPort : region.port}`;
}

/** The Compose service of one of a region's containers. */
export function serviceOf(region: RegionTarget, slot: Slot): string {
  return slot === 'canary' ? region.canaryService : region.service;
}

/** Where the stack's own network reaches a region's container, by its Compose service name. */
export function innerUrl(target: StackTarget, region: RegionTarget, slot: Slot = 'stable'): string {
  return `http://${serviceOf(region, slot)}:${target.containerPort}`;
}

export function prometheusUrl(target: StackTarget): string {
  return `http://${target.host}:${target.prometheusPort}`;
}

export function grafanaUrl(target: StackTarget): string {
  return `http://${target.host}:${target.grafanaPort}`;
}

/** A region runs its stable version in one container and, during a canary stage, a candidate in another. */
export type Slot = 'stable' | 'canary';

/** What one container of a region runs. */
export interface Deployment {
  version: string;
  failureRate: number;
  /** DATA_FAULT of the test service (a candidate that corrupts or drops rows); absent: none. */
  dataFault?: DataFault;
  /**
   * REGRESSION of the test service: a resilience regression written into the demo's code: the
   * candidate restarts slowly after a crash. Absent: none.
   */
  regression?: Regression;
  /** A user's service: the image the container runs; absent for the demo. */
  image?: ImageRef;
}

/** An image by tag (what Compose is given) and id (what the running container is checked against). */
export interface ImageRef {
  ref: string;
  id: string;
}

export interface ImageDeployment extends Deployment {
  image: ImageRef;
}

/** The versions a user's stack knows by image: the baseline and the candidate. */
export function knownImages(service: UserServiceTarget): ImageDeployment[] {
  return [service.initial, service.candidate];
}

/** Labels a user's containers carry, so what they run is read back from the running stack. */
export const LABELS = { version: 'chaos-gate.version', image: 'chaos-gate.image' } as const;

export type DataFault = 'corrupt' | 'drop';
export const DATA_FAULTS: readonly DataFault[] = ['corrupt', 'drop'];

/**
 * The memory limit a region container is created with: docker-compose.yml's mem_limit for the
 * demo, none for a user's service.
 */
export function regionMemoryLimit(target: StackTarget): { memory: number; memorySwap: number } {
  return target.service ? { memory: 0, memorySwap: 0 } : { memory: 256 * MIB, memorySwap: 512 * MIB };
}

/**
 * slow-start: the candidate waits 10 s before it listens, which only a crash (a restart) exposes.
 * memory-growth: it keeps 512 KiB per request for good, which only a memory limit exposes.
 */
export type Regression = 'slow-start' | 'memory-growth';
export const REGRESSIONS: readonly Regression[] = ['slow-start', 'memory-growth'];
