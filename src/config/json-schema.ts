import { z } from 'zod';
import { experimentsSchema, gateSchema } from './gate.ts';
import { predictSchema } from '../predict/config.ts';
import { prometheusSchema } from '../prometheus/config.ts';
import { rolloutSchema } from './rollout.ts';
import { baselineSchema, serviceFields, serviceSchema } from './service.ts';
import { simulationSchema } from './simulation.ts';

// The JSON Schema of chaos-gate.yml that editors use (schemas/chaos-gate.schema.json),
// generated from the very zod schemas that validate the file, so the two cannot drift.
// Cross-field rules (weights strictly increasing, ...) are checked by chaos-gate itself.
export function configJsonSchema(): Record<string, unknown> {
  const sections = {
    rollout: rolloutSchema.optional(),
    prometheus: prometheusSchema.optional(),
    experiments: experimentsSchema.optional(),
    gate: gateSchema.optional(),
    simulation: simulationSchema.optional(),
    predict: predictSchema.optional(),
    service: serviceSchema
      .optional()
      .describe(
        'Your service as the target instead of the demo: how to build or pull it, its health, traffic and probe.',
      ),
    baseline: baselineSchema
      .optional()
      .describe(
        'What runs as stable before the rollout: a git ref built like service.build (default HEAD~1), or an image.',
      ),
  };
  // An override is merged over the base, so it need not repeat the service's required fields.
  const overrides = { ...sections, service: serviceFields.partial().optional() };
  const file = z.strictObject({
    ...sections,
    environments: z
      .record(z.string(), z.strictObject(overrides))
      .optional()
      .describe(
        'Overrides of any section, deep-merged over it when chosen with --environment NAME (input environment).',
      ),
  });
  return {
    ...z.toJSONSchema(file, { io: 'input', unrepresentable: 'any' }),
    $id: 'urn:chaos-gate:schema:config:1',
    title: 'chaos-gate.yml',
    description: 'Configuration of Chaos Gate. Every field is optional; see the README for the defaults.',
  };
}
