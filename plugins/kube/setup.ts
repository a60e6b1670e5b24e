// `kube PATH... { socket PATH }`: registers the Services of the kube YAML this
// node plays, with this node's matching pods as endpoints (see README.md).
// No DNS handler; it feeds the registry.

import { dirname, resolve } from 'node:path';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { DEFAULT_SOCKET, parseSocket } from '../../src/sources/podman/socket.js';
import { loadManifests } from '../../src/sources/kube/manifests.js';
import type { KubeSource } from '../../src/sources/kube/source.js';

export const plugin: PluginDef = {
  name: 'kube',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const paths = argCount(d, 1, Infinity).map((t) => resolve(dirname(t.file), t.text));
    let socketPath = DEFAULT_SOCKET;
    for (const sub of subdirectives(d)) {
      if (sub.name.text === 'socket') socketPath = parseSocket(sub, 'kube');
      else throw unknownSubdirective(d, sub);
    }
    // Read now, so a bad file refuses the Corefile with the reason (and a reload keeps the old one).
    try {
      loadManifests(paths);
    } catch (err) {
      throw pluginError('kube', d.name, (err as Error).message);
    }
    const app = c.app;
    let source: KubeSource | undefined;
    c.onStartup(async () => {
      // Loaded on use, as the podman plugin's source: the HTTP client costs memory.
      const { KubeSource } = await import('../../src/sources/kube/source.js');
      const s = new KubeSource(app, { paths, socketPath, nodeName: app.options.nodeName, log: app.pluginLog('kube') });
      source = s;
      await s.start();
      app.readiness.set('kube', () => s.synced);
    });
    c.onShutdown(() => source?.stop());
  },
};
