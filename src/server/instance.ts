// A running server: the listeners, the active config, reload and shutdown.
// Listeners whose address and port survive a reload stay open; only their
// routes are swapped, so no query is lost while the config changes.

import { readFileSync } from 'node:fs';
import { parseCorefile } from '../corefile/index.js';
import type { App } from '../app.js';
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
  private reloading: Promise<void> = Promise.resolve();
  private io: UdpIo | undefined;

  constructor(private readonly app: App) {
    app.reload = () => this.reload();
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

  /** Applies a changed Corefile; a bad one is logged and the old config keeps serving. */
  reload(): Promise<void> {
    // After the previous reload: a refused one must not refuse every later one.
    this.reloading = this.reloading.catch(() => {}).then(async () => {
      const log = this.app.pluginLog('reload');
      try {
        await this.apply(this.load());
        log.info('reloaded configuration');
      } catch (err) {
        this.app.reloadFailures++;
        log.error(`reload refused, previous configuration still serving: ${(err as Error).message}`);
        throw err;
      }
    });
    return this.reloading;
  }

  async stop(): Promise<void> {
    // A reload in progress could otherwise open listeners after they were closed here.
    await this.reloading.catch(() => {});
    await Promise.allSettled([...this.listeners.values()].flatMap((l) => [l.udp.close(), l.tcp.close()]));
    this.listeners.clear();
    if (this.config) await runAll(this.config.shutdown);
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

  private load(): Config {
    const file = this.app.options.corefile;
    const text = readFileSync(file, 'utf8');
    return buildConfig(parseCorefile(text, file, { defaultPort: this.app.options.portOverride ?? DEFAULT_PORT }), this.app);
  }

  /**
   * Starts `next` beside the running config, then swaps routes and stops the
   * old one. Plugins that hold ports or sources across a reload (health,
   * metrics, registry files) hand them over instead of closing and reopening.
   */
  private async apply(next: Config): Promise<void> {
    const opened: string[] = [];
    try {
      await runAll(next.startup);
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
      await runAll(next.shutdown);
      throw err;
    }
    for (const [key, l] of this.listeners) {
      const spec = next.listeners.get(key);
      if (spec) l.dispatcher.routes = spec.routes;
      else await this.closeListener(key);
    }
    const old = this.config;
    this.config = next;
    if (old) await runAll(old.shutdown);
  }

  private async closeListener(key: string): Promise<void> {
    const l = this.listeners.get(key);
    if (!l) return;
    this.listeners.delete(key);
    await Promise.allSettled([l.udp.close(), l.tcp.close()]);
  }
}

async function runAll(fns: Array<() => void | Promise<void>>): Promise<void> {
  for (const fn of fns) await fn();
}
