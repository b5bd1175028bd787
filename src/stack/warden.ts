import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { InfraError } from './errors.ts';
import { execWrapper, type ExecResult } from './exec.ts';
import { localImages } from './docker.ts';
import { chooseImages } from './images.ts';
import { regionNetwork } from './service-compose.ts';
import { isProxied, type StackTarget } from './target.ts';
import {
  dockerSocket,
  parseWardens,
  wardenFireArgs,
  wardenListArgs,
  wardenRunArgs,
  type FaultRecord,
  type UndoStep,
  type WardenFacts,
} from './warden-args.ts';
import { WARDEN_SCRIPT } from './warden-script.ts';

// Wardens on the Docker engine (warden-args.ts says what they are). The chaos runner arms
// one before each fault and disarms it once the fault is lifted; every command that touches
// the stack first looks for wardens left by a dead run (chaos/leftovers.ts).

export interface ArmRequest {
  experiment: string;
  fault: string;
  regions: string[];
  /** How long from now the fault may last before the warden lifts it. */
  lifetimeMs: number;
  undo: UndoStep[];
  token?: string;
}

export interface ArmedWarden {
  readonly name: string;
  readonly record: FaultRecord;
  /**
   * Removes the warden without firing it: the gate lifted the fault itself. Resolves with its
   * last log line when it had already fired (the gate was too slow), else undefined.
   */
  disarm(): Promise<string | undefined>;
}

export interface Wardens {
  arm(request: ArmRequest): Promise<ArmedWarden>;
  list(): Promise<WardenFacts[]>;
  /** Makes a running warden lift its fault now; resolves with its exit code and log once it has. */
  fire(id: string): Promise<{ exitCode: number; log: string }>;
  log(id: string): Promise<string>;
  remove(id: string): Promise<void>;
}

/** The stack's own network: the demo's file names it `stack`; a user's rendered file keeps Compose's `default`. */
export function stackNetwork(target: Pick<StackTarget, 'project' | 'service'>): string {
  return `${target.project}_${target.service ? 'default' : 'stack'}`;
}

/** The network a region's containers belong on: behind fault proxies, the region's own (service-compose.ts). */
export function regionHomeNetwork(target: Pick<StackTarget, 'project' | 'service'>, region: string): string {
  return isProxied(target.service) ? `${target.project}_${regionNetwork(region)}` : stackNetwork(target);
}

async function docker(args: string[], what: string, timeoutMs = 30_000): Promise<ExecResult> {
  const res = await execWrapper.exec('docker', args, { timeoutMs });
  if (res.exitCode !== 0)
    throw new InfraError(`${what} failed: ${res.stderr.trim().split('\n').pop() ?? `exit ${res.exitCode}`}`);
  return res;
}

export function dockerWardens(
  target: StackTarget,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Wardens {
  const project = target.project;
  const log = async (id: string) => {
    const res = await execWrapper.exec('docker', ['logs', '--tail', '20', id], { timeoutMs: 15_000 });
    return (res.stdout + res.stderr).trim();
  };
  const remove = async (id: string) => {
    await docker(['rm', '-f', id], 'removing a fault warden');
  };
  // The stack's Node image as `up` chose it (official or air-gapped stand-in), looked up once.
  let image: Promise<string> | undefined;
  const nodeImage = async () => chooseImages(target.images, env, await localImages()).images.node;
  return {
    async arm(request) {
      const socket = dockerSocket(env);
      if (!socket)
        throw new InfraError(
          'cannot arm a fault warden: DOCKER_HOST is not a unix socket, so no container can reach the engine',
        );
      const { lifetimeMs, token, ...rest } = request;
      const record: FaultRecord = {
        ...rest,
        expiresAt: Date.now() + lifetimeMs,
        owner: { pid: process.pid, host: hostname() },
      };
      const name = `${project}-warden-${randomBytes(4).toString('hex')}`;
      image ??= nodeImage();
      const spec = {
        project,
        image: await image,
        socket,
        network: stackNetwork(target),
        record,
        ...(token ? { token } : {}),
      };
      await docker(wardenRunArgs(spec, name, WARDEN_SCRIPT), 'arming a fault warden', 60_000);
      const disarm = async () => {
        const state = await execWrapper.exec('docker', ['inspect', '--format', '{{.State.Running}}', name], {
          timeoutMs: 15_000,
        });
        const fired =
          state.exitCode === 0 && state.stdout.trim() === 'false' ? (await log(name)).split('\n').pop() : undefined;
        await remove(name);
        return fired;
      };
      return { name, record, disarm };
    },
    async list() {
      const ids = (await docker(wardenListArgs(project), 'listing fault wardens')).stdout
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
      if (ids.length === 0) return [];
      return parseWardens((await docker(['inspect', ...ids], 'reading fault wardens')).stdout);
    },
    async fire(id) {
      // A warden that fired at its expiry meanwhile refuses the signal; its exit code still tells.
      await execWrapper.exec('docker', wardenFireArgs(id), { timeoutMs: 15_000 });
      const waited = await docker(['wait', id], 'waiting for a fault warden', 60_000);
      return { exitCode: Number(waited.stdout.trim()), log: await log(id) };
    },
    log,
    remove,
  };
}
