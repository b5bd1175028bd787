/** A response body as JSON when it is JSON, else the text itself (it goes into an error message). */
export function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
