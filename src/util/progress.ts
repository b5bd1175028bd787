// Every long step reports a line; the CLI prints it with elapsed time, the Action groups it.
export interface Progress {
  step(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export const silentProgress: Progress = { step: () => {}, info: () => {}, warn: () => {} };
