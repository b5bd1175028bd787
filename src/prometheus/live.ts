import { UsageError } from '../util/errors.ts';
import type { PrometheusPlan } from './config.ts';
import { InfraError } from '../stack/errors.ts';
import { pollUntil } from '../util/poll.ts';
import type { CheckRecord } from '../analysis/combine.ts';
import { evaluateCheck } from './checks.ts';
import { instantQuery } from './client.ts';
import type { QueryOutcome } from './response.ts';
import { render, type TemplateValues } from './template.ts';

// The Prometheus checks against the live Prometheus: once before the rollout (a query that
// errors or finds nothing is a configuration error, exit 2, not a failed canary), then at
// every analysis of every stage.

export function clientOptions(plan: PrometheusPlan, url: string) {
  return { url: plan.url ?? url, timeoutMs: plan.timeoutMs, retries: plan.retries };
}

export async function evaluateChecks(
  plan: PrometheusPlan,
  url: string,
  values: Omit<TemplateValues, 'interval'>,
): Promise<CheckRecord[]> {
  const full = { ...values, interval: plan.interval };
  return Promise.all(
    plan.checks.map(async (spec) => {
      const query = render(spec.template, full);
      return evaluateCheck(spec, query, await instantQuery(clientOptions(plan, url), query));
    }),
  );
}

/**
 * Runs every check for the stable version of a region, which has data (the candidate has
 * none yet). Waits up to preflightSeconds for a first value: a freshly started Prometheus
 * needs two scrapes before rate() answers.
 */
export async function preflight(
  plan: PrometheusPlan,
  url: string,
  values: Omit<TemplateValues, 'interval'>,
): Promise<void> {
  const options = clientOptions(plan, url);
  const full = { ...values, interval: plan.interval };
  const results = await Promise.all(
    plan.checks.map(async (spec) => {
      const query = render(spec.template, full);
      let last: QueryOutcome = { kind: 'no_data', why: 'not queried' };
      await pollUntil(
        async () => {
          last = await instantQuery(options, query);
          return last.kind === 'no_data' ? undefined : true;
        },
        { deadlineMs: plan.preflightSeconds * 1000, intervalMs: 1000 },
      );
      return { name: spec.name, query, outcome: last as QueryOutcome }; // assigned inside the closure
    }),
  );
  const unreachable = results.find((r) => r.outcome.kind === 'error' && r.outcome.errorType === 'unreachable');
  if (unreachable?.outcome.kind === 'error') throw new InfraError(unreachable.outcome.message);
  const problems = results.filter((r) => r.outcome.kind !== 'value');
  if (problems.length > 0) {
    throw new UsageError(
      problems.map((p) => ({
        source: 'prometheus',
        path: `checks.${p.name}`,
        rule:
          p.outcome.kind === 'error'
            ? `Prometheus refused the query: ${p.outcome.errorType}: ${p.outcome.message}\n    query: ${p.query}`
            : `the query returns no data for the stable version ${values.baseline_version} in ${values.region} ` +
              `after ${plan.preflightSeconds} s (${p.outcome.kind === 'no_data' ? p.outcome.why : ''}): ` +
              `check metric and label names\n    query: ${p.query}`,
      })),
    );
  }
}
