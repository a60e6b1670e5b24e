// `autopath [ZONES...]`: the search-path optimisation for this node's own
// containers (see README.md).

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { noBlock, onlyDirective, zoneArgs } from '../../src/corefile/args.js';
import { CLUSTER_ZONE } from '../../src/registry/dns.js';
import { AutopathHandler } from './handler.js';

export const plugin: PluginDef = {
  name: 'autopath',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    noBlock(d);
    const zones = d.args.length > 0 ? zoneArgs(d) : [CLUSTER_ZONE];
    c.handler((next) => new AutopathHandler({ zones, nodeName: c.app.options.nodeName }, c.app.registry, next));
  },
};
