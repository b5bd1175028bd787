import { liftLeftovers } from '../../chaos/leftovers.ts';
import { snakeKeys } from '../../util/json-text.ts';
import { ComposeStack } from '../../stack/compose-stack.ts';
import { dockerControl } from '../../stack/docker-control.ts';
import type { Stack, StackStatus } from '../../stack/stack.ts';
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
  ctx.progress.step(
    `Compose ${stack.cli.version} (${stack.cli.file}${stack.cli.prefix.length ? ' ' + stack.cli.prefix.join(' ') : ''})`,
  );
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
  const text =
    statusTable(status) +
    (leftovers.length ? `\nfaults left by an earlier run:\n${leftovers.map((l) => `  ${l}`).join('\n')}` : '');
  // snake_case, as every other JSON output.
  ctx.out(command.json ? JSON.stringify(snakeKeys({ ...status, leftovers }), null, 2) : text);
  const allUp = status.regions.every((r) => r.stable?.state === 'running' && r.stable.reportedVersion !== undefined);
  return allUp ? 0 : 3;
}

export function statusTable(status: StackStatus): string {
  const rows = status.regions.map((r) => [
    r.region,
    String(r.port),
    r.stable?.reportedVersion ?? r.stable?.deployment?.version ?? '-',
    r.canary ? `${r.canary.reportedVersion ?? r.canary.deployment?.version ?? '?'} (${r.canary.state})` : '-',
    r.stable?.health ?? '-',
    r.stable
      ? r.stable.state === 'running' && r.stable.reportedVersion !== undefined
        ? 'up'
        : r.stable.state
      : 'absent',
    String(r.stable?.restartCount ?? 0),
  ]);
  const lines = [formatTable(['region', 'port', 'stable', 'canary', 'health', 'up', 'restarts'], rows)];
  lines.push(`prometheus: ${status.prometheus.state}${status.prometheus.ready ? ', ready' : ''}`);
  lines.push(
    `grafana: ${status.grafana ? `${status.grafana.state}${status.grafana.ready ? ', ready' : ''}` : 'not running'}`,
  );
  return lines.join('\n');
}
