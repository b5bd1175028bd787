import {
  limitMemoryArgs,
  parseMemoryLimit,
  parseMemoryUsage,
  restoreMemoryArgs,
  type MemoryLimit,
  type MemoryUsage,
  asRoot,
  inspectHostConfigArgs,
  inspectNetworksArgs,
  parseCpuLimit,
  parseThrottling,
  restoreCpuArgs,
  throttleCpuArgs,
  type CpuLimit,
  type CpuThrottling,
  killArgs,
  netemAddArgs,
  netemDeleteArgs,
  netemUnsupported,
  networkConnectArgs,
  networkDisconnectArgs,
  nothingToDelete,
  parseNetworkAliases,
  pauseArgs,
  startArgs,
  stopArgs,
  unpauseArgs,
  type HostCommand,
} from './docker-args.ts';
import { engineGet } from './docker-engine.ts';
import { InfraError } from './errors.ts';
import { execWrapper, type ExecResult } from './exec.ts';

// What the chaos injectors do to containers beyond Compose: crash a container's process,
// delay its traffic, cut it off its networks and put it back, start it again. The chaos
// code sees only this interface, so another backend can bring its own.

export type DelayOutcome = { ok: true; method: string } | { ok: false; reason: string };

export interface ContainerControl {
  /** SIGKILL of the main process (a crash); returns how it was sent. */
  crash(pid: number): Promise<string>;
  /** Adds delay to everything the container sends; { ok: false } when this host cannot. */
  addDelay(pid: number, delayMs: number, jitterMs: number): Promise<DelayOutcome>;
  /** Removes an added delay; nothing to do is fine. */
  clearDelay(pid: number): Promise<void>;
  /** Network name -> the aliases the container has on it. */
  networks(containerId: string): Promise<Record<string, string[]>>;
  disconnect(containerId: string, network: string): Promise<void>;
  connect(containerId: string, network: string, aliases: readonly string[]): Promise<void>;
  start(containerId: string): Promise<void>;
  pause(containerId: string): Promise<void>;
  unpause(containerId: string): Promise<void>;
  stop(containerId: string): Promise<void>;
  cpuLimit(containerId: string): Promise<CpuLimit>;
  /** Leaves the container `cpus` of a core (a CFS quota), from what it has now. */
  throttleCpu(containerId: string, cpus: number, current: CpuLimit): Promise<void>;
  restoreCpu(containerId: string, original: CpuLimit): Promise<void>;
  /** The kernel's CFS counters of the container: how often it was held back. */
  cpuThrottling(containerId: string): Promise<CpuThrottling>;
  memoryLimit(containerId: string): Promise<MemoryLimit>;
  /** Holds the container to `bytes` of memory (its cgroup limit), with no swap beyond it. */
  limitMemory(containerId: string, bytes: number): Promise<void>;
  /** Gives back the limit it had (none: the host's whole memory), from the `lowered` one now set. */
  restoreMemory(containerId: string, original: MemoryLimit, lowered: number): Promise<void>;
  /** The Docker host's whole memory (bytes): what a lifted memory limit comes back as. */
  hostMemory(): Promise<number>;
  /** The container's memory as its cgroup counts it. */
  memoryUsage(containerId: string): Promise<MemoryUsage>;
}

/** Seconds a stopped dependency gets to shut down cleanly before SIGKILL. */
const STOP_SECONDS = 10;

/** The network device a container's single Compose network gets. */
const DEVICE = 'eth0';

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function lastLine(res: ExecResult): string {
  return res.stderr.trim().split('\n').pop() ?? `exit ${res.exitCode}`;
}

async function host(command: HostCommand, timeoutMs = 15_000): Promise<ExecResult & { shown: string }> {
  const cmd = asRoot(command, isRoot());
  const res = await execWrapper
    .exec(cmd.file, cmd.args, { timeoutMs })
    .catch((e: unknown) => ({ exitCode: 127, stdout: '', stderr: String(e), timedOut: false }));
  return { ...res, shown: [cmd.file, ...cmd.args].join(' ') };
}

async function docker(args: string[], what: string): Promise<ExecResult> {
  const res = await execWrapper.exec('docker', args, { timeoutMs: 30_000 });
  if (res.exitCode !== 0) throw new InfraError(`${what} failed: docker ${args.join(' ')}: ${lastLine(res)}`);
  return res;
}

export const dockerControl: ContainerControl = {
  async crash(pid) {
    const res = await host(killArgs(pid));
    if (res.exitCode !== 0)
      throw new InfraError(`cannot crash the container: ${res.shown}: ${lastLine(res)}`, [
        'the kill experiment needs root or passwordless sudo on the Docker host',
      ]);
    return isRoot() ? 'host-kill-9' : 'host-sudo-kill-9';
  },

  async addDelay(pid, delayMs, jitterMs) {
    const res = await host(netemAddArgs(pid, DEVICE, delayMs, jitterMs));
    if (res.exitCode === 0) return { ok: true, method: 'tc-netem' };
    const why = lastLine(res);
    return {
      ok: false,
      reason: netemUnsupported(res.stderr) ? `the kernel has no netem qdisc (${why})` : `${res.shown}: ${why}`,
    };
  },

  async clearDelay(pid) {
    const res = await host(netemDeleteArgs(pid, DEVICE));
    if (res.exitCode !== 0 && !nothingToDelete(res.stderr))
      throw new InfraError(`cannot remove the netem delay: ${res.shown}: ${lastLine(res)}`);
  },

  async networks(containerId) {
    const res = await docker(inspectNetworksArgs(containerId), "reading the container's networks");
    return parseNetworkAliases(res.stdout, containerId);
  },

  async disconnect(containerId, network) {
    await docker(networkDisconnectArgs(network, containerId), `disconnecting from ${network}`);
  },

  async connect(containerId, network, aliases) {
    await docker(networkConnectArgs(network, containerId, aliases), `reconnecting to ${network}`);
  },

  async start(containerId) {
    await docker(startArgs(containerId), 'starting the container');
  },

  async pause(containerId) {
    await docker(pauseArgs(containerId), 'pausing the container');
  },

  async unpause(containerId) {
    await docker(unpauseArgs(containerId), 'unpausing the container');
  },

  async stop(containerId) {
    await docker(stopArgs(containerId, STOP_SECONDS), 'stopping the container');
  },

  async cpuLimit(containerId) {
    return parseCpuLimit(
      (await docker(inspectHostConfigArgs(containerId), "reading the container's CPU limit")).stdout,
    );
  },

  async throttleCpu(containerId, cpus, current) {
    await docker(throttleCpuArgs(containerId, cpus, current), "limiting the container's CPU");
  },

  async restoreCpu(containerId, original) {
    await docker(restoreCpuArgs(containerId, original), "restoring the container's CPU limit");
  },

  async memoryLimit(containerId) {
    const res = await docker(inspectHostConfigArgs(containerId), "reading the container's memory limit");
    return parseMemoryLimit(res.stdout);
  },

  async limitMemory(containerId, bytes) {
    await docker(limitMemoryArgs(containerId, bytes), "limiting the container's memory");
  },

  async hostMemory() {
    const info = JSON.parse(await engineGet('/info')) as { MemTotal?: number };
    if (!info.MemTotal) throw new InfraError("the Engine API's /info gives no MemTotal");
    return info.MemTotal;
  },

  async restoreMemory(containerId, original, lowered) {
    const host = original.memory > 0 ? original.memory : await this.hostMemory();
    for (const args of restoreMemoryArgs(containerId, original, lowered, host))
      await docker(args, "restoring the container's memory limit");
  },

  async memoryUsage(containerId) {
    return parseMemoryUsage(
      await engineGet(`/containers/${encodeURIComponent(containerId)}/stats?stream=false&one-shot=true`),
    );
  },

  async cpuThrottling(containerId) {
    return parseThrottling(
      await engineGet(`/containers/${encodeURIComponent(containerId)}/stats?stream=false&one-shot=true`),
    );
  },
};
