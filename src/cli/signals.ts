// SIGINT/SIGTERM abort the running command through an AbortSignal, so it unwinds through
// its own finally blocks (faults lifted, canaries removed, regions rolled back) instead of
// dying mid-step. A second signal exits at once.
export class Interrupted extends Error {
  readonly signalName: string;
  constructor(signalName: string) {
    super(`interrupted by ${signalName}`);
    this.name = 'Interrupted';
    this.signalName = signalName;
  }
}

export async function withSignals<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`second ${name}: exiting without cleanup\n`);
      process.exit(130);
    }
    process.stderr.write(`${name} received: cleaning up (send again to exit at once)\n`);
    controller.abort(new Interrupted(name));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await run(controller.signal);
    // A signal that arrived during the last cleanup still means the run was interrupted.
    if (controller.signal.aborted) throw controller.signal.reason;
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
