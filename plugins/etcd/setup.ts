// `etcd [ZONE] { endpoint URL...; ... }` (see README.md): the registry
// backend on etcd, instead of gossip. No DNS handler: answers come from the
// registry, which the backend keeps in step with etcd. One backend per
// process: a reload with the same settings keeps it running (the new config
// starts before the old one stops); changed settings stop it (its keys
// revoked) and start it again.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { KeptAcrossReload, type Share } from '../../src/chain/kept-across-reload.js';
import { startOrStop } from '../../src/chain/start-or-stop.js';
import { onlyDirective, pluginError } from '../../src/corefile/args.js';
import { parseEtcd } from './config.js';
import { etcdRejectedCounter, registerEtcdGauges } from './metrics.js';
import { EtcdNode } from './node.js';

const nodes = new KeptAcrossReload<EtcdNode>({
  name: 'etcd backend',
  dispose: async (node, app) => {
    app.readiness.delete('etcd');
    app.degradations.delete('etcd');
    await node.stop(false);
  },
  replace: async (old, app) => {
    app.pluginLog('etcd').info('settings changed: revoking this node’s keys and starting again');
    await old.stop(true);
  },
});

export const plugin: PluginDef = {
  name: 'etcd',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const gossip = c.block.directives.find((g) => g.name.text === 'gossip');
    if (gossip) throw pluginError('gossip', gossip.name, 'a node replicates its registry by gossip or by etcd, not both (this block has etcd too)');
    const settings = parseEtcd(d);
    const app = c.app;
    registerEtcdGauges(app, () => nodes.current(app, ''));
    const rejected = etcdRejectedCounter(app);
    const log = app.pluginLog('etcd');
    let mine: Share<EtcdNode> | undefined;
    /** /ready and /health from whichever backend runs, whichever configuration set them. */
    const reportHealth = (): void => {
      app.readiness.set('etcd', () => nodes.current(app, '')?.ready ?? false);
      app.degradations.set('etcd', () => {
        const node = nodes.current(app, '');
        return node ? node.degraded() : 'the etcd backend is not running';
      });
    };
    c.onStartup(async () => {
      mine = await nodes.use(
        app,
        '',
        async () => {
          const node = new EtcdNode(app, settings, (list) => {
            for (const r of list) {
              rejected.inc({ reason: r.reason });
              log.warn(`dropped the value at ${r.key ?? '?'}: ${r.reason}: ${r.detail}`);
            }
          });
          return startOrStop('etcd', node);
        },
        JSON.stringify(settings),
      );
      reportHealth();
    });
    // A refused reload that had replaced this configuration's backend made it again; the refused one's dispose took these.
    c.onRestartFailed(() => {
      if (mine) reportHealth();
    });
    c.onShutdown(() => mine?.release());
  },
};
