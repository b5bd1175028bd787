import { describe, expect, it } from 'vitest';
import { experimentRandom, nameHash, resolveTargets } from '../../src/chaos/targets.ts';

const REGIONS = ['us-west', 'us-east', 'eu-west', 'ap-south'];

describe('targets', () => {
  it('takes named regions as written', () => {
    expect(resolveTargets({ name: 'a', target: { regions: ['eu-west', 'us-west'] } }, REGIONS, 1)).toEqual([
      'eu-west',
      'us-west',
    ]);
  });

  it('draws a random region from the seed and the experiment name alone', () => {
    const draw = (seed: number, name = 'cpu-spike') =>
      resolveTargets({ name, target: { random: true } }, REGIONS, seed);
    expect(draw(7)).toEqual(draw(7));
    const picks = new Set(Array.from({ length: 40 }, (_, seed) => draw(seed)[0]));
    expect([...picks].sort()).toEqual([...REGIONS].sort()); // every region gets its turn
    for (const pick of picks) expect(REGIONS).toContain(pick);
  });

  it('gives each experiment and purpose its own stream', () => {
    expect(experimentRandom(1, 'a', 'target').next()).not.toBe(experimentRandom(1, 'b', 'target').next());
    expect(experimentRandom(1, 'a', 'target').next()).not.toBe(experimentRandom(1, 'a', 'traffic').next());
  });

  it('hashes names with FNV-1a', () => {
    expect(nameHash('')).toBe(0x811c9dc5);
    expect(nameHash('a')).toBe(0xe40c292c);
  });
});
