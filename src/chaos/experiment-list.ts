import { UsageError } from '../util/errors.ts';

// One rule for a list of experiment names typed by a person: the CLI's --only and the
// Action's `experiments` input. Names are separated by commas and trimmed; an empty name
// ("a,,b", ",") is refused, never dropped, so a stray comma cannot skip the whole suite.

/** An experiment's name, as experiment files and chaos-gate.yml spell it. */
export const EXPERIMENT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const NAME_RULE = 'lowercase letters, digits, "-"';

export interface ExperimentListRules {
  /** Where the text came from, named in the rule: "--only" or "input experiments". */
  source: string;
  /** "none" selects no experiment (an empty list) where running none makes sense. */
  allowNone: boolean;
}

/** "a, b,a" -> [a, b]; "none" -> [] where allowed; anything else a UsageError naming the source. */
export function parseExperimentList(text: string, rules: ExperimentListRules): string[] {
  const trimmed = text.trim();
  if (rules.allowNone && trimmed === 'none') return [];
  const names = trimmed.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !EXPERIMENT_NAME_PATTERN.test(n));
  if (bad.length === 0) return [...new Set(names)];
  const which = [...new Set(bad.map((n) => (n === '' ? '"" (empty)' : JSON.stringify(n))))].join(', ');
  const example = `e.g. service-kill,network-latency${rules.allowNone ? ', or none' : ''}`;
  const rule = `${JSON.stringify(text)} must be experiment names separated by commas (${NAME_RULE}), ${example}`;
  throw new UsageError([{ source: rules.source, path: '', rule: `${rule}; not a name: ${which}` }]);
}
