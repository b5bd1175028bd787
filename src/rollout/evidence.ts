import type { RegionEvidence } from './scope.ts';
import type { StageRecord } from './result.ts';

// What the rollout knows about the candidate in each touched region when it aborts: the
// last judged stage there (the failing one's is the stage that aborted) and whether a
// promoted region was verified. decideRollback() weighs it. Pure.

export function regionEvidence(
  touched: readonly string[],
  failedRegion: string,
  stages: readonly StageRecord[],
  verified: ReadonlySet<string>,
): RegionEvidence[] {
  return touched.map((region) => {
    const last = stages.filter((s) => s.region === region).at(-1);
    const promoted = verified.has(region);
    const role: RegionEvidence['role'] = region === failedRegion ? 'failed' : promoted ? 'promoted' : 'canary';
    return {
      region,
      role,
      verdict: last?.verdict ?? null,
      ...(last ? { candidate: last.canary, baseline: last.baseline } : {}),
      ...(promoted && region !== failedRegion ? { verified: true } : {}),
    };
  });
}
