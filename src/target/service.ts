// The service the gate deploys, as data (design.md, "The target is the user's service").
// config/service.ts validates chaos-gate.yml's `service:` and `baseline:` into these; the
// stack, traffic, probes and experiments read them. The demo region service is one value
// (target/demo.ts); a user's service is another.

/** A Compose service name (what `compose up` takes as an argument): never a flag. */
export const COMPOSE_SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One HTTP request the gate sends. `path` and string leaves of `body` may hold templates:
 * `{{ uuid }}` (a fresh v4 uuid per request) everywhere, `{{ id }}` (the id a probe write
 * answered) only in a probe read.
 */
export interface RequestSpec {
  method: HttpMethod;
  path: string;
  /** JSON body, sent with content-type application/json; undefined: no body. */
  body?: unknown;
  /** Statuses that count as success; an answer outside them is an error. */
  expectStatus: readonly number[];
}

export interface TrafficEntry extends RequestSpec {
  /** Relative weight in the mix (> 0). */
  weight: number;
}

/** Write, then read back: acknowledged writes that cannot be read back are lost. */
export interface ProbeSpec {
  write: RequestSpec & {
    /** Field of the write's JSON answer holding the new item's id; dots walk into objects ("data.id"). */
    id: string;
  };
  read: RequestSpec;
}

/** Where the candidate comes from. Paths are absolute (resolved against the config file's folder). */
export type ImageSource =
  | { kind: 'build'; context: string; dockerfile: string; args: Readonly<Record<string, string>> }
  | { kind: 'image'; image: string };

/** What runs as stable before the rollout. */
export type BaselineSource = { kind: 'ref'; ref: string } | { kind: 'image'; image: string };

/** The validated `service:` section, every default filled in. */
export interface ServicePlan {
  source: ImageSource;
  /** The port the container listens on. */
  port: number;
  health: { path: string; expectStatus: readonly number[] };
  /** absent: the image id is the identity. */
  version: { path: string; field: string } | undefined;
  /** absent: judged from the synthetic traffic alone (and the report says so). */
  metrics: { path: string } | undefined;
  env: Readonly<Record<string, string>>;
  /** A volume kept across restarts and deploys, mounted here in each region's containers. */
  data: { path: string } | undefined;
  traffic: readonly TrafficEntry[];
  probe: ProbeSpec | undefined;
  /** Absolute path of a Compose file with the services it needs; undefined: none. */
  dependencies: string | undefined;
  /** The response header in which the service names the hop an error came from; undefined: not named. */
  attribution: { header: string } | undefined;
}

/** A service of the dependencies file, as the gate needs it: what to build, and what it waits for. */
export interface DependencyService {
  name: string;
  /** Built by the gate like the candidate (paths absolute); undefined: Compose runs its `image:`. */
  build: { context: string; dockerfile: string; args: Readonly<Record<string, string>> } | undefined;
  /** Its `depends_on`: the services it calls, as far as the file says. */
  dependsOn: readonly string[];
  /**
   * Labelled `chaos-gate.per-region: "true"`: one copy per region (`<name>-<region>`), which
   * that region reaches by the plain name; `definition` is the file's entry the copies are made of.
   */
  perRegion: boolean;
  definition: Readonly<Record<string, unknown>> | undefined;
  /** Its `image:`, when the file names one. */
  image: string | undefined;
  /** TCP ports it says it listens on (`expose`, `ports`); its image may declare more. */
  ports: readonly number[];
}

/** The Compose label that makes a dependency one per region instead of one per stack. */
export const PER_REGION_LABEL = 'chaos-gate.per-region';

/** The validated `baseline:` section (default: the same Dockerfile at HEAD~1). */
export interface BaselinePlan {
  source: BaselineSource;
}
