import type { Cohort, Observation } from '../../src/analysis/observation.ts';

// Builds observation windows for analysis tests: n requests one every 100 ms, the first
// `errors` of them failing (status 500) unless `errorAt` says which, latency from a function.
export interface WindowSpec {
  n: number;
  errors?: number;
  errorAt?: (i: number) => boolean;
  latency?: (i: number) => number;
  start?: number;
  status?: number;
}

export function makeWindow(cohort: Cohort, spec: WindowSpec): Observation[] {
  const { n, errors = 0, latency = () => 20, start = 0, status = 500 } = spec;
  const isErr = spec.errorAt ?? ((i: number) => i < errors);
  return Array.from({ length: n }, (_, i) => ({
    at: start + i * 100,
    region: 'us-west',
    version: cohort === 'canary' ? 'v2' : 'v1',
    cohort,
    route: '/health',
    status: isErr(i) ? status : 200,
    latencyMs: latency(i),
  }));
}
