// How the registry is named in DNS by default: the zone and the TTL of the
// cluster and srv plugins, and the canonical (Kubernetes-form) name of a
// service. Here so every plugin that answers from the registry agrees
// without importing another plugin.

export const CLUSTER_ZONE = 'cluster.local.';
/** The seed's TTL for registry answers: short, since endpoints come and go. */
export const REGISTRY_TTL = 60;
/**
 * The TTL of the registry zones' negative answers (NXDOMAIN, NODATA). Short,
 * because a service that does not exist yet may be registered the next
 * moment and downstream caches (nscd, a JVM, systemd-resolved) must not hide
 * it for a minute (coredns#2327, #2294); not 0, which turns every retry of a
 * missing name into a query (consul#4713).
 */
export const NEGATIVE_TTL = 5;

/** `<svc>.<ns>.svc.<zone>` (zone a lowercased FQDN; `.` for the root). */
export function serviceFqdn(svc: string, ns: string, zone: string): string {
  return `${svc}.${ns}.svc.${zone === '.' ? '' : zone}`;
}
