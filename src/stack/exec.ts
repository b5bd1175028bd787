import { execa } from 'execa';

// The one place that starts processes. Always a file and an argument array, never a shell
// string, so nothing a user wrote is ever interpreted by a shell. Unit tests spy on `exec`.
export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Called with each line of stdout and stderr as it arrives (progress for long builds). */
  onLine?: (line: string) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export const execWrapper = {
  async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const child = execa(file, [...args], {
      // execa's own defaults where an option is not given: no extra variables, this cwd, no timeout.
      env: options.env ?? {},
      extendEnv: true,
      cwd: options.cwd ?? process.cwd(),
      timeout: options.timeoutMs ?? 0,
      reject: false,
      stdin: 'ignore',
      all: false,
    });
    if (options.onLine) forwardLines(child, options.onLine);
    const result = await child;
    return {
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : 1,
      stdout: String(result.stdout ?? ''),
      stderr:
        String(result.stderr ?? '') || (result.failed && result.exitCode === undefined ? String(result.message) : ''),
      timedOut: Boolean(result.timedOut),
    };
  },
};

function forwardLines(
  child: { stdout: NodeJS.ReadableStream | null; stderr: NodeJS.ReadableStream | null },
  onLine: (line: string) => void,
): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    });
  }
}
