// `gossip { bind ...; join ...; encrypt KEY; ... }` (see README.md): this
// node joins the cluster and replicates the registry. No DNS handler.
// One node per process: a reload with the same settings keeps it running
// (the new config starts before the old one stops); changed settings make
// it leave and start again.

import type { App } from '../../src/app.js';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { CorefileError } from '../../src/corefile/types.js';
import { parseGossip } from './config.js';
import { registerMembersGauge, registerReplicationCounters } from './metrics.js';
import { GossipNode } from './node.js';

interface Running {
  node: GossipNode;
  /** The settings it runs with, as JSON. */
  key: string;
  /** Configs using it: during a reload both the old and the new one. */
  users: number;
}

const running = new WeakMap<App, Running>();

/** The gossip node this process runs, if any: read by the API's members route. */
export function runningGossipNode(app: App): GossipNode | undefined {
  return running.get(app)?.node;
}

export const plugin: PluginDef = {
  name: 'gossip',
  scope: 'control',
  setup(c: SetupContext): void {
    if (c.directives.length > 1) throw CorefileError.at(c.directives[1]!.name, 'gossip: only one gossip directive per server block');
    const settings = parseGossip(c.directives[0]!);
    const key = JSON.stringify(settings);
    const app = c.app;
    registerMembersGauge(app, () => running.get(app)?.node);
    registerReplicationCounters(app, () => running.get(app)?.node);
    let mine: Running | undefined;
    c.onStartup(async () => {
      const cur = running.get(app);
      if (cur?.key === key) {
        cur.users++;
        mine = cur;
        cur.node.reloadKeyring();
      } else {
        if (cur) {
          running.delete(app);
          app.pluginLog('gossip').info('settings changed: leaving and starting again');
          await cur.node.stop(true);
        }
        const node = new GossipNode(app, settings);
        try {
          await node.start();
        } catch (err) {
          await node.stop(false);
          throw new Error(`gossip: ${(err as Error).message}`);
        }
        mine = { node, key, users: 1 };
        running.set(app, mine);
        // Startup runs the plugins' hooks in order, and one added now runs
        // after the last of them: by then every registry source has started.
        c.onStartup(() => node.announceSyncedWhenReady());
      }
      const node = mine.node;
      app.readiness.set('gossip', () => node.ready);
    });
    c.onShutdown(async () => {
      if (!mine || --mine.users > 0) return;
      if (running.get(app) === mine) running.delete(app);
      await mine.node.stop(true);
    });
  },
};
