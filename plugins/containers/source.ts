// Keeps the name index in step with Podman through the shared watcher
// (src/sources/podman/watcher.ts). Paused containers keep their names, as
// they keep their aardvark entries; stopped and removed ones lose them.

import type { Logger } from '../../src/log.js';
import { Libpod, type ContainerInspect } from '../../src/sources/podman/libpod.js';
import { STARTED, STOPPED } from '../../src/sources/podman/events.js';
import type { PodmanSubscriber } from '../../src/sources/podman/watcher.js';
import { buildIndex, clientOf, clientsOf, type Client, type NameIndex } from './names.js';

/** How long an address found in no container stays "not a container" before it is looked up again. */
const NOT_A_CONTAINER_MS = 2000;

export class ContainerNames implements PodmanSubscriber {
  /** True once the first listing has been applied. */
  synced = false;
  index: NameIndex = buildIndex([]);
  private containers = new Map<string, ContainerInspect>();
  /** Addresses a fresh listing did not find, and when. */
  private readonly strangers = new Map<string, number>();
  private listing: Promise<Pick<NameIndex, 'clients' | 'namespaces'>> | undefined;
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
   * as it starts): an address the index does not know is looked up in one
   * fresh listing (shared by concurrent misses), and one found in none is
   * remembered as no container's for a while, so the host and other
   * strangers cost at most one listing per address every NOT_A_CONTAINER_MS.
   */
  identify(address: string): Client | undefined | Promise<Client | undefined> {
    const known = clientOf(this.index, address);
    if (known || !this.synced) return known;
    const seen = this.strangers.get(address);
    if (seen !== undefined && Date.now() - seen < NOT_A_CONTAINER_MS) return undefined;
    this.listing ??= (this.libpod ??= new Libpod(this.socketPath))
      .runningWithAddresses()
      .then(clientsOf)
      .finally(() => (this.listing = undefined));
    return this.listing.then(
      (found) => {
        const c = clientOf(found, address);
        if (c === undefined) this.strangers.set(address, Date.now());
        else this.strangers.delete(address);
        return c;
      },
      (err: Error) => {
        this.log.warn(`podman socket ${this.socketPath}: looking up ${address}: ${err.message}`);
        this.strangers.set(address, Date.now());
        return undefined;
      },
    );
  }

  async close(): Promise<void> {
    await this.libpod?.close();
  }

  onLost(err: Error, retryMs: number): void {
    this.log.warn(`podman socket ${this.socketPath}: ${err.message}; keeping ${this.containers.size} known container(s), retrying in ${retryMs / 1000}s`);
  }
}
