// Pure builders of the argument arrays the chaos injectors run against containers, and
// readers of their output. Never a shell string: every value is its own argument.

import { MIB } from '../util/format.ts';

export interface HostCommand {
  file: string;
  args: string[];
}

/**
 * A command that needs root on the host (signalling another user's process, entering a
 * network namespace). As root it runs as is; otherwise through `sudo -n`, which fails at
 * once instead of asking for a password (GitHub-hosted runners have passwordless sudo).
 */
export function asRoot(command: HostCommand, isRoot: boolean): HostCommand {
  return isRoot ? command : { file: 'sudo', args: ['-n', command.file, ...command.args] };
}

/**
 * SIGKILL of a container's main process from the host: a crash, which restart policies act on
 * (`docker kill` is a manual stop, which they do not).
 */
export function killArgs(pid: number): HostCommand {
  return { file: 'kill', args: ['-9', String(positivePid(pid))] };
}

/** netem delay (and jitter) on `device` inside the network namespace of process `pid`. */
export function netemAddArgs(pid: number, device: string, delayMs: number, jitterMs: number): HostCommand {
  const delay = ['delay', `${delayMs}ms`, ...(jitterMs > 0 ? [`${jitterMs}ms`] : [])];
  return {
    file: 'nsenter',
    args: ['-t', String(positivePid(pid)), '-n', 'tc', 'qdisc', 'add', 'dev', device, 'root', 'netem', ...delay],
  };
}

export function netemDeleteArgs(pid: number, device: string): HostCommand {
  return { file: 'nsenter', args: ['-t', String(positivePid(pid)), '-n', 'tc', 'qdisc', 'del', 'dev', device, 'root'] };
}

/** tc's answer when the kernel has no netem qdisc (these machines; see machine-notes.md). */
export function netemUnsupported(stderr: string): boolean {
  return /qdisc kind is unknown|Unknown qdisc "netem"|No such file or directory.*sch_netem/i.test(stderr);
}

/** tc's answer to deleting a root qdisc that is already the default: nothing to undo. */
export function nothingToDelete(stderr: string): boolean {
  return /Cannot delete qdisc with handle of zero|Cannot find specified qdisc|No such file or directory/i.test(stderr);
}

export function networkDisconnectArgs(network: string, container: string): string[] {
  return ['network', 'disconnect', network, container];
}

/**
 * Reconnects with the container's DNS aliases (the Compose service name), so peers such as
 * Prometheus find it again by name.
 */
export function networkConnectArgs(network: string, container: string, aliases: readonly string[]): string[] {
  return ['network', 'connect', ...aliases.flatMap((a) => ['--alias', a]), network, container];
}

export function startArgs(container: string): string[] {
  return ['start', container];
}

/** Freezes every process of the container (the cgroup freezer): its connections hang, nothing answers. */
export function pauseArgs(container: string): string[] {
  return ['pause', container];
}

export function unpauseArgs(container: string): string[] {
  return ['unpause', container];
}

/** A clean stop (its stop signal, then SIGKILL after `seconds`): a manual stop, which restart policies leave alone. */
export function stopArgs(container: string, seconds: number): string[] {
  return ['stop', '--time', String(seconds), container];
}

export function inspectNetworksArgs(container: string): string[] {
  return ['inspect', '--format', '{{json .NetworkSettings.Networks}}', container];
}

/**
 * Network name -> aliases, from `docker inspect --format '{{json .NetworkSettings.Networks}}'`.
 * Docker adds the container's short id as an alias by itself, so it is left out (passing it
 * back would be harmless but noisy).
 */
export function parseNetworkAliases(json: string, containerId: string): Record<string, string[]> {
  const raw = JSON.parse(json.trim() || '{}') as Record<string, { Aliases?: string[] | null } | null> | null;
  const out: Record<string, string[]> = {};
  for (const [network, settings] of Object.entries(raw ?? {})) {
    out[network] = (settings?.Aliases ?? []).filter((a) => !(a.length >= 12 && containerId.startsWith(a)));
  }
  return out;
}

function positivePid(pid: number): number {
  // Pid 0 means "not running" in docker inspect; `kill -9 0` would signal our own process group.
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`not a container process id: ${pid}`);
  return pid;
}

/** What limits a container's CPU, as `docker inspect` says (0: not set). */
export interface CpuLimit {
  nanoCpus: number;
  cpuQuota: number;
  cpuPeriod: number;
}

export function inspectHostConfigArgs(container: string): string[] {
  return ['inspect', '--format', '{{json .HostConfig}}', container];
}

export function parseCpuLimit(json: string): CpuLimit {
  const raw = JSON.parse(json.trim() || '{}') as { NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number } | null;
  return { nanoCpus: raw?.NanoCpus ?? 0, cpuQuota: raw?.CpuQuota ?? 0, cpuPeriod: raw?.CpuPeriod ?? 0 };
}

/** The CFS period the throttle uses: Docker's default. */
const PERIOD_US = 100_000;

/**
 * `docker update` that leaves the container `cpus` of a core. Through the CFS quota, which a
 * later -1 lifts for good (`--cpus` cannot be reset, and would come back at a restart); a
 * container that already has `cpus` set is throttled through it (Docker refuses a quota then).
 */
export function throttleCpuArgs(container: string, cpus: number, current: CpuLimit): string[] {
  if (current.nanoCpus > 0) return ['update', '--cpus', String(Math.min(cpus, current.nanoCpus / 1e9)), container];
  return [
    'update',
    '--cpu-period',
    String(PERIOD_US),
    '--cpu-quota',
    String(Math.max(1000, Math.round(cpus * PERIOD_US))),
    container,
  ];
}

/** `docker update` back to the limit the container had (a quota of 0, "none", is written -1). */
export function restoreCpuArgs(container: string, original: CpuLimit): string[] {
  if (original.nanoCpus > 0) return ['update', '--cpus', String(original.nanoCpus / 1e9), container];
  return ['update', '--cpu-quota', String(original.cpuQuota > 0 ? original.cpuQuota : -1), container];
}

/** The kernel's CFS counters of a container, from the Engine API's stats. */
export interface CpuThrottling {
  periods: number;
  throttledPeriods: number;
  throttledNs: number;
}

export function parseThrottling(json: string): CpuThrottling {
  const raw = JSON.parse(json) as {
    cpu_stats?: { throttling_data?: { periods?: number; throttled_periods?: number; throttled_time?: number } };
  };
  const t = raw.cpu_stats?.throttling_data;
  if (!t) throw new Error("the Engine API's stats carry no CPU throttling counters");
  return { periods: t.periods ?? 0, throttledPeriods: t.throttled_periods ?? 0, throttledNs: t.throttled_time ?? 0 };
}

/** What limits a container's memory, as `docker inspect` says (0: not set; a swap of -1: unlimited). */
export interface MemoryLimit {
  memory: number;
  memorySwap: number;
}

export function parseMemoryLimit(json: string): MemoryLimit {
  const raw = JSON.parse(json.trim() || '{}') as { Memory?: number; MemorySwap?: number } | null;
  return { memory: raw?.Memory ?? 0, memorySwap: raw?.MemorySwap ?? 0 };
}

/** Docker refuses a memory limit under 6 MiB. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * MIB;

/** `docker update` that holds the container to `bytes` of memory with no swap beyond it. */
export function limitMemoryArgs(container: string, bytes: number): string[] {
  const limit = String(Math.max(MIN_MEMORY_LIMIT_BYTES, Math.round(bytes)));
  return ['update', '--memory', limit, '--memory-swap', limit, container];
}

/**
 * The `docker update`s that lift a memory limit: the swap limit raised first (cgroup v1 refuses a
 * memory limit above it, and an update to -1 leaves the kernel's value as it was), then the limit
 * the container had. Docker cannot remove a limit once set: "none" comes back as the host's memory.
 */
export function restoreMemoryArgs(
  container: string,
  original: MemoryLimit,
  lowered: number,
  hostBytes: number,
): string[][] {
  const memory = original.memory > 0 ? original.memory : hostBytes;
  const swap = original.memory > 0 && original.memorySwap > 0 ? original.memorySwap : -1;
  const raised = swap > 0 ? swap : 2 * memory;
  return [
    ['update', '--memory', String(lowered), '--memory-swap', String(raised), container],
    ['update', '--memory', String(memory), '--memory-swap', String(swap), container],
  ];
}

/** A container's memory as its cgroup counts it, from the Engine API's stats (bytes). */
export interface MemoryUsage {
  /** Everything charged to the cgroup, page cache included. */
  usage: number;
  /** The process's own (anonymous) memory, which the kernel cannot reclaim without swap. */
  anon: number;
  limit: number;
}

export function parseMemoryUsage(json: string): MemoryUsage {
  const raw = JSON.parse(json) as {
    memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number | undefined> };
  };
  const m = raw.memory_stats;
  if (!m || m.usage === undefined) throw new Error("the Engine API's stats carry no memory counters");
  // cgroup v2 names it anon; cgroup v1 total_rss (rss without the cgroup's children).
  const anon = m.stats?.anon ?? m.stats?.total_rss ?? m.stats?.rss ?? m.usage;
  return { usage: m.usage, anon, limit: m.limit ?? 0 };
}
