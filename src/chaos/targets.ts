import { createRandom, type Random } from '../util/random.ts';
import type { Experiment } from './experiment.ts';

// Randomness of a chaos run comes from its seed alone. Each experiment gets its own stream,
// derived from the seed and its name, so `--only x` picks the same region for x as the
// whole suite does with the same seed.

/** FNV-1a, 32 bits: a stable number for a name. */
export function nameHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The experiment's random stream for a purpose ("target", "traffic"). */
export function experimentRandom(seed: number, experiment: string, purpose: string): Random {
  return createRandom((seed ^ nameHash(`${experiment}/${purpose}`)) >>> 0);
}

/** The regions the fault goes to: the named ones, or one drawn from the stack's regions. */
export function resolveTargets(
  experiment: Pick<Experiment, 'name' | 'target'>,
  regions: readonly string[],
  seed: number,
): string[] {
  if ('regions' in experiment.target) return [...experiment.target.regions];
  if (regions.length === 0) throw new RangeError('the stack has no regions to choose from');
  const pick = Math.floor(experimentRandom(seed, experiment.name, 'target').next() * regions.length);
  return [regions[Math.min(pick, regions.length - 1)] as string];
}
