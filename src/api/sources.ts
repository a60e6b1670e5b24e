// Which registry source each endpoint of a view came from. Service views
// merge every source and do not carry it; the registry records it when it
// builds a view (src/registry/registry.ts: provenance), renamed copies of
// clashing names included.

import type { Registry } from '../registry/registry.js';
import type { Endpoint } from '../registry/types.js';

export class EndpointSources {
  constructor(private readonly registry: Registry) {}

  /** The source id (`api`, `file:PATH`, `podman:SOCKET`, `gossip:NODE`, ...), or "" for an object in no view. */
  of(e: Endpoint): string {
    return this.registry.provenance(e)?.source ?? '';
  }
}
