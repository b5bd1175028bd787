import type { CheckRecord } from '../analysis/combine.ts';
import type { QueryOutcome } from './response.ts';

// A Prometheus check: a resolved query, its outcome and the range it must stay in. Pure.
// "No data" is never a pass: with on_no_data "wait" the check is inconclusive (the stage
// cannot pass, and its deadline eventually rolls it back); with "ignore" it is recorded and
// left out of the verdict.

export type NoDataRule = 'wait' | 'ignore';

export interface CheckSpec {
  name: string;
  /** The PromQL as configured (a built-in template's text, or the user's query). */
  template: string;
  /** The built-in template's name when it is one: a user's service gets it on its own metric names. */
  builtin?: string;
  min?: number;
  max?: number | undefined;
  onNoData: NoDataRule;
}

export function evaluateCheck(spec: CheckSpec, query: string, outcome: QueryOutcome): CheckRecord {
  const base = { source: 'prometheus' as const, name: spec.name, query, min: spec.min ?? null, max: spec.max ?? null };
  if (outcome.kind === 'error') {
    return {
      ...base,
      value: null,
      samples: 0,
      verdict: 'inconclusive',
      reason: `query failed (${outcome.errorType}): ${outcome.message}`,
    };
  }
  if (outcome.kind === 'no_data') {
    return spec.onNoData === 'ignore'
      ? {
          ...base,
          value: null,
          samples: 0,
          verdict: 'ignored',
          reason: `no data (${outcome.why}); ignored by on_no_data: ignore`,
        }
      : {
          ...base,
          value: null,
          samples: 0,
          verdict: 'inconclusive',
          reason: `no data (${outcome.why}): not a pass; waiting`,
        };
  }
  const v = outcome.value;
  const range = `[${spec.min ?? '-inf'}, ${spec.max ?? '+inf'}]`;
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    return {
      ...base,
      value: v,
      samples: outcome.series,
      verdict: 'red',
      reason: `${spec.name} = ${fmt(v)} is outside ${range} (Prometheus)`,
    };
  }
  return {
    ...base,
    value: v,
    samples: outcome.series,
    verdict: 'green',
    reason: `${spec.name} = ${fmt(v)} is inside ${range} (Prometheus)`,
  };
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001)
    ? v.toExponential(3)
    : String(Number(v.toPrecision(4)));
}
