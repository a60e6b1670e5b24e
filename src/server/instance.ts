// The DNS side of a running process: the listeners and the config they
// serve. Listeners whose address and port survive a reload stay open; only
// their routes are swapped, so no query is lost while the config changes.
// When each step runs (start, reload, shutdown) is src/server/lifecycle.ts.

import { readFileSync } from 'node:fs';
import { parseCorefile } from '../corefile/index.js';
import type { App } from '../app.js';
import type { Hook, ProcessControl } from '../chain/plugin.js';
import { buildConfig, DEFAULT_PORT, type Config } from '../config/build.js';
import { Dispatcher } from './dispatch.js';
import { listenTcp, type TcpListener } from './tcp.js';
import type { UdpListener, UdpPath } from './udp.js';
import { chooseUdpIo, openUdpListener, registerUdpMetrics, type UdpIo } from './udp-io.js';

interface Listener {
  udp: UdpListener;
  tcp: TcpListener;
  dispatcher: Dispatcher;
}

export class Instance {
  private readonly listeners = new Map<string, Listener>();
  private config: Config | undefined;
  private io: UdpIo | undefined;

  constructor(
    private readonly app: App,
    /** Handed to every plugin's setup: the reload plugin and loop ask the process through it. */
    private readonly control: ProcessControl,
  ) {}

  /** The config serving now: undefined before start and after stop. */
  get serving(): Config | undefined {
    return this.config;
  }

  /**
   * Chooses the UDP path, reads, builds and starts the Corefile; throws when
   * the Corefile is bad (CorefileError) or `-udp.io batch` has no addon.
   */
  async start(): Promise<void> {
    this.io = chooseUdpIo(this.app.options.udpIo ?? 'auto');
    registerUdpMetrics(this.app, this.io, () => [...this.listeners.values()].map((l) => l.udp));
    await this.apply(this.load());
  }

  /** The UDP path the listeners run (in a primary: the one its workers choose on this machine). */
  udpPath(): UdpPath {
    return this.chosenIo().path;
  }

  private chosenIo(): UdpIo {
    if (!this.io) throw new Error('the UDP path is chosen in start()');
    return this.io;
  }

  /** Reads and builds the Corefile (every plugin's setup); throws when it is bad. Starts nothing. */
  load(): Config {
    const file = this.app.options.corefile;
    const text = readFileSync(file, 'utf8');
    return buildConfig(parseCorefile(text, file, { defaultPort: this.app.options.portOverride ?? DEFAULT_PORT }), this.app, this.control);
  }

  /**
   * Starts `next` beside the running config (its OnStartup hooks, then the
   * listeners it adds), then swaps routes and stops the old one (its
   * OnShutdown hooks). Plugins that hold ports or sources across a reload
   * (health, metrics, registry files) hand them over instead of closing and
   * reopening. Throws, with `next` stopped again, when it cannot start.
   */
  async apply(next: Config): Promise<void> {
    const opened: string[] = [];
    try {
      await runHooks(next.startup);
      // A primary with workers serves no DNS itself: the workers bind these.
      const listeners = this.app.options.role === 'primary' ? new Map() : next.listeners;
      for (const [key, spec] of listeners) {
        if (this.listeners.has(key)) continue;
        const dispatcher = new Dispatcher(spec.routes, this.app.log);
        const udp = await openUdpListener(this.chosenIo(), this.app, spec.address, spec.port, dispatcher);
        const tcp = await listenTcp(spec.address, spec.port, dispatcher).catch(async (e: unknown) => {
          await udp.close();
          throw e;
        });
        this.listeners.set(key, { udp, tcp, dispatcher });
        opened.push(key);
      }
    } catch (err) {
      for (const key of opened) await this.closeListener(key);
      await runHooks(next.shutdown);
      throw err;
    }
    for (const [key, l] of this.listeners) {
      const spec = next.listeners.get(key);
      if (spec) l.dispatcher.routes = spec.routes;
      else await this.closeListener(key);
    }
    const old = this.config;
    this.config = next;
    if (old) await runHooks(old.shutdown);
  }

  /** Closes every listener, then runs the serving config's OnShutdown hooks. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.listeners.values()].flatMap((l) => [l.udp.close(), l.tcp.close()]));
    this.listeners.clear();
    if (this.config) await runHooks(this.config.shutdown);
    this.config = undefined;
  }

  /** Listener addresses (bound ones; the configured ones in a primary, whose workers bind them). */
  addresses(): Array<{ address: string; port: number }> {
    if (this.listeners.size === 0) return [...(this.config?.listeners.values() ?? [])].map(({ address, port }) => ({ address, port }));
    return [...this.listeners.values()].map((l) => {
      const a = l.udp.address();
      return { address: a.address, port: a.port };
    });
  }

  private async closeListener(key: string): Promise<void> {
    const l = this.listeners.get(key);
    if (!l) return;
    this.listeners.delete(key);
    await Promise.allSettled([l.udp.close(), l.tcp.close()]);
  }
}

/** Runs hooks one after another, in registration order; the first that throws stops the rest. */
export async function runHooks(hooks: readonly Hook[]): Promise<void> {
  // The array itself, not a copy: a startup hook may add one that runs after the last of them (gossip does).
  for (const hook of hooks) await hook();
}
