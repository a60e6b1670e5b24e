// Which registry source each endpoint came from. Service views merge every
// source and do not keep it, but they hold the very Endpoint objects the
// sources hold, so one pass over the sources maps objects to source ids. The
// map is rebuilt only when the registry index moved: repeated and blocking
// reads of an unchanged registry cost a lookup each.

import type { Registry } from '../registry/registry.js';
import type { Endpoint } from '../registry/types.js';

export class EndpointSources {
  private bySource = new WeakMap<Endpoint, string>();
  private builtAt = -1;

  constructor(private readonly registry: Registry) {}

  /** The source id (`api`, `file:PATH`, `podman:SOCKET`, `gossip:NODE`, ...), or "" for an object no source holds. */
  of(e: Endpoint): string {
    if (this.builtAt !== this.registry.index) this.rebuild();
    return this.bySource.get(e) ?? '';
  }

  private rebuild(): void {
    const map = new WeakMap<Endpoint, string>();
    for (const id of this.registry.sourceIds()) for (const e of this.registry.snapshot(id).endpoints) map.set(e, id);
    this.bySource = map;
    this.builtAt = this.registry.index;
  }
}
