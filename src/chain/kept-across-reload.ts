// One long-lived thing per process (a gossip node, an etcd backend) that a
// reload with the same settings hands to the new configuration instead of
// stopping it. The new configuration starts before the old one stops, so
// both use it for a moment: it is counted, and stopped when the last one
// lets go. Changed settings stop the running one and start a new one.

import type { App } from '../app.js';

interface Held<T> {
  value: T;
  /** The settings it runs with, as JSON. */
  key: string;
  /** Configurations using it: during a reload both the old and the new one. */
  users: number;
}

export interface Use<T> {
  value: T;
  /** Started by this configuration (false: taken over from the previous one). */
  started: boolean;
  /**
   * Call from onShutdown: true when this was the last user of the running
   * one (then stop it; it is no longer `current`). False for one that
   * changed settings replaced: `replace` has stopped it already.
   */
  release(): boolean;
}

export class KeptAcrossReload<T> {
  private readonly held = new WeakMap<App, Held<T>>();

  /** What this process runs now, if anything. */
  current(app: App): T | undefined {
    return this.held.get(app)?.value;
  }

  /**
   * From onStartup: the running one when `key` is the same, else the running
   * one (if any) goes through `replace` and `start` makes a new one. A start
   * that throws leaves nothing running.
   */
  async use(app: App, key: string, start: () => Promise<T>, replace: (old: T) => Promise<void>): Promise<Use<T>> {
    let mine = this.held.get(app);
    const started = mine?.key !== key;
    if (mine && !started) {
      mine.users++;
    } else {
      if (mine) {
        this.held.delete(app);
        await replace(mine.value);
      }
      mine = { value: await start(), key, users: 1 };
      this.held.set(app, mine);
    }
    const held = mine;
    let released = false;
    return {
      value: held.value,
      started,
      release: () => {
        if (released || --held.users > 0) return false;
        released = true;
        if (this.held.get(app) !== held) return false;
        this.held.delete(app);
        return true;
      },
    };
  }
}
