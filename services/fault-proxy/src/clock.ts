// The clock and randomness both services (region, fault-proxy) take as parameters: services/shared/clock.ts.
export * from '../../shared/clock.ts';
