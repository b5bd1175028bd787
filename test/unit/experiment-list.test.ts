import { describe, expect, it } from 'vitest';
import { EXPERIMENT_NAME_PATTERN, parseExperimentList } from '../../src/chaos/experiment-list.ts';
import { issuesOf } from './usage-issues.ts';

// The one parser behind the CLI's --only and the Action's experiments input.
describe('parseExperimentList', () => {
  const only = { source: '--only', allowNone: true };

  it('splits on commas, trims and keeps the first of each name', () => {
    expect(parseExperimentList(' service-kill, cpu-spike ,service-kill', only)).toEqual(['service-kill', 'cpu-spike']);
  });

  it('"none" is no experiment where allowed, and a name-shaped refusal where not', () => {
    expect(parseExperimentList(' none ', only)).toEqual([]);
    // "none" is a valid name: without allowNone it selects an experiment called none.
    expect(parseExperimentList('none', { source: '--only', allowNone: false })).toEqual(['none']);
  });

  it.each([
    ['', ['"" (empty)']],
    [',', ['"" (empty)']],
    ['a,,b', ['"" (empty)']],
    ['Kill!, ,x_y', ['"Kill!"', '"" (empty)', '"x_y"']],
  ])('%j names every bad name once, and the source', (text, bad) => {
    const issues = issuesOf(() => parseExperimentList(text, { source: 'input experiments', allowNone: true }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.source).toBe('input experiments');
    expect(issues[0]?.rule).toBe(
      `${JSON.stringify(text)} must be experiment names separated by commas ` +
        `(lowercase letters, digits, "-"), e.g. service-kill,network-latency, or none; not a name: ${bad.join(', ')}`,
    );
  });

  it('the name pattern is the one experiment files use', () => {
    expect(EXPERIMENT_NAME_PATTERN.test('network-latency')).toBe(true);
    expect(EXPERIMENT_NAME_PATTERN.test('-x')).toBe(false);
    expect(EXPERIMENT_NAME_PATTERN.test('a'.repeat(64))).toBe(false);
  });
});
