import type { ComposeCli } from './compose-cli.ts';
import type { Deployment, Slot, StackTarget } from './target.ts';
import { envStem } from './target.ts';

// Pure builders of Compose argument arrays and environments; the adapter only runs them.

export interface ComposeInvocation {
  file: string;
  args: string[];
}

/** Profiles are always all active: every command then sees canaries and Grafana too. */
export function composeBase(cli: ComposeCli, target: StackTarget, profiles: readonly string[]): string[] {
  const args = [...cli.prefix, '-p', target.project];
  const service = target.service;
  // The dependencies file first: the rendered file then sets the images the gate built for it.
  if (service?.plan.dependencies) args.push('-f', service.plan.dependencies);
  args.push('-f', target.composeFile);
  if (service) args.push('--project-directory', service.projectDirectory);
  for (const profile of profiles) args.push('--profile', profile);
  return args;
}

export function invocation(
  cli: ComposeCli,
  target: StackTarget,
  profiles: readonly string[],
  command: readonly string[],
): ComposeInvocation {
  return { file: cli.file, args: [...composeBase(cli, target, profiles), ...command] };
}

export function buildCommand(service: string): string[] {
  return ['build', service];
}

export function upCommand(
  services: readonly string[],
  options: { recreate?: boolean; noDeps?: boolean } = {},
): string[] {
  const args = ['up', '-d', '--no-build'];
  if (options.noDeps) args.push('--no-deps');
  if (options.recreate) args.push('--force-recreate');
  return [...args, ...services];
}

export function removeCommand(services: readonly string[]): string[] {
  return ['rm', '--stop', '--force', ...services];
}

export function downCommand(): string[] {
  return ['down', '--volumes', '--remove-orphans', '--timeout', '10'];
}

export function logsCommand(service: string, tail: number): string[] {
  return ['logs', '--no-color', '--tail', String(tail), service];
}

/** Which region deployment each Compose service should run; absent slots use the initial values. */
export type DeploymentMap = ReadonlyMap<string, Partial<Record<Slot, Deployment>>>;

/**
 * The environment docker-compose.yml reads. Every command gets the full map, so a command
 * that (re)creates one service never resets another region to its initial version.
 */
export function composeEnv(
  target: StackTarget,
  deployments: DeploymentMap,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    CHAOS_GATE_REGION_IMAGE: target.images.region,
    CHAOS_GATE_NODE_IMAGE: target.images.node,
    CHAOS_GATE_PROMETHEUS_IMAGE: target.images.prometheus,
    CHAOS_GATE_GRAFANA_IMAGE: target.images.grafana,
    ...extra,
  };
  for (const region of target.regions) {
    const stem = envStem(region.name);
    const slots = deployments.get(region.name) ?? {};
    const stable: Deployment = slots.stable ??
      target.service?.initial ?? { version: target.initialVersion, failureRate: target.initialFailureRate };
    const canary = slots.canary ?? stable;
    if (target.service) {
      env[`${stem}_IMAGE`] = (stable.image ?? target.service.initial.image).ref;
      env[`${stem}_CANARY_IMAGE`] = (canary.image ?? target.service.initial.image).ref;
    }
    env[`${stem}_VERSION`] = stable.version;
    env[`${stem}_FAILURE_RATE`] = String(stable.failureRate);
    env[`${stem}_CANARY_VERSION`] = canary.version;
    env[`${stem}_CANARY_FAILURE_RATE`] = String(canary.failureRate);
    env[`${stem}_DATA_FAULT`] = stable.dataFault ?? '';
    env[`${stem}_CANARY_DATA_FAULT`] = canary.dataFault ?? '';
    env[`${stem}_REGRESSION`] = stable.regression ?? '';
    env[`${stem}_CANARY_REGRESSION`] = canary.regression ?? '';
  }
  return env;
}
