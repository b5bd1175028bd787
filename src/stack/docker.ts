import { composeCli, type ComposeCli } from './compose-cli.ts';
import { InfraError } from './errors.ts';
import { execWrapper } from './exec.ts';

/** Throws InfraError (exit 3) when no Docker engine answers. */
export async function requireDocker(): Promise<string> {
  const res = await execWrapper
    .exec('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 })
    .catch((e: unknown) => ({ exitCode: 127, stdout: '', stderr: String(e), timedOut: false }));
  if (res.exitCode !== 0 || !res.stdout.trim()) {
    const why = res.stderr.trim().split('\n').pop() ?? 'no answer';
    throw new InfraError(`no Docker engine answers (${why})`, [
      'start Docker, or run scripts/ensure-docker.sh on a Debian machine',
    ]);
  }
  return res.stdout.trim();
}

/** Prefers the Compose v2 plugin; falls back to the v1 binary. */
export async function detectCompose(): Promise<ComposeCli> {
  const v2 = await execWrapper.exec('docker', ['compose', 'version'], { timeoutMs: 20_000 }).catch(() => undefined);
  if (v2?.exitCode === 0) {
    const cli = composeCli('v2', v2.stdout);
    if (cli) return cli;
  }
  const v1 = await execWrapper.exec('docker-compose', ['version'], { timeoutMs: 20_000 }).catch(() => undefined);
  if (v1?.exitCode === 0) {
    const cli = composeCli('v1', v1.stdout);
    if (cli) return cli;
  }
  throw new InfraError('Docker Compose not found: neither `docker compose` nor `docker-compose` works', [
    "install the Compose plugin, or Debian's docker-compose",
  ]);
}

/** The images on this engine, as repository:tag: what `up` and the fault wardens choose from. */
export async function localImages(): Promise<Set<string>> {
  const res = await execWrapper.exec('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], {
    timeoutMs: 60_000,
  });
  if (res.exitCode !== 0)
    throw new InfraError(`docker image ls failed (exit ${res.exitCode})`, res.stderr.trim().split('\n').slice(-10));
  return new Set(
    res.stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}
