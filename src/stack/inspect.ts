// Pure reading of `docker inspect` output into the facts the stack needs.

export interface ContainerFacts {
  id: string;
  name: string;
  service: string;
  /** "running", "exited", "restarting", "paused", "created", "dead". */
  state: string;
  /** Docker's HEALTHCHECK status, or "none" when the image has none. */
  health: string;
  restartCount: number;
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  env: Record<string, string>;
  labels: Record<string, string>;
  /** The id of the image the container was created from (sha256:...). */
  image: string;
  networks: string[];
  /** HostConfig.CpuQuota in µs per period; absent, 0 or -1: none. */
  cpuQuota?: number;
  /** HostConfig.Memory and MemorySwap in bytes; absent or 0: none (a swap of -1: unlimited). */
  memory?: number;
  memorySwap?: number;
}

interface RawContainer {
  Id?: string;
  Name?: string;
  RestartCount?: number;
  Image?: string;
  State?: { Status?: string; Pid?: number; ExitCode?: number; OOMKilled?: boolean; Health?: { Status?: string } };
  Config?: { Env?: string[]; Labels?: Record<string, string> };
  NetworkSettings?: { Networks?: Record<string, unknown> };
  HostConfig?: { CpuQuota?: number; Memory?: number; MemorySwap?: number };
}

export function parseInspect(json: string): ContainerFacts[] {
  const raw = JSON.parse(json) as RawContainer[];
  return raw.map((c) => ({
    id: c.Id ?? '',
    name: (c.Name ?? '').replace(/^\//, ''),
    service: c.Config?.Labels?.['com.docker.compose.service'] ?? '',
    state: c.State?.Status ?? 'unknown',
    health: c.State?.Health?.Status ?? 'none',
    restartCount: c.RestartCount ?? 0,
    pid: c.State?.Pid ?? 0,
    exitCode: c.State?.ExitCode ?? 0,
    oomKilled: c.State?.OOMKilled ?? false,
    env: envObject(c.Config?.Env ?? []),
    labels: { ...c.Config?.Labels },
    image: c.Image ?? '',
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
    ...(c.HostConfig?.CpuQuota ? { cpuQuota: c.HostConfig.CpuQuota } : {}),
    ...(c.HostConfig?.Memory ? { memory: c.HostConfig.Memory, memorySwap: c.HostConfig.MemorySwap ?? 0 } : {}),
  }));
}

function envObject(lines: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}
