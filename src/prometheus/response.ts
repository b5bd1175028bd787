// Reads Prometheus's /api/v1/query answers. Pure. "No data" is its own outcome, never 0
// and never a pass: an empty vector, or NaN (a ratio of rates with no traffic).

export type QueryOutcome =
  | { kind: 'value'; value: number; series: number }
  | { kind: 'no_data'; why: string }
  | { kind: 'error'; errorType: string; message: string };

interface ApiAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

type Sample = [number, string];

export function parseQueryResponse(body: unknown): QueryOutcome {
  const answer = (body ?? {}) as ApiAnswer;
  if (answer.status !== 'success') {
    return {
      kind: 'error',
      errorType: answer.errorType ?? 'unknown',
      message: answer.error ?? 'Prometheus did not answer with success',
    };
  }
  const data = answer.data ?? {};
  switch (data.resultType) {
    case 'scalar':
      return fromSamples([data.result as Sample]);
    case 'vector': {
      const result = (data.result ?? []) as { value: Sample }[];
      return fromSamples(result.map((r) => r.value));
    }
    case 'matrix':
      return {
        kind: 'error',
        errorType: 'bad_data',
        message:
          'the query returns a range vector; a check needs an instant value (wrap it in rate(), avg_over_time(), ...)',
      };
    case 'string':
      return { kind: 'error', errorType: 'bad_data', message: 'the query returns a string, not a number' };
    default:
      return {
        kind: 'error',
        errorType: 'bad_data',
        message: `unexpected result type ${JSON.stringify(data.resultType)}`,
      };
  }
}

/** Prometheus writes infinities as "+Inf"/"-Inf", which Number() reads as NaN. */
function promNumber(text: string): number {
  return text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
}

/**
 * A check needs one number. More than one series is ambiguous (which region? which route?),
 * so it is an error to fix in the query (aggregate it), naming the count.
 */
function fromSamples(samples: readonly (Sample | undefined)[]): QueryOutcome {
  const values = samples.filter((s): s is Sample => Array.isArray(s)).map((s) => promNumber(s[1]));
  if (values.length === 0) return { kind: 'no_data', why: 'the query returned no series' };
  if (values.length > 1)
    return {
      kind: 'error',
      errorType: 'bad_data',
      message: `the query returned ${values.length} series; aggregate it to one (e.g. sum(...))`,
    };
  const value = values[0] as number;
  if (Number.isNaN(value)) return { kind: 'no_data', why: 'the query returned NaN (no requests in the interval)' };
  return { kind: 'value', value, series: 1 };
}
