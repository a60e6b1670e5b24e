// `gossip { bind ...; join ...; encrypt KEY; ... }` (see README.md): this
// node joins the cluster and replicates the registry. No DNS handler.
// One node per process: a reload with the same settings keeps it running
// (the new config starts before the old one stops); changed settings make
// it leave and start again.

import type { App } from '../../src/app.js';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { KeptAcrossReload, type Share } from '../../src/chain/kept-across-reload.js';
import { startOrStop } from '../../src/chain/start-or-stop.js';
import { onlyDirective } from '../../src/corefile/args.js';
import { parseGossip } from './config.js';
import { registerMembersGauge, registerReplicationCounters } from './metrics.js';
import { GossipNode } from './node.js';

const nodes = new KeptAcrossReload<GossipNode>({
  dispose: (node) => node.stop(true),
  replace: async (old, app) => {
    app.pluginLog('gossip').info('settings changed: leaving and starting again');
    await old.stop(true);
  },
});

/** The gossip node this process runs, if any: read by the API's members route. */
export function runningGossipNode(app: App): GossipNode | undefined {
  return nodes.current(app, '');
}

export const plugin: PluginDef = {
  name: 'gossip',
  scope: 'control',
  setup(c: SetupContext): void {
    const settings = parseGossip(onlyDirective(c.directives));
    const app = c.app;
    registerMembersGauge(app, () => runningGossipNode(app));
    registerReplicationCounters(app, () => runningGossipNode(app));
    let mine: Share<GossipNode> | undefined;
    c.onStartup(async () => {
      mine = await nodes.use(app, '', () => startOrStop('gossip', new GossipNode(app, settings)), JSON.stringify(settings));
      const node = mine.value;
      if (mine.created) {
        // Startup runs the plugins' hooks in order, and one added now runs
        // after the last of them: by then every registry source has started.
        c.onStartup(() => node.announceSyncedWhenReady());
      } else {
        node.reloadKeyring();
      }
      app.readiness.set('gossip', () => node.ready);
    });
    c.onShutdown(() => mine?.release());
  },
};
