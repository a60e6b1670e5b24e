// `cluster [ZONES...] { ttl N; negative_ttl N; fallthrough [ZONES...]; registry FILE; same_node MODE; pods MODE }`

import { dirname, resolve } from 'node:path';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { parseFallthrough } from '../../src/chain/fallthrough.js';
import { argCount, onlyDirective, parseChoice, parseUint, subdirectives, unknownSubdirective, zoneArgs } from '../../src/corefile/args.js';
import { SAME_NODE_MODES } from '../../src/registry/same-node.js';
import { KubeNamesHandler, PODS_MODES, type PodsMode } from './kube-names.js';
import { FileSource } from '../../src/sources/file/source.js';
import { CLUSTER_ZONE, NEGATIVE_TTL, REGISTRY_TTL } from '../../src/registry/dns.js';
import { ClusterHandler, type ClusterOptions } from './handler.js';
import { clearMemoOnRegistryChange } from '../../src/registry/memo-invalidation.js';

export const plugin: PluginDef = {
  name: 'cluster',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const zones = d.args.length > 0 ? zoneArgs(d) : [CLUSTER_ZONE];
    const opts: ClusterOptions = { zones, ttl: REGISTRY_TTL, negativeTtl: NEGATIVE_TTL, fallthrough: null, sameNode: 'off', nodeName: c.app.options.nodeName };
    let pods: PodsMode = 'disabled';
    let registryFile: string | undefined;
    for (const sub of subdirectives(d)) {
      switch (sub.name.text) {
        case 'ttl':
          opts.ttl = parseUint(argCount(sub, 1)[0]!, 'cluster: ttl', 0, 3600);
          break;
        case 'negative_ttl':
          opts.negativeTtl = parseUint(argCount(sub, 1)[0]!, 'cluster: negative_ttl', 0, 3600);
          break;
        case 'fallthrough':
          opts.fallthrough = parseFallthrough(sub);
          break;
        case 'same_node':
          opts.sameNode = parseChoice(sub, 'cluster: same_node', SAME_NODE_MODES);
          break;
        case 'pods':
          pods = parseChoice(sub, 'cluster: pods', PODS_MODES);
          break;
        case 'registry': {
          const file = argCount(sub, 1)[0]!;
          registryFile = resolve(dirname(file.file), file.text);
          break;
        }
        default:
          throw unknownSubdirective(d, sub);
      }
    }
    const app = c.app;
    // DNS workers mirror the primary's registry instead of reading the file themselves.
    const readsFile = registryFile !== undefined && app.options.role !== 'worker';
    let loaded = !readsFile;
    if (readsFile && registryFile !== undefined) {
      const log = app.pluginLog('cluster');
      const source = new FileSource(app, registryFile, (err) => log.error(`registry file not applied, previous contents still serving: ${err.message}`));
      c.onStartup(async () => {
        await source.start();
        loaded = true;
      });
      c.onShutdown(() => source.stop());
    }
    c.onStartup(() => {
      for (const z of zones) app.registryZones.add(z);
      app.readiness.set('cluster', () => loaded);
    });
    c.handler((next) => {
      const cluster = clearMemoOnRegistryChange(c, new ClusterHandler(opts, app.registry, next));
      return new KubeNamesHandler({ zones, ttl: opts.ttl, negativeTtl: opts.negativeTtl, pods }, app.registry, cluster, next);
    });
  },
};
