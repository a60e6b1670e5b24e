// `gossip { bind ...; join ...; encrypt KEY; ... }` (see README.md): this
// node joins the cluster and replicates the registry. No DNS handler.
// One node per process: a reload with the same settings keeps it running
// (the new config starts before the old one stops); changed settings make
// it leave and start again.

import type { App } from '../../src/app.js';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { KeptAcrossReload, KeptForLife, type Share } from '../../src/chain/kept-across-reload.js';
import { startOrStop } from '../../src/chain/start-or-stop.js';
import { onlyDirective } from '../../src/corefile/args.js';
import { parseGossip } from './config.js';
import { registerMembersGauge, registerReplicationCounters } from './metrics.js';
import { GossipNode } from './node.js';

/** The members this process's last gossip node knew alive when it stopped: the next one joins them too. */
const lastPeers = new KeptForLife<{ addresses: string[] }>();

async function leave(node: GossipNode, app: App): Promise<void> {
  lastPeers.get(app, '', () => ({ addresses: [] })).addresses = node.peerAddresses();
  await node.stop(true);
}

const nodes = new KeptAcrossReload<GossipNode>({
  name: 'gossip node',
  dispose: leave,
  replace: async (old, app) => {
    app.pluginLog('gossip').info('settings changed: leaving and starting again');
    await leave(old, app);
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
    /** The node this configuration started with: another one after a refused reload made it again. */
    let started: GossipNode | undefined;
    c.onStartup(async () => {
      const share = (mine = await nodes.use(
        app,
        '',
        () => startOrStop('gossip', new GossipNode(app, settings, lastPeers.current(app, '')?.addresses)),
        JSON.stringify(settings),
      ));
      started = share.value;
      if (share.created) {
        // Startup runs the plugins' hooks in order, and one added now runs
        // after the last of them: by then every registry source has started.
        c.onStartup(() => share.value.announceSyncedWhenReady());
      } else {
        share.value.reloadKeyring();
      }
      // Whichever node runs, whichever configuration asks.
      app.readiness.set('gossip', () => runningGossipNode(app)?.ready ?? false);
    });
    // The refused configuration had replaced this one's node (other settings), and it is back, new: it rejoined, and tells the cluster once synced.
    c.onRestartFailed(() => {
      if (!mine || mine.value === started) return;
      started = mine.value;
      mine.value.announceSyncedWhenReady();
    });
    c.onShutdown(() => mine?.release());
  },
};
