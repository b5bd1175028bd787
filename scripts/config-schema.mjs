// Writes schemas/chaos-gate.schema.json from the zod schemas (npm run schema).
import { writeFileSync } from 'node:fs';
const { configJsonSchema } = await import('../src/config/json-schema.ts');
writeFileSync(
  new URL('../schemas/chaos-gate.schema.json', import.meta.url),
  JSON.stringify(configJsonSchema(), null, 2) + '\n',
);
console.log('wrote schemas/chaos-gate.schema.json');
