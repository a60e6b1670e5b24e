// `whoami` (CoreDNS plugin/whoami): tells the client its own address and port.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock } from '../../src/corefile/args.js';
import { WhoamiHandler } from './handler.js';

export const plugin: PluginDef = {
  name: 'whoami',
  setup(c: SetupContext): void {
    for (const d of c.directives) {
      argCount(d, 0);
      noBlock(d);
    }
    c.handler(() => new WhoamiHandler());
  },
};
