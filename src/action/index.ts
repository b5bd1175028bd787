import * as core from '@actions/core';
import { post } from './post.ts';
import { run } from './main.ts';

// One entry for both steps: the post step knows it is one from the state the main step saved
// (the pattern of docker/setup-buildx-action).
if (core.getState('isPost') === 'true') {
  await post();
} else {
  core.saveState('isPost', 'true');
  await run();
}
