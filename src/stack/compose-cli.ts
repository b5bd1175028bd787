// Compose comes in two forms: the v2 plugin (`docker compose`, GitHub runners) and the v1
// binary (`docker-compose`, Debian here). Both take the same subcommands we use.
export interface ComposeCli {
  /** The program to run: "docker" for v2, "docker-compose" for v1. */
  file: string;
  /** Words before the compose arguments: ["compose"] for v2, [] for v1. */
  prefix: readonly string[];
  /** Parsed version, e.g. "2.29.1" or "1.29.2". */
  version: string;
  major: number;
}

/**
 * Reads a version from `docker compose version` / `docker-compose version` output, e.g.
 * "Docker Compose version v2.29.1", "docker-compose version 1.29.2, build unknown",
 * or the bare "2.29.1" of `--short`. Returns undefined when there is none.
 */
export function parseComposeVersion(output: string): string | undefined {
  const match = /(?:^|[\sv])(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)/.exec(output.trim());
  return match?.[1];
}

export function composeCli(kind: 'v2' | 'v1', versionOutput: string): ComposeCli | undefined {
  const version = parseComposeVersion(versionOutput);
  if (!version) return undefined;
  const major = Number(version.split('.')[0]);
  return kind === 'v2'
    ? { file: 'docker', prefix: ['compose'], version, major }
    : { file: 'docker-compose', prefix: [], version, major };
}
