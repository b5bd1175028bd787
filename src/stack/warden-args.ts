// Pure parts of the fault warden (warden.ts): what a warden is told to undo, the argument
// arrays that start, fire and list wardens, and the reading of what `docker inspect` says
// of them. A warden is a small container, started before a fault is injected, that lifts
// the fault at its expiry unless the gate lifts it first: so a gate killed outright (OOM,
// SIGKILL, a crashed runner) cannot leave a region cut off. Its labels are the fault's
// record, which outlives the gate and tells the next command what was left.

/** One thing a warden undoes, all through the Docker Engine API or the stack's own network. */
export type UndoStep =
  /** Reconnects the container to each network it is missing from, with its DNS aliases. */
  | { kind: 'reconnect'; container: string; networks: Record<string, string[]> }
  /** Disconnects and reconnects: a fresh interface drops any netem qdisc left on the old one. */
  | { kind: 'reset-network'; container: string; networks: Record<string, string[]> }
  /** DELETE of the service's fault endpoint (the service lifts its faults by itself as well). */
  | { kind: 'lift-endpoint'; url: string }
  /** Starts the container when it is not running (a crash the restart policy did not undo). */
  | { kind: 'start'; container: string }
  /** Unpauses the container when it is paused (a dependency frozen by an experiment). */
  | { kind: 'unpause'; container: string }
  /** Gives the container back the CPU limit it had (0: none) after a cgroup throttle. */
  | { kind: 'cpu-limit'; container: string; nanoCpus: number; cpuQuota: number }
  /** Gives the container back its memory limit (0: none, the host's whole memory) after a cgroup limit. */
  | { kind: 'memory-limit'; container: string; memory: number; memorySwap: number };

/** What a warden's labels say: the fault, where it is, when it lifts, and who set it. */
export interface FaultRecord {
  experiment: string;
  fault: string;
  regions: string[];
  /** Epoch ms at which the warden lifts the fault. */
  expiresAt: number;
  /** The gate process that injected it. */
  owner: { pid: number; host: string };
  undo: UndoStep[];
}

export interface WardenSpec {
  project: string;
  /** An image with `node` on its PATH (the stack's Node base image). */
  image: string;
  /** The Docker Engine's unix socket on the host, mounted into the warden. */
  socket: string;
  /** The stack's network, for undo steps that call a service by its name. */
  network: string;
  /** The bearer token of the services' fault endpoint, for lift-endpoint steps. */
  token?: string;
  record: FaultRecord;
}

export const WARDEN_LABEL = 'chaos-gate.warden';
export const RECORD_LABEL = 'chaos-gate.record';
/** The signal that makes a sleeping warden lift its fault at once. */
export const FIRE_SIGNAL = 'SIGUSR2';

/** `docker run` of a warden; the script and the record are arguments, never a shell string. */
export function wardenRunArgs(spec: WardenSpec, name: string, script: string): string[] {
  const plan = { socket: '/docker.sock', expiresAt: spec.record.expiresAt, undo: spec.record.undo };
  return [
    'run',
    '-d',
    '--name',
    name,
    '--user',
    '0',
    '--label',
    `${WARDEN_LABEL}=${spec.project}`,
    '--label',
    `${RECORD_LABEL}=${JSON.stringify(spec.record)}`,
    '--network',
    spec.network,
    '-v',
    `${spec.socket}:/docker.sock`,
    ...(spec.token ? ['-e', `FAULT_TOKEN=${spec.token}`] : []),
    '--entrypoint',
    'node',
    spec.image,
    '-e',
    script,
    JSON.stringify(plan),
  ];
}

export function wardenListArgs(project: string): string[] {
  return ['ps', '-aq', '--filter', `label=${WARDEN_LABEL}=${project}`];
}

export function wardenFireArgs(id: string): string[] {
  return ['kill', '--signal', FIRE_SIGNAL, id];
}

/** The unix socket of the Docker Engine from DOCKER_HOST; undefined when it is not a unix socket. */
export function dockerSocket(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const host = env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  return host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
}

export interface WardenFacts {
  id: string;
  name: string;
  running: boolean;
  exitCode: number;
  /** When the warden ended (it lifted the fault or failed to); undefined while it runs. */
  finishedAt: string | undefined;
  record: FaultRecord | undefined;
}

interface RawWarden {
  Id?: string;
  Name?: string;
  State?: { Running?: boolean; ExitCode?: number; FinishedAt?: string };
  Config?: { Labels?: Record<string, string> };
}

export function parseWardens(json: string): WardenFacts[] {
  const raw = JSON.parse(json) as RawWarden[];
  return raw.map((w) => {
    const running = w.State?.Running === true;
    return {
      id: w.Id ?? '',
      name: (w.Name ?? '').replace(/^\//, ''),
      running,
      exitCode: w.State?.ExitCode ?? 0,
      finishedAt: running ? undefined : w.State?.FinishedAt,
      record: parseRecord(w.Config?.Labels?.[RECORD_LABEL]),
    };
  });
}

function parseRecord(text: string | undefined): FaultRecord | undefined {
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as Partial<FaultRecord>;
    const ok =
      typeof r.fault === 'string' &&
      Array.isArray(r.regions) &&
      typeof r.expiresAt === 'number' &&
      Array.isArray(r.undo);
    return ok ? (r as FaultRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** One line for a person: "network-partition (partition) on eu-west, expires 12:00:05Z, set by pid 42". */
export function describeRecord(r: FaultRecord | undefined): string {
  if (!r) return 'a fault with an unreadable record';
  const expires = new Date(r.expiresAt).toISOString().slice(11, 19);
  const owner = `set by pid ${r.owner.pid} on ${r.owner.host}`;
  return `${r.experiment} (${r.fault}) on ${r.regions.join(', ')}, expiring ${expires} UTC, ${owner}`;
}
