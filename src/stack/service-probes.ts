import type { ServicePlan } from '../target/service.ts';
import { fieldAt } from '../util/json.ts';
import { fetchJson } from './probe.ts';
import type { ContainerFacts } from './inspect.ts';
import { LABELS, regionUrl, serviceOf, type ImageDeployment, type StackTarget } from './target.ts';

// What a user's container runs, verified by identity rather than taken on its word: the
// version label chaos-gate gave the container counts only when the container's image id is
// the id of the image built (or pulled) for that version. With version.path, the service's
// own answer must also stay what it said the first time that version ran, so a rollback
// that left the candidate's code behind is caught even if the labels were right.

export interface ServiceProbes {
  /** The version label of what answers at baseUrl, undefined when it does not answer yet. */
  version(baseUrl: string, path: string): Promise<string | undefined>;
  /** The health path answers with one of the expected statuses. */
  health(baseUrl: string, path: string): Promise<boolean>;
}

interface ProbeStack {
  readonly target: StackTarget;
  containers(): Promise<ContainerFacts[]>;
}

/** A version field of a JSON answer as text (a string or a number); dots walk into objects. */
export function fieldOf(body: unknown, field: string): string | undefined {
  const v = fieldAt(body, field);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** The identity a container shows: its label when its image is the one that label stands for. */
export function identityOf(container: ContainerFacts, known: readonly ImageDeployment[]): string {
  const label = container.labels[LABELS.version] ?? '';
  const expected = known.find((d) => d.version === label);
  if (expected && expected.image.id === container.image) return label;
  return (
    `image ${container.image.replace(/^sha256:/, '').slice(0, 12) || '(unknown)'}` + (label ? ` labelled ${label}` : '')
  );
}

export function serviceProbes(
  stack: ProbeStack,
  plan: ServicePlan,
  known: () => readonly ImageDeployment[],
): ServiceProbes {
  const said = new Map<string, string>();
  const containerAt = async (baseUrl: string): Promise<ContainerFacts | undefined> => {
    for (const region of stack.target.regions) {
      for (const slot of ['stable', 'canary'] as const) {
        if (regionUrl(stack.target, region, slot) !== baseUrl) continue;
        const service = serviceOf(region, slot);
        return (await stack.containers()).find((c) => c.service === service && c.state === 'running');
      }
    }
    return undefined;
  };
  return {
    async version(baseUrl) {
      const container = await containerAt(baseUrl);
      if (!container) return undefined;
      const identity = identityOf(container, known());
      if (!plan.version) return identity;
      const answer = await fetchJson(baseUrl + plan.version.path, 2000);
      const value = answer?.status === 200 ? fieldOf(answer.body, plan.version.field) : undefined;
      if (value === undefined) return undefined;
      const first = said.get(identity) ?? value;
      said.set(identity, first);
      return first === value
        ? identity
        : `${identity} reporting ${plan.version.field} ${value} (it reported ${first} before)`;
    },
    async health(baseUrl, path) {
      const answer = await fetchJson(baseUrl + path, 2000);
      return answer !== undefined && plan.health.expectStatus.includes(answer.status);
    },
  };
}
