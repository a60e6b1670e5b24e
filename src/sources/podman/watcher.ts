// Follows one Podman (libpod socket) for everything in this process that
// needs its containers: the `podman` registry source and the `containers`
// DNS plugin. One watcher per socket per process, shared and refcounted
// (src/chain/kept-across-reload.ts), so two users cost one events stream, and
// a reload (the new config subscribes before the old one leaves) hands over
// without reconnecting or a gap.
//
// A session opens the events stream first, then lists and inspects every
// running container, so nothing between the listing and the stream is lost.
// Losing the socket is never fatal: subscribers keep what they know, the
// watcher retries with backoff, and the next listing replaces it wholesale.
//
// Two things libpod does not tell in events, so the watcher looks:
// - network connect/disconnect (Podman 4.3 sends no event): every RESCAN_MS
//   libpod's list (network names and health, its cheapest listing) is
//   compared with what is known, and only containers that differ are
//   inspected again. A disconnect and reconnect to the same network between
//   two looks keeps the names and may change the address, so every
//   ADDRESS_RESCANS passes the compatible list, which carries addresses, is
//   compared too;
// - HEALTHCHECK status: `health_status` comes on every check run, not on a
//   change, and Podman 4.3 sends it before it stores the new status (the
//   event's own status and an inspection right after can be the old one).
//   So the container is inspected, again HEALTH_CONFIRM_MS later when that
//   showed no change, and passed on only when `State.Health.Status` changed;
//   each rescan also compares libpod's list, which carries the status.

import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../app.js';
import { KeptAcrossReload } from '../../chain/kept-across-reload.js';
import { podmanHealthOf } from './health.js';
import { HEALTH_STATUS, NETWORKS_CHANGED, STARTED, STOPPED } from './events.js';
import { Libpod, type ContainerEvent, type ContainerInspect } from './libpod.js';

/** What a user of the watcher is told. Calls are synchronous and in stream order. */
export interface PodmanSubscriber {
  /** A complete listing of the running containers; replaces everything known before. */
  onSync(containers: ReadonlyMap<string, ContainerInspect>): void;
  /**
   * A container event. `c` is the fresh inspection after start, restart and
   * unpause (undefined if the container is already gone), and after
   * `health_status` and `networks-changed` (both only when something changed);
   * undefined otherwise.
   */
  onEvent(action: string, id: string, c: ContainerInspect | undefined): void;
  /** The socket failed or closed; the watcher retries after `retryMs`. */
  onLost(err: Error, retryMs: number): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
/** How often running containers are compared with a fresh listing (network connect/disconnect within 10 s). */
export const RESCAN_MS = 5_000;
/** Every how many rescans addresses are compared as well (the compatible list costs 1.6 times libpod's). */
const ADDRESS_RESCANS = 6;
/** A second look after a `health_status` that showed no change (the status may not be stored yet). */
const HEALTH_CONFIRM_MS = 300;

const watchers = new KeptAcrossReload<PodmanWatcher>({ name: 'Podman watcher', dispose: (w) => w.stop() });

/**
 * Subscribes to the socket's watcher, starting it when it is the first
 * subscriber. A subscriber that joins a synced watcher gets onSync at once.
 * Resolve the returned function to unsubscribe; the last one out stops it.
 */
export async function watchPodman(app: App, socketPath: string, sub: PodmanSubscriber): Promise<() => Promise<void>> {
  const share = await watchers.use(app, socketPath, () => new PodmanWatcher(socketPath));
  share.value.add(sub);
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    share.value.remove(sub);
    await share.release();
  };
}

class PodmanWatcher {
  private readonly libpod: Libpod;
  private readonly stopping = new AbortController();
  private readonly subs = new Set<PodmanSubscriber>();
  /** The containers on their networks (running or paused), as of the last listing plus the events since; undefined before the first listing. */
  private containers: Map<string, ContainerInspect> | undefined;
  private loop: Promise<void> | undefined;
  /** Events and rescans, one at a time, so a rescan never races an event about the same container. */
  private queue: Promise<void> = Promise.resolve();
  /** Rescans so far: every ADDRESS_RESCANS-th compares addresses too. */
  private rescans = 0;

  constructor(socketPath: string) {
    this.libpod = new Libpod(socketPath);
  }

  add(sub: PodmanSubscriber): void {
    this.subs.add(sub);
    if (this.containers) sub.onSync(this.containers);
    this.loop ??= this.run();
  }

  remove(sub: PodmanSubscriber): void {
    this.subs.delete(sub);
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
    const timer = setInterval(() => void this.serially(() => this.rescan(signal)), RESCAN_MS);
    try {
      for await (const ev of events) await this.serially(() => this.apply(ev, signal));
    } finally {
      clearInterval(timer);
    }
  }

  /** Runs `fn` after everything queued before it; its failure is the caller's (a rescan's is retried next time). */
  private serially(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Inspects a known running container; when its HEALTHCHECK status changed, tells the subscribers. */
  private async healthChanged(id: string, signal: AbortSignal): Promise<boolean> {
    const known = this.containers?.get(id);
    if (!known || signal.aborted) return false;
    const c = await this.libpod.inspect(id, signal);
    if (!c?.State.Running || !this.containers!.has(id) || podmanHealthOf(c) === podmanHealthOf(known)) return false;
    this.containers!.set(id, c);
    for (const s of this.subs) s.onEvent(HEALTH_STATUS, id, c);
    return true;
  }

  /** Re-inspects the known containers whose health or networks differ from a fresh listing. */
  private async rescan(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const summary = await this.libpod.runningSummary(signal).catch(() => new Map<string, { health: string; networks: string[] }>());
    const moved: string[] = [];
    for (const [id, { health, networks }] of summary) {
      const known = this.containers?.get(id);
      if (!known) continue;
      if (podmanHealthOf(known) !== undefined && health !== '' && health !== podmanHealthOf(known)) await this.healthChanged(id, signal);
      if (
        networks.join(',') !==
        Object.keys(known.NetworkSettings.Networks ?? {})
          .sort()
          .join(',')
      )
        moved.push(id);
    }
    if (++this.rescans % ADDRESS_RESCANS === 0) {
      for (const item of await this.libpod.runningWithAddresses(signal).catch(() => [])) {
        const known = this.containers?.get(item.Id);
        if (known && !moved.includes(item.Id) && networksKey(item.NetworkSettings.Networks) !== networksKey(known.NetworkSettings.Networks))
          moved.push(item.Id);
      }
    }
    for (const id of moved) {
      const known = this.containers?.get(id);
      const c = await this.libpod.inspect(id, signal).catch(() => undefined);
      // Gone or stopped meanwhile: its own event says so.
      if (!known || !c?.State.Running || !this.containers!.has(id)) continue;
      if (networksKey(c.NetworkSettings.Networks) === networksKey(known.NetworkSettings.Networks)) continue;
      this.containers!.set(id, c);
      for (const s of this.subs) s.onEvent(NETWORKS_CHANGED, id, c);
    }
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
    } else if (ev.Action === HEALTH_STATUS) {
      if (!(await this.healthChanged(id, signal))) {
        const onAbort = (): void => clearTimeout(confirm);
        const confirm = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          this.serially(() => this.healthChanged(id, signal).then(() => {})).catch(() => {});
        }, HEALTH_CONFIRM_MS);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      return;
    } else if (ev.Action === 'pause') {
      // Still on its networks (aardvark keeps its names), but not running, as inspect would now say.
      const known = this.containers!.get(id);
      if (known) this.containers!.set(id, { ...known, State: { ...known.State, Running: false } });
    }
    for (const s of this.subs) s.onEvent(ev.Action, id, c);
  }
}

/** A container's networks and addresses, comparable between the compatible list and an inspection. */
function networksKey(nets: Record<string, { IPAddress: string; GlobalIPv6Address: string }> | null): string {
  return Object.entries(nets ?? {})
    .map(([name, n]) => `${name}=${n.IPAddress}/${n.GlobalIPv6Address}`)
    .sort()
    .join(',');
}
