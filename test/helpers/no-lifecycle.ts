// For configs a test builds in-process, without the lifecycle that answers
// a plugin's reload and fatal (src/server/lifecycle.ts): either one fails
// the test that caused it.

import type { ProcessControl } from '../../src/chain/plugin.js';

export const NO_LIFECYCLE: ProcessControl = {
  reload: () => Promise.reject(new Error('no lifecycle to reload in this test')),
  fatal: (message) => {
    throw new Error(`fatal without a lifecycle: ${message}`);
  },
};
