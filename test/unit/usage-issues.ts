import { UsageError, type InputIssue } from '../../src/util/errors.ts';

/** The issues of the UsageError `run` throws; anything else (or nothing) fails the test. */
export function issuesOf(run: () => unknown): InputIssue[] {
  try {
    run();
  } catch (e) {
    if (e instanceof UsageError) return [...e.issues];
    throw e;
  }
  throw new Error('expected a UsageError');
}
