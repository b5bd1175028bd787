// A small, pure PromQL reader for tests: it finds every metric an expression selects and
// every label it names (in `{label="..."}` matchers, `by (...)`, `without (...)`,
// `on (...)`, `ignoring (...)`, `group_left/right (...)`) and reports each one that the
// known series do not have. It is not a full PromQL parser: it tokenizes, matches
// parentheses and knows PromQL's keywords, functions and aggregation operators, which is
// enough to keep dashboards and queries in step with what the service exports.
// Not handled: labels created by label_replace/label_join (they would be reported).

/** Series a query may select: metric name -> the labels its series carry. */
export type KnownSeries = ReadonlyMap<string, ReadonlySet<string>>;

export interface MetricContract {
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  labels: readonly string[];
}

/**
 * The series Prometheus stores for a set of exported metrics: a histogram `h` becomes
 * `h_bucket` (with `le`), `h_sum` and `h_count`; `extraLabels` (job, instance and the
 * scrape target's own labels) are added to every one.
 */
export function seriesFromContract(
  contract: Readonly<Record<string, MetricContract>>,
  extraLabels: Iterable<string> = [],
): Map<string, Set<string>> {
  const extra = [...extraLabels];
  const out = new Map<string, Set<string>>();
  for (const [name, m] of Object.entries(contract)) {
    const labels = [...m.labels, ...extra];
    if (m.type === 'histogram') {
      out.set(`${name}_bucket`, new Set([...labels, 'le']));
      out.set(`${name}_sum`, new Set(labels));
      out.set(`${name}_count`, new Set(labels));
    } else if (m.type === 'summary') {
      out.set(name, new Set([...labels, 'quantile']));
      out.set(`${name}_sum`, new Set(labels));
      out.set(`${name}_count`, new Set(labels));
    } else {
      out.set(name, new Set(labels));
    }
  }
  return out;
}

export interface PromQLCheck {
  /** Metric names the expression selects, in order of first use. */
  metrics: string[];
  /** One sentence per problem; empty when every name and label is known. */
  problems: string[];
}

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

const FUNCTIONS = new Set([
  'abs',
  'absent',
  'absent_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_avg',
  'histogram_count',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_stddev',
  'histogram_stdvar',
  'histogram_sum',
  'holt_winters',
  'double_exponential_smoothing',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_replace',
  'label_join',
  'ln',
  'log2',
  'log10',
  'minute',
  'month',
  'predict_linear',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sort',
  'sort_desc',
  'sort_by_label',
  'sort_by_label_desc',
  'sqrt',
  'time',
  'timestamp',
  'vector',
  'year',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'quantile_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'present_over_time',
  'mad_over_time',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'cos',
  'cosh',
  'sin',
  'sinh',
  'tan',
  'tanh',
  'deg',
  'rad',
  'pi',
  'start',
  'end',
]);

const BINARY_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'atan2', 'inf', 'nan', 'Inf', 'NaN']);
const MATCHING_KEYWORDS = new Set(['on', 'ignoring', 'group_left', 'group_right']);
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);

interface Token {
  kind: 'ident' | 'number' | 'string' | 'op' | 'punct';
  text: string;
  at: number;
}

const TOKEN_RULES: [Token['kind'], RegExp][] = [
  ['ident', /^[a-zA-Z_:][a-zA-Z0-9_:]*/],
  // Numbers and durations (0.5, 1e3, 0x1f, 30s, 1h30m, 250ms).
  ['number', /^(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?)/],
  ['string', /^(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/],
  ['op', /^(?:=~|!~|!=|==|>=|<=|[=<>+\-*/%^@])/],
  ['punct', /^[(){}[\],:]/],
];

function tokenize(expr: string, problems: string[]): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '#') {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 ? expr.length : nl;
      continue;
    }
    const rest = expr.slice(i);
    let matched = false;
    for (const [kind, re] of TOKEN_RULES) {
      const m = re.exec(rest);
      if (!m) continue;
      tokens.push({ kind, text: m[0], at: i });
      i += m[0].length;
      matched = true;
      break;
    }
    if (!matched) {
      problems.push(`unexpected character ${JSON.stringify(ch)} at ${i}`);
      i++;
    }
  }
  return tokens;
}

/** Check a PromQL expression against the series it may select. */
export function checkPromQL(expr: string, known: KnownSeries): PromQLCheck {
  const problems: string[] = [];
  const tokens = tokenize(expr, problems);
  const metrics: string[] = [];
  let pos = 0;

  const peek = (offset = 0): Token | undefined => tokens[pos + offset];
  const isPunct = (t: Token | undefined, text: string) => t?.kind === 'punct' && t.text === text;
  const labelsOf = (metric: string): ReadonlySet<string> | undefined => known.get(metric);

  /** A scope: the metrics selected inside a parenthesized group, and whether `le` survives it. */
  interface Scope {
    metrics: Set<string>;
    dropsLe: boolean;
  }

  function labelList(what: string): string[] {
    const labels: string[] = [];
    if (!isPunct(peek(), '(')) {
      problems.push(`${what} must be followed by a label list in parentheses`);
      return labels;
    }
    pos++;
    while (pos < tokens.length && !isPunct(peek(), ')')) {
      const t = tokens[pos++] as Token;
      if (t.kind === 'ident' || t.kind === 'string') labels.push(t.kind === 'string' ? t.text.slice(1, -1) : t.text);
      else if (!isPunct(t, ',')) problems.push(`unexpected ${JSON.stringify(t.text)} in ${what} (...)`);
    }
    if (!isPunct(peek(), ')')) problems.push(`missing ) after ${what} (...)`);
    pos++;
    return labels;
  }

  function checkLabels(labels: readonly string[], scope: ReadonlySet<string>, what: string): void {
    for (const label of labels) {
      for (const metric of scope) {
        const have = labelsOf(metric);
        if (have && !have.has(label)) problems.push(`label "${label}" in ${what} is not a label of ${metric}`);
      }
    }
  }

  function matchers(metric: string | undefined): string | undefined {
    pos++; // {
    let name = metric;
    const seen: [string, string][] = [];
    while (pos < tokens.length && !isPunct(peek(), '}')) {
      const label = tokens[pos++] as Token;
      if (isPunct(label, ',')) continue;
      const op = tokens[pos++];
      const value = tokens[pos++];
      if (label.kind !== 'ident' || !op || !MATCH_OPS.has(op.text) || value?.kind !== 'string') {
        problems.push(`malformed label matcher near ${JSON.stringify(label.text)}${metric ? ` on ${metric}` : ''}`);
        break;
      }
      if (label.text === '__name__' && op.text === '=') name = value.text.slice(1, -1);
      else seen.push([label.text, op.text]);
    }
    if (!isPunct(peek(), '}')) problems.push(`missing } in selector${metric ? ` of ${metric}` : ''}`);
    pos++;
    if (name === undefined) {
      problems.push('selector without a metric name: its labels cannot be checked');
      return undefined;
    }
    if (name !== metric) selectMetric(name);
    const have = labelsOf(name);
    if (have)
      for (const [label] of seen)
        if (!have.has(label)) problems.push(`label "${label}" in {...} is not a label of ${name}`);
    return name;
  }

  function selectMetric(name: string): void {
    if (!known.has(name)) problems.push(`unknown metric "${name}"`);
    if (!metrics.includes(name)) metrics.push(name);
  }

  /** Read tokens until `stop` (or the end), returning what the group selects. */
  function group(stop: ')' | ']' | null): Scope {
    const scope: Scope = { metrics: new Set(), dropsLe: false };
    const merge = (inner: Scope) => {
      for (const m of inner.metrics) scope.metrics.add(m);
      scope.dropsLe ||= inner.dropsLe;
    };
    const matching: { keyword: string; labels: string[] }[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos] as Token;
      if (t.kind === 'punct' && (t.text === ')' || t.text === ']' || t.text === '}')) {
        if (t.text === stop) break;
        problems.push(`unbalanced ${JSON.stringify(t.text)} at ${t.at}`);
        pos++;
        continue;
      }
      pos++;
      if (t.kind === 'punct') {
        if (t.text === '(') {
          merge(group(')'));
          if (!isPunct(peek(), ')')) problems.push('missing )');
          pos++;
        } else if (t.text === '[') {
          // A range or subquery: durations and an optional resolution, nothing to check.
          while (pos < tokens.length && !isPunct(peek(), ']')) pos++;
          if (!isPunct(peek(), ']')) problems.push('missing ]');
          pos++;
        } else if (t.text === '{') {
          pos--;
          const name = matchers(undefined);
          if (name) scope.metrics.add(name);
        }
        continue;
      }
      if (t.kind !== 'ident') continue; // numbers, strings, operators
      const word = t.text;
      if (BINARY_KEYWORDS.has(word)) continue;
      if (word === 'offset') {
        if (peek()?.text === '-') pos++;
        pos++;
        continue;
      }
      if (MATCHING_KEYWORDS.has(word)) {
        if (word.startsWith('group_') && !isPunct(peek(), '(')) continue;
        matching.push({ keyword: word, labels: labelList(word) });
        continue;
      }
      if (AGGREGATIONS.has(word)) {
        let grouping: { keyword: string; labels: string[] } | undefined;
        if (peek()?.kind === 'ident' && (peek()?.text === 'by' || peek()?.text === 'without')) {
          const keyword = (tokens[pos++] as Token).text;
          grouping = { keyword, labels: labelList(keyword) };
        }
        if (!isPunct(peek(), '(')) {
          problems.push(`${word} must be followed by (...)`);
          continue;
        }
        pos++;
        const inner = group(')');
        if (!isPunct(peek(), ')')) problems.push(`missing ) after ${word} (...)`);
        pos++;
        if (!grouping && peek()?.kind === 'ident' && (peek()?.text === 'by' || peek()?.text === 'without')) {
          const keyword = (tokens[pos++] as Token).text;
          grouping = { keyword, labels: labelList(keyword) };
        }
        if (grouping) {
          checkLabels(grouping.labels, inner.metrics, `${word} ${grouping.keyword} (...)`);
          const keepsLe = grouping.keyword === 'by' ? grouping.labels.includes('le') : !grouping.labels.includes('le');
          if (!keepsLe) inner.dropsLe = true;
        } else {
          inner.dropsLe = true; // a plain sum(...) aggregates every label away
        }
        merge(inner);
        continue;
      }
      if (isPunct(peek(), '(')) {
        if (!FUNCTIONS.has(word)) problems.push(`unknown function "${word}"`);
        pos++;
        const inner = group(')');
        if (!isPunct(peek(), ')')) problems.push(`missing ) after ${word}(...)`);
        pos++;
        if (word === 'histogram_quantile' || word === 'histogram_fraction') {
          for (const m of inner.metrics) {
            if (!m.endsWith('_bucket') || !labelsOf(m)?.has('le'))
              problems.push(`${word} needs a histogram's _bucket series, not ${m}`);
          }
          if (inner.dropsLe) problems.push(`${word} over an aggregation that drops "le"`);
          inner.dropsLe = true; // le is consumed here
        }
        merge(inner);
        continue;
      }
      if (word === 'by' || word === 'without') {
        problems.push(`"${word}" outside an aggregation`);
        continue;
      }
      // Anything else is a metric name, optionally with matchers.
      selectMetric(word);
      scope.metrics.add(word);
      if (isPunct(peek(), '{')) matchers(word);
    }
    if (stop !== null && pos >= tokens.length) problems.push(`missing ${stop}`);
    for (const { keyword, labels } of matching) {
      if (keyword === 'on' || keyword === 'ignoring') checkLabels(labels, scope.metrics, `${keyword} (...)`);
      else
        for (const label of labels) {
          if (![...scope.metrics].some((m) => labelsOf(m)?.has(label)))
            problems.push(`label "${label}" in ${keyword} (...) is not a label of any selected metric`);
        }
    }
    return scope;
  }

  group(null);
  if (metrics.length === 0 && problems.length === 0) problems.push('the expression selects no metric');
  return { metrics, problems };
}
