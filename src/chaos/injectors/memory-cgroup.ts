import type { MemoryLimit, MemoryUsage } from '../../stack/docker-args.ts';
import type { Fault } from '../experiment.ts';
import { MIB, mib } from '../../util/format.ts';
import { systemClock } from '../../util/poll.ts';
import { undoEach, type InjectorContext, type Injection, type TargetContainer } from './injector.ts';

// memory, method cgroup: memory pressure from outside the process, with no help from the
// service. Each target's memory limit (`docker update`) is set to its own (anonymous) memory
// plus `mb` MiB, so a process that grows past that while the fault holds is OOM-killed. The
// evidence is the kernel's: the cgroup's limit must read back as set (or the experiment could
// not run), and its usage is sampled while the limit holds, so the result says how close each
// target came to it.

type MemoryFault = Extract<Fault, { kind: 'memory' }>;

/** How long inject() waits for the cgroup to report the new limit. */
const EFFECT_WINDOW_MS = 3000;
const POLL_MS = 250;
/** How often usage is sampled while the limit holds. */
const SAMPLE_MS = 500;

interface Held {
  target: TargetContainer;
  original: MemoryLimit;
  lowered: number;
  before: MemoryUsage;
  peak?: number;
}

/** The limit for a cgroup holding `now`: its own memory plus `mb`. */
export function memoryLimitFor(now: MemoryUsage, mb: number): number {
  return now.anon + mb * MIB;
}

/** Waits until each target's cgroup reports its new limit; the ones whose never did. */
async function notHeld(ctx: InjectorContext, held: readonly Held[]): Promise<Held[]> {
  const deadline = Date.now() + EFFECT_WINDOW_MS;
  let missing = held;
  while (missing.length > 0 && Date.now() < deadline) {
    await systemClock.sleep(POLL_MS);
    const now = await Promise.all(missing.map(async (h) => ({ h, u: await usage(ctx, h) })));
    missing = now.filter(({ h, u }) => u === undefined || u.limit > h.lowered).map(({ h }) => h);
  }
  return [...missing];
}

/** The target's usage now, its peak kept; undefined while the container is restarting. */
async function usage(ctx: InjectorContext, h: Held): Promise<MemoryUsage | undefined> {
  const u = await ctx.control.memoryUsage(h.target.container.id).catch(() => undefined);
  if (u && u.usage > (h.peak ?? 0)) h.peak = u.usage;
  return u;
}

/** Samples every target's usage until stopped. */
function sampler(ctx: InjectorContext, held: readonly Held[]): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await Promise.all(held.map((h) => usage(ctx, h)));
      await systemClock.sleep(SAMPLE_MS);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

function heldText(h: Held): string {
  const peak = h.peak === undefined ? '' : `, at most ${mib(h.peak)} MiB used`;
  const before = `${mib(h.before.anon)} its own, ${mib(h.before.usage)} in all`;
  return `${h.target.region} ${mib(h.lowered)} MiB (${before}${peak})`;
}

export function memoryCgroupInjection(fault: MemoryFault, ctx: InjectorContext): Injection {
  const held: Held[] = [];
  let originals: { target: TargetContainer; original: MemoryLimit }[] | undefined;
  let stop: (() => Promise<void>) | undefined;
  let shown: string | undefined;
  const read = async () => {
    originals ??= await Promise.all(
      ctx.targets.map(async (target) => ({ target, original: await ctx.control.memoryLimit(target.container.id) })),
    );
    return originals;
  };
  return {
    async guard() {
      return (await read()).map(({ target, original }) => ({
        kind: 'memory-limit' as const,
        container: target.container.id,
        memory: original.memory,
        memorySwap: original.memorySwap,
      }));
    },
    async inject() {
      for (const { target, original } of await read()) {
        const before = await ctx.control.memoryUsage(target.container.id);
        const lowered = memoryLimitFor(before, fault.mb);
        await ctx.control.limitMemory(target.container.id, lowered);
        held.push({ target, original, lowered, before });
      }
      const missing = await notHeld(ctx, held);
      if (missing.length > 0) {
        const why = missing.map((h) => `${h.target.region}: its cgroup does not report ${mib(h.lowered)} MiB`);
        throw new Error(`the memory limit did not take effect in ${EFFECT_WINDOW_MS / 1000} s: ${why.join('; ')}`);
      }
      stop = sampler(ctx, held);
      return {
        method: 'cgroup-memory-limit',
        notes: [`each target held to its own memory plus ${fault.mb} MiB: ${held.map(heldText).join('; ')}`],
      };
    },
    async revert() {
      await stop?.();
      if (held.length > 0 && stop) shown = `memory limit held: ${held.map(heldText).join('; ')}`;
      await undoEach(held, (h) => ctx.control.restoreMemory(h.target.container.id, h.original, h.lowered));
    },
    evidence: () => shown,
  };
}
