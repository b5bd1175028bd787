import { hostname } from 'node:os';
import type { ContainerControl } from '../stack/docker-control.ts';
import type { Stack } from '../stack/stack.ts';
import { regionMemoryLimit, regionUrl, type RegionTarget } from '../stack/target.ts';
import { describeRecord, type FaultRecord } from '../stack/warden-args.ts';
import { regionHomeNetwork, type Wardens } from '../stack/warden.ts';
import { liftAllToxics, proxyUrl } from '../stack/fault-proxy.ts';
import { mib } from '../util/format.ts';
import type { Progress } from '../util/progress.ts';
import { activeFaults, liftFaults } from './endpoint.ts';

// Faults left by a run that died without lifting them (SIGKILL, OOM, a crashed runner).
// Every command that touches the stack calls liftLeftovers first and says what it found:
// a warden still waiting is fired now, one that already fired is reported, and faults with
// no record (a warden that could not be armed, or failed) are found from the stack's state.

export interface LeftoverDeps {
  stack: Stack;
  wardens: Wardens;
  control: ContainerControl;
  progress: Progress;
  /** Whether the process that set a fault still runs (another gate on this machine). */
  ownerAlive?: (owner: FaultRecord['owner']) => boolean;
}

export function processAlive(owner: FaultRecord['owner'], host: string, self: number = process.pid): boolean {
  if (owner.host !== host || owner.pid === self) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';

/** Lifts what a dead run left; returns one line per finding (empty: nothing was left). */
export async function liftLeftovers(deps: LeftoverDeps): Promise<string[]> {
  const { wardens, progress } = deps;
  const alive = deps.ownerAlive ?? ((o) => processAlive(o, hostname()));
  const lines: string[] = [];
  let othersActive = false;
  for (const w of await wardens.list()) {
    const what = describeRecord(w.record);
    if (w.running && w.record && alive(w.record.owner)) {
      othersActive = true;
      lines.push(`left alone: ${what}: the run that set it is still going`);
      continue;
    }
    if (w.running) {
      const fired = await wardens.fire(w.id);
      lines.push(
        fired.exitCode === 0
          ? `lifted ${what}: the run that set it ended without lifting it`
          : `could not lift ${what}: ${lastLine(fired.log)}`,
      );
    } else if (w.exitCode === 0) {
      lines.push(`${what} was lifted by its warden at ${w.finishedAt ?? 'its expiry'}: the run that set it had died`);
    } else {
      lines.push(`the warden of ${what} failed: ${lastLine(await wardens.log(w.id))}`);
    }
    await wardens.remove(w.id);
  }
  if (!othersActive) lines.push(...(await liftUnrecorded(deps)));
  for (const line of lines) progress.warn(`left by an earlier run: ${line}`);
  return lines;
}

/**
 * Faults no warden accounts for: a region container on no network or under a CPU quota or a
 * memory limit, a paused container, a fault active on a service.
 */
async function liftUnrecorded(deps: LeftoverDeps): Promise<string[]> {
  const { stack, control } = deps;
  const containers = await stack.containers();
  if (containers.length === 0) return [];
  const lines: string[] = [];
  const owned = new Map(
    stack.target.regions.flatMap(
      (r) =>
        [
          [r.service, r],
          [r.canaryService, r],
        ] as const,
    ),
  );
  for (const c of containers) {
    if (!owned.has(c.service) || c.state !== 'running' || c.networks.length > 0) continue;
    await control.connect(c.id, regionHomeNetwork(stack.target, owned.get(c.service)?.name ?? ''), [c.service]);
    lines.push(`${c.service} was on no network (a partition with no record): reconnected`);
  }
  // Compose gives the region containers no CPU quota: one is a cgroup fault with no record.
  for (const c of containers.filter((x) => owned.has(x.service) && (x.cpuQuota ?? 0) > 0)) {
    await control.restoreCpu(c.id, { nanoCpus: 0, cpuQuota: 0, cpuPeriod: 0 });
    lines.push(
      `${c.service} was held to a CPU quota of ${c.cpuQuota ?? 0} µs per period ` +
        '(a cgroup fault with no record): lifted',
    );
  }
  // A memory fault sets no swap beyond its limit, which neither Compose nor a lifted fault does.
  for (const c of containers.filter((x) => owned.has(x.service) && (x.memory ?? 0) > 0 && x.memorySwap === x.memory)) {
    await control.restoreMemory(c.id, regionMemoryLimit(stack.target), c.memory ?? 0);
    lines.push(`${c.service} was held to ${mib(c.memory ?? 0)} MiB of memory (a cgroup fault with no record): lifted`);
  }
  // The project's containers are never paused by anything but a dependency fault.
  for (const c of containers.filter((x) => x.state === 'paused')) {
    await control.unpause(c.id);
    lines.push(`${c.service} was paused (a dependency fault with no record): unpaused`);
  }
  lines.push(...(await proxyLeftovers(stack)));
  const token = containers.map((c) => c.env.FAULT_TOKEN).find(Boolean);
  if (!token) return lines;
  const regions = stack.target.regions.filter((r) =>
    containers.some((c) => c.service === r.service && c.state === 'running'),
  );
  const found = await Promise.all(regions.map((r) => endpointLeftover(stack, r, token)));
  return [...lines, ...found.filter((l): l is string => l !== undefined)];
}

/** Faults still held by a fault proxy (each would expire by itself within seconds): lifted now. */
async function proxyLeftovers(stack: Stack): Promise<string[]> {
  const lines: string[] = [];
  for (const r of stack.target.regions) {
    const url = proxyUrl(stack.target, r);
    const lifted = url === undefined ? 0 : await liftAllToxics(url).catch(() => 0);
    if (lifted > 0) lines.push(`the fault proxy of ${r.name} still held ${lifted} fault(s): lifted`);
  }
  return lines;
}

async function endpointLeftover(stack: Stack, region: RegionTarget, token: string): Promise<string | undefined> {
  const url = regionUrl(stack.target, region);
  const faults = await activeFaults(url, token, 1000);
  if (!faults || faults.length === 0) return undefined;
  const lifted = await liftFaults(url, token);
  const done = lifted === undefined ? 'could not lift them' : 'lifted';
  return `${region.service} still had ${faults.join(', ')} active: ${done}`;
}
