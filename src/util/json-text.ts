// Machine-readable output uses snake_case keys everywhere (report.json, --json, result
// files, simulate), while the TypeScript model is camelCase: one conversion at the edge.
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(v)]),
    );
  }
  return value;
}

export function toJsonText(value: unknown): string {
  return JSON.stringify(snakeKeys(value), null, 2) + '\n';
}
