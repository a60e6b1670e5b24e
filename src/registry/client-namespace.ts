// The namespace of a client that is one of this node's own containers, as
// libpod told this node (the podman and kube sources), never as another node
// or a file claims: what the search-path optimisation may rely on.

import { sourceKind } from '../sources/source-id.js';
import type { Registry } from './registry.js';

/** Whether a registry source's entries are libpod's word: this node's podman and kube sources. */
function fromLibpod(source: string | undefined): boolean {
  const kind = source === undefined ? undefined : sourceKind(source);
  return kind === 'podman' || kind === 'kube';
}

/** The one namespace of this node's containers at `address`; undefined when none, or when they disagree. */
export function localNamespace(registry: Registry, address: string, nodeName: string): string | undefined {
  let ns: string | undefined;
  for (const e of registry.byAddress(address)) {
    if (e.nodeName !== nodeName || !fromLibpod(registry.provenance(e)?.source)) continue;
    if (ns !== undefined && ns !== e.namespace) return undefined;
    ns = e.namespace;
  }
  return ns;
}
