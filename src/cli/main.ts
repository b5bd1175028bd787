import { UsageError } from '../util/errors.ts';
import { EXIT } from '../gate/exit.ts';
import { InfraError } from '../stack/errors.ts';
import { parseCommand, type Command } from './args.ts';
import { helpText } from './help.ts';
import { consoleProgress } from './output.ts';
import { runDown, runStatus, runUp } from './commands/stack.ts';
import { runDeploy } from './commands/deploy.ts';
import { runSimulate } from './commands/simulate.ts';
import { runGateCommand } from './commands/gate.ts';
import { runChaos } from './commands/chaos.ts';
import { runPredict } from './commands/predict.ts';
import { runPlan } from './commands/plan.ts';
import { Interrupted, withSignals } from './signals.ts';

export { EXIT };

export interface CommandContext {
  progress: ReturnType<typeof consoleProgress>;
  signal: AbortSignal;
  /** The command's result (stdout): with --json nothing but the JSON goes here. */
  out: (text: string) => void;
  /** Lines a person must see whatever the output format (stderr). */
  err: (line: string) => void;
  /** The clock (ms since the epoch): seeds, start times and durations. */
  now: () => number;
}

export type Dispatch = (command: Exclude<Command, { name: 'help' }>, ctx: CommandContext) => Promise<number>;

/** Where main writes, and what runs a parsed command: the process and the real commands, or a test's. */
export interface MainIo {
  out: (text: string) => void;
  err: (line: string) => void;
  dispatch: Dispatch;
  /** The clock handed to commands; Date.now unless a test gives its own. */
  now?: () => number;
}

const processIo: MainIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  dispatch,
};

/** Parses, runs one command, and turns every outcome into an exit status. */
export async function main(argv: readonly string[], io: MainIo = processIo): Promise<number> {
  const { out, err } = io;
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (e) {
    return report(e, err);
  }
  if (command.name === 'help') {
    out(helpText(command.topic));
    return EXIT.ok;
  }
  try {
    return await withSignals(async (signal) => {
      const progress = consoleProgress(undefined, err);
      // The live status line ends before a command's result or its loud lines print, so
      // neither lands on it; later progress lines print plain.
      const finish =
        <T extends unknown[]>(write: (...a: T) => void) =>
        (...a: T) => {
          progress.stop();
          write(...a);
        };
      try {
        const now = io.now ?? Date.now;
        return await io.dispatch(command, { progress, signal, out: finish(out), err: finish(err), now });
      } finally {
        progress.stop();
      }
    });
  } catch (e) {
    return report(e, err);
  }
}

export function dispatch(command: Exclude<Command, { name: 'help' }>, ctx: CommandContext): Promise<number> {
  switch (command.name) {
    case 'up':
      return runUp(ctx);
    case 'down':
      return runDown(ctx);
    case 'status':
      return runStatus(command, ctx);
    case 'deploy':
      return runDeploy(command, ctx);
    case 'simulate':
      return runSimulate(command, ctx);
    case 'gate':
      return runGateCommand(command, ctx);
    case 'chaos':
      return runChaos(command, ctx);
    case 'predict':
      return runPredict(command, ctx);
    case 'plan':
      return runPlan(command, ctx);
  }
}

function report(e: unknown, err: (line: string) => void): number {
  if (e instanceof UsageError) {
    for (const line of e.message.split('\n')) err(`error: ${line}`);
    err("run 'chaos-gate help' for usage");
    return EXIT.usage;
  }
  if (e instanceof InfraError) {
    err(`infrastructure failure: ${e.message}`);
    for (const line of e.details) err(`  ${line}`);
    return EXIT.infra;
  }
  if (e instanceof Interrupted) {
    err(`interrupted by ${e.signalName}; cleanup done`);
    return EXIT.interrupted;
  }
  err(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return EXIT.infra;
}
