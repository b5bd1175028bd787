import * as core from '@actions/core';
import { ComposeStack } from '../stack/compose-stack.ts';
import { defaultStackTarget } from '../stack/target.ts';
import { projectDir } from '../util/paths.ts';

// Tears the stack down if the main step left it up (cancelled, killed). A cleanup failure
// is a warning, never a failed post step.
export async function post(): Promise<void> {
  const state = core.getState('stackUp');
  if (state === 'kept') {
    core.info('keep-stack: the stack is left running');
    return;
  }
  if (state !== 'true') {
    core.info('no stack left to remove');
    return;
  }
  try {
    const stack = await ComposeStack.connect(defaultStackTarget(projectDir()));
    await stack.down();
    core.info('stack removed');
  } catch (e) {
    core.warning(`could not remove the stack: ${e instanceof Error ? e.message : String(e)}`);
  }
}
