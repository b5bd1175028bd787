import { regionHomeNetwork } from '../stack/warden.ts';
import { InfraError } from '../stack/errors.ts';
import type { ContainerControl } from '../stack/docker-control.ts';
import type { ContainerFacts } from '../stack/inspect.ts';
import { probeHealth } from '../stack/probe.ts';
import type { Stack } from '../stack/stack.ts';
import { dependencyServices, regionUrl, type RegionTarget } from '../stack/target.ts';
import { pollUntil } from '../util/poll.ts';
import type { Progress } from '../util/progress.ts';
import { activeFaults, liftFaults } from './endpoint.ts';

// Is the stack fit for the next experiment, and if not, make it so: every region's
// container running, on its network, answering /health with 200, with no fault left active.
// Repairs are reported, never silent: a container that did not come back by itself is a
// finding of the experiment that left it down.

async function problemsNow(stack: Stack, token: string, regions: readonly RegionTarget[]): Promise<string[]> {
  const containers = await stack.containers();
  const problems = await Promise.all(
    regions.map(async (region): Promise<string | undefined> => {
      const c = containers.find((x) => x.service === region.service);
      if (!c) return `${region.service}: no container`;
      if (c.state !== 'running') return `${region.service}: ${c.state}`;
      if (c.networks.length === 0) return `${region.service}: on no network`;
      const url = regionUrl(stack.target, region);
      if (!(await probeHealth(url, stack.target.healthPath, 2000)))
        return `${region.service}: ${stack.target.healthPath} does not answer 200`;
      // A user's service has no fault endpoint: its faults are all outside it.
      if (stack.target.service) return undefined;
      const faults = await activeFaults(url, token);
      if (faults === undefined) return `${region.service}: /faults does not answer (is the fault token set?)`;
      return faults.length > 0 ? `${region.service}: faults still active (${faults.join(', ')})` : undefined;
    }),
  );
  return [...problems.filter((p): p is string => p !== undefined), ...dependencyProblems(stack, containers)];
}

/** A user's dependencies must run too (not paused, not stopped): the next experiment needs them. */
function dependencyProblems(stack: Stack, containers: readonly ContainerFacts[]): string[] {
  const names = new Set(
    dependencyServices(
      stack.target.service?.dependencies ?? [],
      stack.target.regions.map((r) => r.name),
    ),
  );
  return containers.filter((c) => names.has(c.service) && c.state !== 'running').map((c) => `${c.service}: ${c.state}`);
}

/** Problems that last `graceMs` (a container restarting right now gets that long); [] when healthy. */
export async function stackProblems(
  stack: Stack,
  token: string,
  regions: readonly RegionTarget[],
  graceMs = 10_000,
): Promise<string[]> {
  let last: string[] = [];
  const ok = await pollUntil(
    async () => {
      last = await problemsNow(stack, token, regions);
      return last.length === 0 ? true : undefined;
    },
    { deadlineMs: graceMs, intervalMs: 250 },
  );
  return ok ? [] : last;
}

/** Repairs what it can and says what it did; throws InfraError when the stack stays unhealthy. */
export async function repairStack(
  stack: Stack,
  control: ContainerControl,
  token: string,
  regions: readonly RegionTarget[],
  progress: Progress,
): Promise<string[]> {
  const actions: string[] = [];
  const containers = await stack.containers();
  // Region containers belong on the networks the rest of the project is on.
  const expected = new Set(containers.flatMap((c) => c.networks));
  // `up` recreates what is missing, and a container recreated without the fault token (a
  // deploy in between) gets it back: up keeps the token the other containers carry.
  const needUp: string[] = [];
  const user = stack.target.service !== undefined;
  actions.push(...(await repairDependencies(stack, control, containers)));
  for (const region of regions) {
    const c = containers.find((x) => x.service === region.service);
    if (!c || (!user && !c.env.FAULT_TOKEN)) {
      needUp.push(`${region.service} ${c ? 'has no fault token' : 'is missing'}`);
      continue;
    }
    if (c.state === 'exited' || c.state === 'created' || c.state === 'dead') {
      await control.start(c.id);
      actions.push(
        `started ${region.service} again (it was ${c.state}${c.oomKilled ? ', OOM-killed' : ''}, ` +
          `exit code ${c.exitCode}, restarts ${c.restartCount})`,
      );
      continue;
    }
    // A user's region belongs on its home network only (behind fault proxies, its own).
    for (const network of user ? [regionHomeNetwork(stack.target, region.name)] : expected) {
      if (c.state === 'running' && !c.networks.includes(network)) {
        await control.connect(c.id, network, [region.service]);
        actions.push(`reconnected ${region.service} to ${network}`);
      }
    }
    const lifted = user ? undefined : await liftFaults(regionUrl(stack.target, region), token);
    if (lifted) actions.push(`lifted ${lifted} fault(s) left on ${region.service}`);
  }
  if (needUp.length > 0) {
    await stack.up();
    actions.push(`brought the stack up again (${needUp.join(', ')})`);
  }
  for (const action of actions) progress.warn(`repair: ${action}`);
  const left = await stackProblems(stack, token, regions, 60_000);
  if (left.length > 0) throw new InfraError('the stack could not be made healthy again', left);
  return actions;
}

/** Unpauses or starts a dependency left paused or stopped. */
async function repairDependencies(
  stack: Stack,
  control: ContainerControl,
  containers: readonly ContainerFacts[],
): Promise<string[]> {
  const actions: string[] = [];
  const names = new Set(
    dependencyServices(
      stack.target.service?.dependencies ?? [],
      stack.target.regions.map((r) => r.name),
    ),
  );
  for (const c of containers) {
    if (!names.has(c.service) || c.state === 'running') continue;
    if (c.state === 'paused') await control.unpause(c.id);
    else await control.start(c.id);
    actions.push(`${c.state === 'paused' ? 'unpaused' : 'started'} the dependency ${c.service} (it was ${c.state})`);
  }
  return actions;
}

/** Healthy, or repaired to healthy; returns the repairs made. */
export async function ensureHealthy(
  stack: Stack,
  control: ContainerControl,
  token: string,
  regions: readonly RegionTarget[],
  progress: Progress,
): Promise<string[]> {
  const problems = await stackProblems(stack, token, regions);
  if (problems.length === 0) return [];
  for (const p of problems) progress.warn(`unhealthy: ${p}`);
  return repairStack(stack, control, token, regions, progress);
}
