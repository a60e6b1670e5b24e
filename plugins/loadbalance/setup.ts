// `loadbalance [round_robin]` (CoreDNS plugin/loadbalance). The `weighted`
// policy and the `prefer`/`reload` options are not implemented and are refused.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock, onlyDirective, pluginError } from '../../src/corefile/args.js';
import { LoadbalanceHandler } from './handler.js';

export const plugin: PluginDef = {
  name: 'loadbalance',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    noBlock(d);
    const policy = d.args[0];
    if (policy !== undefined && policy.text !== 'round_robin') {
      throw pluginError('loadbalance', policy, `unknown policy '${policy.text}' (supported: round_robin)`);
    }
    argCount(d, 0, 1);
    c.handler((next) => new LoadbalanceHandler(next));
  },
};
