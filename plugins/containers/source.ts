// Keeps the name index in step with Podman through the shared watcher
// (src/sources/podman/watcher.ts). Paused containers keep their names, as
// they keep their aardvark entries; stopped and removed ones lose them.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../src/log.js';
import { Libpod, type ContainerInspect } from '../../src/sources/podman/libpod.js';
import { STARTED, STOPPED } from '../../src/sources/podman/events.js';
import type { PodmanSubscriber } from '../../src/sources/podman/watcher.js';
import { buildIndex, clientOf, indexOfList, type Client, type NameIndex } from './names.js';

/** How long an address (or a name) found in no container stays unknown before it is looked up again. */
const NOT_A_CONTAINER_MS = 2000;
/** The least time between two fresh listings. */
const MIN_LISTING_GAP_MS = 250;

export class ContainerNames implements PodmanSubscriber {
  /** True once the first listing has been applied. */
  synced = false;
  index: NameIndex = buildIndex([]);
  private containers = new Map<string, ContainerInspect>();
  /** Addresses a fresh listing did not find, and when. */
  private readonly strangers = new Map<string, number>();
  /** Names a fresh listing did not find, and when (a name flood costs one listing per name and interval). */
  private readonly unknownNames = new Map<string, number>();
  /** The next or running listing, and when it starts. */
  private pending: { start: number; listing: Promise<NameIndex | undefined> } | undefined;
  private lastListing = 0;
  private libpod: Libpod | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly log: Logger,
  ) {}

  onSync(containers: ReadonlyMap<string, ContainerInspect>): void {
    this.containers = new Map(containers);
    this.index = buildIndex(this.containers.values());
    this.synced = true;
    this.log.info(`synced ${this.containers.size} container(s) from ${this.socketPath}`);
  }

  onEvent(action: string, id: string, c: ContainerInspect | undefined): void {
    if (c?.State.Running) this.containers.set(id, c);
    // A stop, or a start whose container was gone or stopped by the time it was inspected; other events change no names.
    else if (!(STOPPED.has(action) || STARTED.has(action)) || !this.containers.delete(id)) return;
    // Rebuilt whole: a node runs tens of containers, and events are rare next to queries.
    this.index = buildIndex(this.containers.values());
  }

  /**
   * The container asking from `address`. A container's first queries may
   * come before its start event has reached us (a client resolving a name
   * as it starts): an address the index does not know is looked up in a
   * fresh listing, and one found in none is remembered as no container's for
   * a while, so the host and other strangers cost at most one listing per
   * address every NOT_A_CONTAINER_MS.
   */
  identify(address: string): Client | undefined | Promise<Client | undefined> {
    const known = clientOf(this.index, address);
    if (known || !this.synced) return known;
    const seen = this.strangers.get(address);
    if (seen !== undefined && Date.now() - seen < NOT_A_CONTAINER_MS) return undefined;
    return this.fresh().then((idx) => {
      const c = idx && clientOf(idx, address);
      if (this.strangers.size > 10_000) this.strangers.clear();
      if (c === undefined) this.strangers.set(address, Date.now());
      else this.strangers.delete(address);
      return c;
    });
  }

  /** False while `qname` missed in a fresh listing less than NOT_A_CONTAINER_MS ago. */
  worthListing(qname: string): boolean {
    const at = this.unknownNames.get(qname);
    return at === undefined || Date.now() - at >= NOT_A_CONTAINER_MS;
  }

  /** `qname` is in no container, as of a fresh listing. */
  missed(qname: string): void {
    if (this.unknownNames.size > 10_000) this.unknownNames.clear();
    this.unknownNames.set(qname, Date.now());
  }

  /**
   * The index from a fresh listing, for a name the events have not brought
   * yet (a container started a moment ago: its start event can lag the
   * start). The listing always starts after the call, so it sees every
   * container that ran when the query came; callers share it, and one starts
   * at most every MIN_LISTING_GAP_MS, so a flood of unknown names costs
   * Podman at most that many listings (and a miss that long at most). Undefined when Podman fails.
   */
  fresh(): Promise<NameIndex | undefined> {
    const asked = Date.now();
    if (this.pending && this.pending.start >= asked) return this.pending.listing;
    const start = Math.max(asked, this.lastListing + MIN_LISTING_GAP_MS);
    this.lastListing = start;
    const listing = sleep(start - asked)
      .then(() => (this.libpod ??= new Libpod(this.socketPath)).runningWithAddresses())
      .then(indexOfList)
      .catch((err: Error) => {
        this.log.warn(`podman socket ${this.socketPath}: listing containers: ${err.message}`);
        return undefined;
      })
      .finally(() => {
        if (this.pending?.listing === listing) this.pending = undefined;
      });
    this.pending = { start, listing };
    return listing;
  }

  async close(): Promise<void> {
    await this.libpod?.close();
  }

  onLost(err: Error, retryMs: number): void {
    this.log.warn(`podman socket ${this.socketPath}: ${err.message}; keeping ${this.containers.size} known container(s), retrying in ${retryMs / 1000}s`);
  }
}
