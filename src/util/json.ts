/** A response body as JSON when it is JSON, else the text itself (it goes into an error message). */
export function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The value at a field path of parsed JSON; dots walk into objects ("data.id"). */
export function fieldAt(value: unknown, field: string): unknown {
  let at = value;
  for (const key of field.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}
