// Which registry source entries come from: a kind, and for every kind but
// the API (there is one) a detail naming the one source of that kind. The
// registry keys its sources by `sourceKey`, and that key is what the API's
// `source` field, `podswarm-dns lookup` and the operator log show, so its
// spelling is part of the interface: `api`, `file:PATH`, `podman:SOCKET`,
// `kube:PATH,...`, `gossip:NODE`, `etcd:NODE`. Nothing else builds a key or
// reads one's prefix (test/structure.test.ts).

export type SourceId =
  /** Registrations made through the HTTP API. */
  | { readonly kind: 'api' }
  /** A `cluster { registry FILE }` file: the detail is its absolute path. */
  | { readonly kind: 'file'; readonly detail: string }
  /** This node's labelled Podman containers: the detail is the libpod socket. */
  | { readonly kind: 'podman'; readonly detail: string }
  /** The kube YAML this node plays: the detail is its paths, comma-separated. */
  | { readonly kind: 'kube'; readonly detail: string }
  /** Another node's entries as gossip replicated them: the detail is the owner node. */
  | { readonly kind: 'gossip'; readonly detail: string }
  /** Another node's entries as read from etcd: the detail is the owner node. */
  | { readonly kind: 'etcd'; readonly detail: string };

export type SourceKind = SourceId['kind'];

/**
 * Per kind, whether its entries are this node's own (registered here, so
 * published to the other nodes) rather than another node's replicated here.
 */
const OWN: Readonly<Record<SourceKind, boolean>> = { api: true, file: true, podman: true, kube: true, gossip: false, etcd: false };

/** The registry's key for a source. */
export function sourceKey(id: SourceId): string {
  return id.kind === 'api' ? id.kind : `${id.kind}:${id.detail}`;
}

/** The kind of source a registry key was made for; undefined for a key `sourceKey` does not make. */
export function sourceKind(key: string): SourceKind | undefined {
  const colon = key.indexOf(':');
  const kind = colon < 0 ? key : key.slice(0, colon);
  if (!Object.hasOwn(OWN, kind) || (kind === 'api') !== colon < 0) return undefined;
  return kind as SourceKind;
}

/**
 * True when the entries under `key` are this node's own, false when another
 * node owns them. A key no source makes counts as this node's: only the
 * replication backends' keys are someone else's.
 */
export function isOwnSource(key: string): boolean {
  const kind = sourceKind(key);
  return kind === undefined || OWN[kind];
}
