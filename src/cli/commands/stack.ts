import { liftLeftovers } from '../../chaos/leftovers.ts';
import { toJsonText } from '../../util/json-text.ts';
import { statusExitCode } from '../../gate/exit.ts';
import { ComposeStack } from '../../stack/compose-stack.ts';
import { dockerControl } from '../../stack/docker-control.ts';
import type { ContainerStatus, Stack, StackStatus } from '../../stack/stack.ts';
import { dockerWardens } from '../../stack/warden.ts';
import { defaultStackTarget, grafanaUrl, prometheusUrl, regionUrl } from '../../stack/target.ts';
import { projectDir } from '../../util/paths.ts';
import type { CommandContext } from '../main.ts';
import { formatTable } from '../output.ts';

export function openStack(ctx: Pick<CommandContext, 'progress'>): Promise<ComposeStack> {
  return ComposeStack.connect(defaultStackTarget(projectDir()), { progress: ctx.progress });
}

/** Lifts the faults a dead run left on the stack (saying so) before a command uses it. */
export function clearLeftovers(stack: Stack, ctx: Pick<CommandContext, 'progress'>): Promise<string[]> {
  return liftLeftovers({ stack, wardens: dockerWardens(stack.target), control: dockerControl, progress: ctx.progress });
}

export async function runUp(ctx: CommandContext): Promise<number> {
  const stack = await openStack(ctx);
  await clearLeftovers(stack, ctx);
  const { version, file, prefix } = stack.cli;
  ctx.progress.step(`Compose ${version} (${[file, ...prefix].join(' ')})`);
  const result = await stack.up();
  const t = stack.target;
  const rows = t.regions.map((r) => [`region-${r.name}`, regionUrl(t, r)]);
  rows.push(['prometheus', prometheusUrl(t)]);
  rows.push(['grafana', result.grafana ? grafanaUrl(t) : 'not running (no image on this machine)']);
  ctx.out(formatTable(['service', 'url'], rows));
  return 0;
}

export async function runDown(ctx: CommandContext): Promise<number> {
  const stack = await openStack(ctx);
  await stack.down();
  ctx.out('stack removed (containers, network, volumes)');
  return 0;
}

export async function runStatus(command: { json: boolean }, ctx: CommandContext): Promise<number> {
  const stack = await openStack(ctx);
  const leftovers = await clearLeftovers(stack, ctx);
  const status = await stack.status();
  ctx.out(command.json ? statusJson(status, leftovers) : statusText(status, leftovers));
  return statusExitCode(status.regions.every((r) => isUp(r.stable)));
}

/** Up: the container runs and the service answers with its version. */
export function isUp(container: ContainerStatus | undefined): boolean {
  return container?.state === 'running' && container.reportedVersion !== undefined;
}

/** What `status --json` prints: snake_case keys, as every other JSON output. */
export function statusJson(status: StackStatus, leftovers: readonly string[]): string {
  return toJsonText({ ...status, leftovers });
}

function statusText(status: StackStatus, leftovers: readonly string[]): string {
  if (leftovers.length === 0) return statusTable(status);
  return `${statusTable(status)}\nfaults left by an earlier run:\n${leftovers.map((l) => `  ${l}`).join('\n')}`;
}

export function statusTable(status: StackStatus): string {
  const rows = status.regions.map((r) => [
    r.region,
    String(r.port),
    r.stable?.reportedVersion ?? r.stable?.deployment?.version ?? '-',
    r.canary ? `${r.canary.reportedVersion ?? r.canary.deployment?.version ?? '?'} (${r.canary.state})` : '-',
    r.stable?.health ?? '-',
    isUp(r.stable) ? 'up' : (r.stable?.state ?? 'absent'),
    String(r.stable?.restartCount ?? 0),
  ]);
  const lines = [formatTable(['region', 'port', 'stable', 'canary', 'health', 'up', 'restarts'], rows)];
  lines.push(`prometheus: ${status.prometheus.state}${status.prometheus.ready ? ', ready' : ''}`);
  lines.push(
    `grafana: ${status.grafana ? `${status.grafana.state}${status.grafana.ready ? ', ready' : ''}` : 'not running'}`,
  );
  return lines.join('\n');
}
