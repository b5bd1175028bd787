import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema } from '../../src/config/json-schema.ts';

const committed = JSON.parse(
  readFileSync(new URL('../../schemas/chaos-gate.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(committed);

it('the published schema is the one the zod schemas generate (run `npm run schema` after changing them)', () => {
  expect(committed).toEqual(configJsonSchema());
});

it('accepts a real configuration with an environment', () => {
  const config = parse(`
rollout: { strategy: canary, stages: [{ weight: 0.1 }, { weight: 50, max_p99_ms: 300 }, { weight: 100 }] }
prometheus: { checks: [{ name: p95, template: latency_p95_seconds, max: 0.3 }] }
experiments: { only: [service-kill], thresholds: { service-kill: { max_recovery_time_seconds: 20 } } }
gate: { fail_on_rollback: true }
environments: { staging: { rollout: { bake_seconds: 2 } } }
`);
  expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
});

it.each([
  ['an unknown section', { rolout: {} }],
  ['an unknown field', { rollout: { bake: 3 } }],
  ['a wrong type', { gate: { fail_on_rollback: 'yes' } }],
  ['a rate out of range', { rollout: { limits: { max_error_rate: 1.5 } } }],
  ['an unknown field inside an environment', { environments: { staging: { rollout: { bake: 1 } } } }],
])('rejects %s, so editors flag it', (_what, config) => {
  expect(validate(config)).toBe(false);
});
