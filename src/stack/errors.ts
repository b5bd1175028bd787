// Infrastructure failures (no Docker, a service that did not come up, a rollback that
// could not be verified) end a run with exit status 3, distinct from a closed gate (1) and
// from bad input (2).
export class InfraError extends Error {
  /** Extra lines a person needs to act: the end of a service's log, a region's state. */
  readonly details: readonly string[];
  constructor(message: string, details: readonly string[] = []) {
    super(message);
    this.name = 'InfraError';
    this.details = details;
  }
}
