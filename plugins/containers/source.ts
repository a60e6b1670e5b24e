// Keeps the name index in step with Podman through the shared watcher
// (src/sources/podman/watcher.ts). Paused containers keep their names, as
// they keep their aardvark entries; stopped and removed ones lose them.

import type { Logger } from '../../src/log.js';
import type { ContainerInspect } from '../../src/sources/podman/libpod.js';
import { STARTED, STOPPED } from '../../src/sources/podman/events.js';
import type { PodmanSubscriber } from '../../src/sources/podman/watcher.js';
import { buildIndex, type NameIndex } from './names.js';

export class ContainerNames implements PodmanSubscriber {
  /** True once the first listing has been applied. */
  synced = false;
  index: NameIndex = buildIndex([]);
  private containers = new Map<string, ContainerInspect>();

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

  onLost(err: Error, retryMs: number): void {
    this.log.warn(`podman socket ${this.socketPath}: ${err.message}; keeping ${this.containers.size} known container(s), retrying in ${retryMs / 1000}s`);
  }
}
