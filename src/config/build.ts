// Turns parsed server blocks into what the listeners serve: one chain per
// block, built in the fixed plugin order, and the lifecycle hooks the
// plugins registered. Building has no side effects; `startup` does.

import { CorefileError, type Directive, type ServerBlock } from '../corefile/types.js';
import type { Hook, ProcessControl, SetupContext } from '../chain/plugin.js';
import { composeChain, type ChainLink } from '../chain/compose.js';
import { PLUGINS, findPlugin } from '../chain/plugins.js';
import type { App } from '../app.js';
import type { Route } from '../server/dispatch.js';

export const DEFAULT_PORT = 53;
export const DEFAULT_BIND = ['0.0.0.0'];

export interface ListenerSpec {
  address: string;
  port: number;
  routes: Route[];
}

/** A built Corefile; the hooks run in the order src/server/lifecycle.ts says. */
export interface Config {
  /** Keyed by `address|port`. */
  listeners: Map<string, ListenerSpec>;
  startup: Hook[];
  shutdown: Hook[];
  restart: Hook[];
  restartFailed: Hook[];
  finalShutdown: Hook[];
  /** How long SIGTERM keeps this config answering before the listeners close. */
  lameduckMs: number;
}

export function listenerKey(address: string, port: number): string {
  return `${address}|${port}`;
}

export function buildConfig(blocks: readonly ServerBlock[], app: App, control: ProcessControl): Config {
  const config: Config = { listeners: new Map(), startup: [], shutdown: [], restart: [], restartFailed: [], finalShutdown: [], lameduckMs: 0 };
  for (const block of blocks) {
    const byName = groupDirectives(block.directives);
    const zones = block.keys.flatMap((k) => k.zones);
    const first = block.keys[0]!;
    const port = app.options.portOverride ?? first.port ?? DEFAULT_PORT;
    const server = `dns://:${port}`;
    let bind = DEFAULT_BIND;
    const links: ChainLink[] = [];
    for (const def of PLUGINS) {
      const directives = byName.get(def.name);
      if (!directives) continue;
      // Control plugins run once per node: in the primary, not in each DNS worker.
      if (def.scope === 'control' && app.options.role === 'worker') continue;
      const ctx: SetupContext = {
        directives,
        block,
        zones,
        server,
        app,
        handler: (factory, opts) => links.push({ factory, tracksWriter: opts?.tracksWriter ?? false }),
        onStartup: (fn) => config.startup.push(fn),
        onShutdown: (fn) => config.shutdown.push(fn),
        onRestart: (fn) => config.restart.push(fn),
        onRestartFailed: (fn) => config.restartFailed.push(fn),
        onFinalShutdown: (fn) => config.finalShutdown.push(fn),
        reload: () => control.reload(),
        fatal: (message) => control.fatal(message),
        lameduck: (ms) => (config.lameduckMs = Math.max(config.lameduckMs, ms)),
        setBind: (a) => (bind = a),
      };
      def.setup(ctx);
    }
    const chain = composeChain(links);

    for (const key of block.keys) {
      const keyPort = app.options.portOverride ?? key.port ?? DEFAULT_PORT;
      for (const address of bind) {
        const lk = listenerKey(address, keyPort);
        let spec = config.listeners.get(lk);
        if (!spec) {
          spec = { address, port: keyPort, routes: [] };
          config.listeners.set(lk, spec);
        }
        spec.routes.push({ zones: key.zones, chain, server: `dns://:${keyPort}`, recursion: byName.has('forward') });
      }
    }
  }
  return config;
}

/** Groups a block's directives by name; unknown names are refused with FILE:LINE. */
function groupDirectives(directives: readonly Directive[]): Map<string, Directive[]> {
  const byName = new Map<string, Directive[]>();
  for (const d of directives) {
    const name = d.name.text;
    if (!findPlugin(name)) throw CorefileError.at(d.name, `unknown directive '${name}'`);
    const list = byName.get(name);
    if (list) list.push(d);
    else byName.set(name, [d]);
  }
  return byName;
}
