// `any` (CoreDNS plugin/any): a minimal answer to ANY queries (RFC 8482).

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock } from '../../src/corefile/args.js';
import { AnyHandler } from './handler.js';

export const plugin: PluginDef = {
  name: 'any',
  setup(c: SetupContext): void {
    for (const d of c.directives) {
      argCount(d, 0);
      noBlock(d);
    }
    c.handler((next) => new AnyHandler(next));
  },
};
