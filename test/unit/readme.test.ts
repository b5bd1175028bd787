import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { helpText } from '../../src/cli/help.ts';
import { COMMANDS } from '../../src/cli/args.ts';

// The README is part of the product: its configuration reference must be a valid file whose
// values are the defaults it claims, and every command must be documented.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

it('the configuration reference parses, with the defaults it shows', () => {
  const section = readme.slice(readme.indexOf('## Configuration reference'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  expect(yaml).toBeDefined();
  const documented = parseConfig(yaml ?? '', 'README.md', 'staging');
  const defaults = parseConfig('', 'defaults');
  expect(documented.rollout.stages.map((s) => s.weight)).toEqual(defaults.rollout.stages.map((s) => s.weight));
  expect(documented.rollout.analysis).toEqual(defaults.rollout.analysis);
  expect(documented.rollout.health).toEqual(defaults.rollout.health);
  expect(documented.prometheus.checks).toEqual(defaults.prometheus.checks);
  expect(documented.gate).toEqual(defaults.gate);
  expect({ ...documented.predict, preflight: { ...documented.predict.preflight, region: undefined } }).toEqual(
    defaults.predict,
  );
  expect(documented.rollout.stages[0]?.limits.maxErrorRate).toBe(0.1); // from environments.staging
});

it.each(COMMANDS.filter((c) => c !== 'help' && c !== 'run'))(
  'documents the %s command in the README and in help',
  (command) => {
    expect(readme).toContain(`| \`${command}`);
    expect(helpText(command)).toContain(`chaos-gate ${command}`);
  },
);
