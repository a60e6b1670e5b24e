// `podman { socket PATH; network NAME... }`: registers this node's labelled
// Podman containers (see README.md). No DNS handler; it feeds the registry.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import type { PodmanSource } from '../../src/sources/podman/source.js';
import { DEFAULT_SOCKET, parseSocket } from '../../src/sources/podman/socket.js';

export const plugin: PluginDef = {
  name: 'podman',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    argCount(d, 0);
    let socketPath = DEFAULT_SOCKET;
    const networks: string[] = [];
    for (const sub of subdirectives(d)) {
      switch (sub.name.text) {
        case 'socket':
          socketPath = parseSocket(sub, 'podman');
          break;
        case 'network':
          for (const tok of argCount(sub, 1, Infinity)) if (!networks.includes(tok.text)) networks.push(tok.text);
          break;
        default:
          throw unknownSubdirective(d, sub);
      }
    }
    const app = c.app;
    let source: PodmanSource | undefined;
    c.onStartup(async () => {
      // Loaded on use: the HTTP client it needs costs memory a node without Podman should not pay.
      const { PodmanSource } = await import('../../src/sources/podman/source.js');
      const s = new PodmanSource(app, { socketPath, networks, nodeName: app.options.nodeName, log: app.pluginLog('podman') });
      source = s;
      await s.start();
      app.readiness.set('podman', () => s.synced);
    });
    c.onShutdown(() => source?.stop());
  },
};
