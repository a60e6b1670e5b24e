// Every compiled-in plugin, in execution order (CoreDNS plugin.cfg). The
// order here, not the order in the Corefile, decides who sees a query first.
// Plugins that only start services (no handler) sit where CoreDNS puts theirs.

import type { PluginDef } from './plugin.js';
import { plugin as bind } from '../../plugins/bind/setup.js';
import { plugin as log } from '../../plugins/log/setup.js';
import { plugin as cache } from '../../plugins/cache/setup.js';
import { plugin as srv } from '../../plugins/srv/setup.js';
import { plugin as cluster } from '../../plugins/cluster/setup.js';
import { plugin as forward } from '../../plugins/forward/setup.js';

export const PLUGINS: readonly PluginDef[] = [bind, log, cache, srv, cluster, forward];

export function findPlugin(name: string): PluginDef | undefined {
  return PLUGINS.find((p) => p.name === name);
}
