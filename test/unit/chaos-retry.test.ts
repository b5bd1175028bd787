import { describe, expect, test } from 'vitest';
import { runUntilEffect } from '../../src/chaos/suite.ts';
import type { ExperimentResult } from '../../src/chaos/result.ts';

// A fault that did not take effect is run once more, and a second miss could not run: it is
// never a FAIL of the service, nor a pass.

const attempt = (tookEffect: boolean | undefined, extra: Partial<ExperimentResult> = {}): ExperimentResult =>
  ({
    name: 'cpu-spike',
    status: tookEffect === false ? 'ERROR' : 'PASS',
    reverted: true,
    ...(tookEffect === undefined ? {} : { faultEffect: { tookEffect, targets: [] } }),
    ...(tookEffect === false ? { error: 'fault had no measurable effect on us-east: cpu 18% (needs >= 30%)' } : {}),
    ...extra,
  }) as ExperimentResult;

async function run(...results: ExperimentResult[]) {
  const queue = [...results];
  const warnings: string[] = [];
  let runs = 0;
  const result = await runUntilEffect(
    () => {
      runs++;
      return Promise.resolve(queue.shift() as ExperimentResult);
    },
    (w) => warnings.push(w),
    new AbortController().signal,
  );
  return { result, warnings, runs };
}

describe('runUntilEffect', () => {
  test.each([
    ['took effect', true],
    ['asks for no evidence', undefined],
  ])('a fault that %s runs once', async (_what, took) => {
    const { result, runs, warnings } = await run(attempt(took), attempt(true));
    expect([runs, warnings, result.status]).toEqual([1, [], 'PASS']);
  });

  test('a miss, then an effect: the second attempt counts, and the first is noted', async () => {
    const { result, runs, warnings } = await run(attempt(false), attempt(true, { notes: ['n'] }));
    expect([runs, result.status]).toEqual([2, 'PASS']);
    expect(warnings).toEqual([
      'cpu-spike: fault had no measurable effect on us-east: cpu 18% (needs >= 30%); running it again',
    ]);
    expect(result.notes).toEqual([
      'attempt 1 of 2 could not run: fault had no measurable effect on us-east: cpu 18% (needs >= 30%)',
      'n',
    ]);
  });

  test('two misses: could not run (ERROR), never FAIL', async () => {
    const { result, runs } = await run(attempt(false), attempt(false));
    expect([runs, result.status]).toEqual([2, 'ERROR']);
    expect(result.error).toBe(
      'no measurable effect in 2 attempts: fault had no measurable effect on us-east: cpu 18% (needs >= 30%)',
    );
  });

  test('a fault that could not be lifted is not run again', async () => {
    const { runs } = await run(attempt(false, { reverted: false }), attempt(true));
    expect(runs).toBe(1);
  });
});
