// Follows one Podman (libpod socket) for everything in this process that
// needs its containers: the `podman` registry source and the `containers`
// DNS plugin. One watcher per socket per process, shared and refcounted, so
// two users cost one events stream, and a reload (the new config subscribes
// before the old one leaves) hands over without reconnecting or a gap.
//
// A session opens the events stream first, then lists and inspects every
// running container, so nothing between the listing and the stream is lost.
// Losing the socket is never fatal: subscribers keep what they know, the
// watcher retries with backoff, and the next listing replaces it wholesale.

import { setTimeout as sleep } from 'node:timers/promises';
import { STARTED, STOPPED } from './events.js';
import { Libpod, type ContainerEvent, type ContainerInspect } from './libpod.js';

/** What a user of the watcher is told. Calls are synchronous and in stream order. */
export interface PodmanSubscriber {
  /** A complete listing of the running containers; replaces everything known before. */
  onSync(containers: ReadonlyMap<string, ContainerInspect>): void;
  /**
   * A container event. `c` is the fresh inspection after start, restart and
   * unpause (undefined if the container is already gone); undefined otherwise.
   */
  onEvent(action: string, id: string, c: ContainerInspect | undefined): void;
  /** The socket failed or closed; the watcher retries after `retryMs`. */
  onLost(err: Error, retryMs: number): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

const watchers = new Map<string, PodmanWatcher>();

/**
 * Subscribes to the socket's watcher, starting it when it is the first
 * subscriber. A subscriber that joins a synced watcher gets onSync at once.
 * Resolve the returned function to unsubscribe; the last one out stops it.
 */
export function watchPodman(socketPath: string, sub: PodmanSubscriber): () => Promise<void> {
  let w = watchers.get(socketPath);
  if (!w) {
    w = new PodmanWatcher(socketPath);
    watchers.set(socketPath, w);
  }
  w.add(sub);
  const watcher = w;
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    if (!watcher.remove(sub)) return;
    if (watchers.get(socketPath) === watcher) watchers.delete(socketPath);
    await watcher.stop();
  };
}

class PodmanWatcher {
  private readonly libpod: Libpod;
  private readonly stopping = new AbortController();
  private readonly subs = new Set<PodmanSubscriber>();
  /** The containers on their networks (running or paused), as of the last listing plus the events since; undefined before the first listing. */
  private containers: Map<string, ContainerInspect> | undefined;
  private loop: Promise<void> | undefined;

  constructor(socketPath: string) {
    this.libpod = new Libpod(socketPath);
  }

  add(sub: PodmanSubscriber): void {
    this.subs.add(sub);
    if (this.containers) sub.onSync(this.containers);
    this.loop ??= this.run();
  }

  /** True when that was the last subscriber. */
  remove(sub: PodmanSubscriber): boolean {
    this.subs.delete(sub);
    return this.subs.size === 0;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.libpod.close();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let delay = FIRST_RETRY_MS;
    while (!signal.aborted) {
      let synced = false;
      try {
        await this.session(signal, () => {
          synced = true;
          delay = FIRST_RETRY_MS;
        });
        if (!signal.aborted) throw new Error('events stream ended');
      } catch (err) {
        if (signal.aborted) break;
        for (const s of this.subs) s.onLost(err as Error, delay);
      }
      await sleep(delay, undefined, { signal }).catch(() => {});
      if (!synced) delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }

  private async session(signal: AbortSignal, onSynced: () => void): Promise<void> {
    const events = await this.libpod.events(signal);
    const next = new Map<string, ContainerInspect>();
    for (const id of await this.libpod.running(signal)) {
      const c = await this.libpod.inspect(id, signal);
      if (c?.State.Running) next.set(id, c);
    }
    this.containers = next;
    onSynced();
    for (const s of this.subs) s.onSync(next);
    for await (const ev of events) await this.apply(ev, signal);
  }

  private async apply(ev: ContainerEvent, signal: AbortSignal): Promise<void> {
    if (ev.Type !== 'container') return;
    const id = ev.Actor.ID;
    let c: ContainerInspect | undefined;
    if (STARTED.has(ev.Action)) {
      c = await this.libpod.inspect(id, signal);
      if (c?.State.Running) this.containers!.set(id, c);
      else this.containers!.delete(id);
    } else if (STOPPED.has(ev.Action)) {
      this.containers!.delete(id);
    } else if (ev.Action === 'pause') {
      // Still on its networks (aardvark keeps its names), but not running, as inspect would now say.
      const known = this.containers!.get(id);
      if (known) this.containers!.set(id, { ...known, State: { ...known.State, Running: false } });
    }
    for (const s of this.subs) s.onEvent(ev.Action, id, c);
  }
}
