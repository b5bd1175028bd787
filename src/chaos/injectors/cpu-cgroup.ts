import type { CpuLimit, CpuThrottling } from '../../stack/docker-args.ts';
import type { Fault } from '../experiment.ts';
import { systemClock } from '../../util/poll.ts';
import { undoEach, type InjectorContext, type Injection, type TargetContainer } from './injector.ts';

// cpu, method cgroup: CPU starvation from outside the process, with no help from the service.
// Each target container gets a CFS quota of `cpus` of a core (`docker update`), and is given
// its own limit back when the fault lifts. The evidence is the kernel's: the container's own
// throttling counters must rise while the quota holds, or the fault did nothing measurable
// and the experiment could not run. A loaded host cannot weaken it: the quota is the ceiling.

type CpuFault = Extract<Fault, { kind: 'cpu' }>;

/** How long inject() waits for the first throttled period (the target is under load by then). */
const EFFECT_WINDOW_MS = 3000;
const POLL_MS = 250;

interface Throttled {
  target: TargetContainer;
  original: CpuLimit;
  before: CpuThrottling;
}

/** Waits until each target was held back at least once by its quota; the ones that were not. */
async function unthrottled(ctx: InjectorContext, held: readonly Throttled[]): Promise<string[]> {
  const deadline = Date.now() + EFFECT_WINDOW_MS;
  let missing = held;
  while (missing.length > 0 && Date.now() < deadline) {
    await systemClock.sleep(POLL_MS);
    const now = await Promise.all(
      missing.map(async (h) => ({ h, t: await ctx.control.cpuThrottling(h.target.container.id) })),
    );
    missing = now.filter(({ h, t }) => t.throttledPeriods <= h.before.throttledPeriods).map(({ h }) => h);
  }
  return missing.map((h) => h.target.region);
}

export function cpuCgroupInjection(fault: CpuFault, ctx: InjectorContext): Injection {
  const held: Throttled[] = [];
  let originals: { target: TargetContainer; original: CpuLimit }[] | undefined;
  const read = async () => {
    originals ??= await Promise.all(
      ctx.targets.map(async (target) => ({ target, original: await ctx.control.cpuLimit(target.container.id) })),
    );
    return originals;
  };
  return {
    async guard() {
      return (await read()).map(({ target, original }) => ({
        kind: 'cpu-limit' as const,
        container: target.container.id,
        nanoCpus: original.nanoCpus,
        cpuQuota: original.cpuQuota,
      }));
    },
    async inject() {
      for (const { target, original } of await read()) {
        const before = await ctx.control.cpuThrottling(target.container.id);
        await ctx.control.throttleCpu(target.container.id, fault.cpus, original);
        held.push({ target, original, before });
      }
      const missing = await unthrottled(ctx, held);
      if (missing.length > 0)
        throw new Error(
          `the CPU quota (${fault.cpus} of a core) had no measurable effect on ${missing.join(', ')}: ` +
            `no throttled period in ${EFFECT_WINDOW_MS / 1000} s`,
        );
      return {
        method: 'cgroup-cpu-quota',
        notes: [`each target keeps ${fault.cpus} of a core (CFS quota); its throttling counters rose`],
      };
    },
    async revert() {
      await undoEach(held, (h) => ctx.control.restoreCpu(h.target.container.id, h.original));
    },
  };
}
