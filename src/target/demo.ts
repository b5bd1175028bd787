// The demo region service (services/region) as the gate knows it: its routes and the bodies
// the synthetic traffic sends. Everything that speaks the demo's own API reads it from here;
// a user's service is described by data instead (target/service.ts).

/** The route names observations carry (the demo labels its own metrics the same way). */
export const DEMO_ROUTES = {
  health: '/health',
  /** POST {item, quantity}: 201 with a numeric `id`. */
  write: '/api/orders',
  /** GET: 200 with the order's `item`, 404 when it is not there. */
  read: '/api/orders/:id',
} as const;

/** The status of an acknowledged order. */
export const DEMO_WRITE_STATUS = 201;

/** The path that reads one order back. */
export function demoOrderPath(id: string | number): string {
  return `/api/orders/${id}`;
}

/** The item of the gate's n-th request: unique in a run, so a read-back can tell it apart. */
export function demoItem(seq: number): string {
  return `cg-${seq}`;
}

/** The body of the order the gate's n-th request writes. */
export function demoOrderBody(seq: number): { item: string; quantity: number } {
  return { item: demoItem(seq), quantity: 1 + (seq % 9) };
}
