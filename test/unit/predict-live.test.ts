import { describe, expect, it } from 'vitest';
import { defaultPredictPlan, toPredictPlan } from '../../src/predict/config.ts';
import { defaultRolloutPlan } from '../../src/config/rollout.ts';
import { predictExitCode } from '../../src/gate/exit.ts';
import { preflightRegion, profileMix } from '../../src/predict/live.ts';
import { pickKind } from '../../src/traffic/mix.ts';

describe('the live pre-flight', () => {
  it("sends the profile's write share as writes, the rest as reads and health checks", () => {
    const mix = profileMix(0.5);
    expect(mix).toEqual({ health: 0.25, write: 0.5, read: 0.25 });
    const kinds = Array.from({ length: 1000 }, (_, i) => pickKind(mix, i / 1000, true));
    expect(kinds.filter((k) => k === 'write')).toHaveLength(500);
    // No writes: nothing to read back, so no read would be turned into a write.
    expect(
      Array.from({ length: 100 }, (_, i) => pickKind(profileMix(0), i / 100, false)).every((k) => k === 'health'),
    ).toBe(true);
  });

  it("runs in the configured region, else the rollout's first", () => {
    const rollout = { ...defaultRolloutPlan(), regions: ['eu-west', 'us-west'] };
    expect(preflightRegion(rollout, defaultPredictPlan())).toBe('eu-west');
    expect(preflightRegion(rollout, toPredictPlan({ preflight: { region: 'us-west' } }, 't'))).toBe('us-west');
  });

  it('exits 1 only when the prediction says close', () => {
    const withAction = (action: 'proceed' | 'small-tiers' | 'close') =>
      ({ prediction: { action: { action } } }) as Parameters<typeof predictExitCode>[0];
    expect([
      predictExitCode(withAction('proceed')),
      predictExitCode(withAction('small-tiers')),
      predictExitCode(withAction('close')),
    ]).toEqual([0, 0, 1]);
  });
});
