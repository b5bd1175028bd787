// Validation of POST /api/orders bodies; the message names the field and the rule.

export interface OrderInput {
  item: string;
  quantity: number;
  data: Record<string, unknown>;
}

export const MAX_ITEM_CHARS = 200;
export const MAX_QUANTITY = 1_000_000;

export function validateOrder(body: unknown): OrderInput | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const data = body as Record<string, unknown>;
  const { item, quantity } = data;
  // Characters are code points, so an emoji counts once.
  if (typeof item !== 'string' || item.length === 0 || [...item].length > MAX_ITEM_CHARS) {
    return `"item" must be a non-empty string of at most ${MAX_ITEM_CHARS} characters`;
  }
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
    return `"quantity" must be an integer between 1 and ${MAX_QUANTITY}`;
  }
  return { item, quantity, data };
}
