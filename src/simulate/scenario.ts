// What a simulation runs against: the stable version (baseline) and the candidate (canary)
// of every region, each modelled by an error rate and a lognormal latency.

export interface LatencyModel {
  medianMs: number;
  /** At least medianMs. */
  p99Ms: number;
}

export interface CohortModel {
  version: string;
  /** Share of requests that fail (HTTP 500), in [0, 1]. */
  errorRate: number;
  latency: LatencyModel;
}

export interface SimulationScenario {
  baseline: CohortModel;
  canary: CohortModel;
  /** Synthetic requests per second per region; the plan's trafficRps when absent. */
  requestsPerSecond?: number;
}
