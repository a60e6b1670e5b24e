// The one way a long-lived thing of the process survives a reload: a socket
// (the side HTTP endpoints, the API), a gossip node, an etcd backend, the
// health checker, a registry source's entries, a Podman watcher. A reload
// starts the new configuration beside the old one and only then stops the
// old one, so for a moment both use what they share. Each takes a share of
// it under a key (an address, a source key): the first share creates it, a
// configuration asking for a running key is handed the running one, and the
// last share given back disposes of it (caddy's UsagePool; CoreDNS's
// plugin/pkg/uniq and reuseport). Nothing here is a module-level map of its
// own elsewhere: test/structure.test.ts checks that.
//
// KeptForLife, below, is the sibling for what is never disposed: one metric
// per name, or a reload would register it twice.

import type { App } from '../app.js';

export interface Share<T> {
  /** The value; after a refused replacement, the one made again in its place (read it here, not once). */
  readonly value: T;
  /** Created for this share (false: it was running already, as a reload finds what the previous configuration started). */
  readonly created: boolean;
  /** True while no share taken after this one is still held: it belongs to the configuration that started last. */
  readonly newest: boolean;
  /** Gives the share back (from onShutdown); the last one given back disposes of the value. A second call does nothing. */
  release(): Promise<void>;
}

export interface Keeping<T> {
  /** What is kept, for the log (`gossip node`). */
  name: string;
  /** Stops a value no configuration holds any more. */
  dispose(value: T, app: App): void | Promise<void>;
  /** Stops a value whose settings changed, before its successor is created (default: dispose). See `use`. */
  replace?(old: T, app: App): void | Promise<void>;
}

interface Held<T> {
  readonly settings: string;
  /** How the value was made: made again when a replacement of it is refused. */
  readonly create: () => T | Promise<T>;
  /** Settles once created; a failed creation leaves nothing under the key. */
  created: Promise<T>;
  value?: T;
  /** Shares not given back yet, oldest first. */
  readonly shares: Share<T>[];
  /** The value this one replaced (other settings), while the configuration holding it may still be the one serving. */
  replaced?: Held<T>;
}

export class KeptAcrossReload<T> {
  private readonly held = new WeakMap<App, Map<string, Held<T>>>();

  constructor(private readonly keeping: Keeping<T>) {}

  /** The running value under `key`, if any. */
  current(app: App, key: string): T | undefined {
    return this.held.get(app)?.get(key)?.value;
  }

  /**
   * From onStartup: a share of the value under `key`, made by `create` when
   * none runs. `settings` (JSON, say) are for a value there can be only one
   * of (a gossip node binds its port): a running one with other settings is
   * stopped through `replace` first, so the two never run side by side. If
   * the replacement fails to start, or the configuration that made it is
   * refused (its shares given back while the old configuration's are still
   * held), the old value is made again with its own settings: a refused
   * reload leaves the old configuration with what it had, not with nothing.
   * A `create` that throws leaves nothing of its own running under `key`.
   */
  async use(app: App, key: string, create: () => T | Promise<T>, settings = ''): Promise<Share<T>> {
    let byKey = this.held.get(app);
    if (!byKey) this.held.set(app, (byKey = new Map()));
    const map = byKey;
    let held = map.get(key);
    let replaced: Held<T> | undefined;
    if (held && held.settings !== settings) {
      map.delete(key);
      const old = await held.created.catch(() => undefined);
      if (old !== undefined) await (this.keeping.replace ?? this.keeping.dispose)(old, app);
      replaced = held;
      // What that one replaced belongs to a configuration long shut down (the serving one followed it).
      replaced.replaced = undefined;
      held = undefined;
    }
    const created = !held;
    if (!held) {
      const fresh: Held<T> = { settings, create, created: Promise.resolve().then(create), shares: [], replaced };
      map.set(key, fresh);
      try {
        fresh.value = await fresh.created;
      } catch (err) {
        if (map.get(key) === fresh) {
          map.delete(key);
          await this.restore(app, map, key, replaced);
        }
        throw err;
      }
      held = fresh;
    }
    const h = held;
    await h.created;
    const share: Share<T> = {
      get value() {
        return h.value!;
      },
      created,
      get newest() {
        return h.shares[h.shares.length - 1] === share;
      },
      release: async () => {
        const i = h.shares.indexOf(share);
        if (i < 0) return;
        h.shares.splice(i, 1);
        // Still held by another configuration, or replaced (and stopped) already.
        if (h.shares.length > 0 || map.get(key) !== h) return;
        map.delete(key);
        await this.keeping.dispose(h.value!, app);
        // The configuration that replaced a value was refused: the one still serving gets its value back.
        await this.restore(app, map, key, h.replaced);
      },
    };
    h.shares.push(share);
    return share;
  }

  /** Makes `old` (a value a refused replacement stopped) again under `key`, for the shares still holding it. */
  private async restore(app: App, map: Map<string, Held<T>>, key: string, old: Held<T> | undefined): Promise<void> {
    if (!old || old.shares.length === 0 || map.has(key)) return;
    // Until it is made again (or if that fails), its shares still read the stopped value.
    old.created = Promise.resolve().then(old.create);
    map.set(key, old);
    try {
      old.value = await old.created;
    } catch (err) {
      if (map.get(key) === old) map.delete(key);
      app.log.error(`the ${this.keeping.name}${key ? ` ${key}` : ''} a refused reload replaced could not start again: ${(err as Error).message}`);
    }
  }
}

/**
 * What the process keeps from its first use to its exit, never disposed, so
 * a reload finds it where the previous configuration left it: a metric (one
 * per name: prom-client refuses a second registration), the DNS metrics, the
 * API's state file.
 */
export class KeptForLife<T> {
  private readonly kept = new WeakMap<App, Map<string, T>>();

  /** The value under `key`, if it was made. */
  current(app: App, key: string): T | undefined {
    return this.kept.get(app)?.get(key);
  }

  /** The value under `key`, made by `create` on first use; a `create` that throws keeps nothing. */
  get(app: App, key: string, create: () => T): T {
    let byKey = this.kept.get(app);
    if (!byKey) this.kept.set(app, (byKey = new Map()));
    if (byKey.has(key)) return byKey.get(key)!;
    const value = create();
    byKey.set(key, value);
    return value;
  }
}
