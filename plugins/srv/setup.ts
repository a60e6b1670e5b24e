// `srv [ZONES...] { ttl N; negative_ttl N; same_node off|first|only }`

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, parseChoice, parseUint, subdirectives, unknownSubdirective, zoneArgs } from '../../src/corefile/args.js';
import { SAME_NODE_MODES } from '../../src/registry/same-node.js';
import { CLUSTER_ZONE, NEGATIVE_TTL, REGISTRY_TTL } from '../../src/registry/dns.js';
import { SrvHandler, type SrvOptions } from './handler.js';
import { clearMemoOnRegistryChange } from '../../src/registry/memo-invalidation.js';

export const plugin: PluginDef = {
  name: 'srv',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const opts: SrvOptions = {
      zones: d.args.length > 0 ? zoneArgs(d) : [CLUSTER_ZONE],
      ttl: REGISTRY_TTL,
      negativeTtl: NEGATIVE_TTL,
      sameNode: 'off',
      nodeName: c.app.options.nodeName,
    };
    for (const sub of subdirectives(d)) {
      if (sub.name.text === 'ttl') opts.ttl = parseUint(argCount(sub, 1)[0]!, 'srv: ttl', 0, 3600);
      else if (sub.name.text === 'negative_ttl') opts.negativeTtl = parseUint(argCount(sub, 1)[0]!, 'srv: negative_ttl', 0, 3600);
      else if (sub.name.text === 'same_node') opts.sameNode = parseChoice(sub, 'srv: same_node', SAME_NODE_MODES);
      else throw unknownSubdirective(d, sub);
    }
    c.onStartup(() => {
      for (const z of opts.zones) c.app.registryZones.add(z);
    });
    c.handler((next) => clearMemoOnRegistryChange(c, new SrvHandler(opts, c.app.registry, next)));
  },
};
