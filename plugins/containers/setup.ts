// `containers [ZONES...] { socket PATH; domain NAME; ttl N; fallthrough [ZONES...] }`:
// Podman's container names and network aliases, as aardvark-dns answers
// them (see README.md). Not a control plugin: it answers queries, so with
// `-workers N` every worker follows Podman itself; the primary, which
// serves no DNS, does not.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { parseFallthrough } from '../../src/chain/fallthrough.js';
import { argCount, onlyDirective, parseUint, pluginError, subdirectives, unknownSubdirective, zoneArgs } from '../../src/corefile/args.js';
import { DEFAULT_SOCKET, parseSocket } from '../../src/sources/podman/socket.js';
import { ContainersHandler, type ContainersOptions } from './handler.js';
import { ContainerNames } from './source.js';

/** Podman's search domain for DNS-enabled networks (aardvark's default filter). */
export const DEFAULT_DOMAIN = 'dns.podman';
/** What aardvark-dns 1.4 puts on every record. */
export const DEFAULT_TTL = 86400;

export const plugin: PluginDef = {
  name: 'containers',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const opts: ContainersOptions = { zones: d.args.length > 0 ? zoneArgs(d) : c.zones, domain: DEFAULT_DOMAIN, ttl: DEFAULT_TTL, fallthrough: null };
    let socketPath = DEFAULT_SOCKET;
    for (const sub of subdirectives(d)) {
      switch (sub.name.text) {
        case 'socket':
          socketPath = parseSocket(sub, 'containers');
          break;
        case 'domain': {
          const tok = argCount(sub, 1)[0]!;
          const domain = tok.text.toLowerCase().replace(/\.$/, '');
          if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(domain)) throw pluginError('containers', tok, `domain '${tok.text}' is not a domain name`);
          opts.domain = domain;
          break;
        }
        case 'ttl':
          opts.ttl = parseUint(argCount(sub, 1)[0]!, 'containers: ttl', 0, 2_147_483_647);
          break;
        case 'fallthrough':
          opts.fallthrough = parseFallthrough(sub);
          break;
        default:
          throw unknownSubdirective(d, sub);
      }
    }
    const app = c.app;
    const names = new ContainerNames(socketPath, app.pluginLog('containers'));
    let unwatch: (() => Promise<void>) | undefined;
    c.onStartup(async () => {
      if (app.options.role === 'primary') return;
      // Loaded on use: the HTTP client costs memory a node without Podman should not pay.
      const { watchPodman } = await import('../../src/sources/podman/watcher.js');
      unwatch = await watchPodman(app, socketPath, names);
      app.readiness.set('containers', () => names.synced);
    });
    c.onShutdown(async () => {
      await unwatch?.();
      await names.close();
    });
    c.handler((next) => new ContainersHandler(opts, names, app.registry, next));
  },
};
