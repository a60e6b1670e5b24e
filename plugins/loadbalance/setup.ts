// `loadbalance [round_robin]` (CoreDNS plugin/loadbalance). The `weighted`
// policy and the `prefer`/`reload` options are not implemented and are refused.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock } from '../../src/corefile/args.js';
import { CorefileError } from '../../src/corefile/types.js';
import { LoadbalanceHandler } from './handler.js';

export const plugin: PluginDef = {
  name: 'loadbalance',
  setup(c: SetupContext): void {
    if (c.directives.length > 1) throw CorefileError.at(c.directives[1]!.name, 'loadbalance: only one loadbalance directive per server block');
    const d = c.directives[0]!;
    noBlock(d);
    const policy = d.args[0];
    if (policy !== undefined && policy.text !== 'round_robin') {
      throw CorefileError.at(policy, `loadbalance: unknown policy '${policy.text}' (supported: round_robin)`);
    }
    argCount(d, 0, 1);
    c.handler((next) => new LoadbalanceHandler(next));
  },
};
