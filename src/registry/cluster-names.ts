// What a name under a cluster zone refers to. Shared by the cluster and srv
// plugins, so it lives in the core (neither imports the other).
//
//   <zone>                               apex
//   svc.<zone>                           the parent of every <ns>.svc.<zone> (no zone cut)
//   <ns>.<zone>, <ns>.svc.<zone>         namespace
//   <svc>.<ns>[.svc].<zone>              service
//   <ep>.<svc>.<ns>[.svc].<zone>         one endpoint
//   _<proto>.<svc>.<ns>[.svc].<zone>     the parent of the named ports of that protocol
//   _<port>._<proto>.<svc>.<ns>[.svc].<zone>  a named port (SRV)
//
// A trailing `svc` label is the Kubernetes form; a namespace called "svc"
// is therefore not addressable in the short form.

import { serviceFqdn } from './dns.js';

export type ClusterName =
  | { kind: 'apex' }
  | { kind: 'svc' }
  | { kind: 'namespace'; ns: string }
  | { kind: 'service'; ns: string; svc: string }
  | { kind: 'endpoint'; ns: string; svc: string; endpoint: string }
  | { kind: 'proto'; ns: string; svc: string; proto: string }
  | { kind: 'port'; ns: string; svc: string; port: string; proto: string }
  | { kind: 'none' };

/** Classifies `qname` (lowercased FQDN) under `zone` (lowercased FQDN, qname inside it). */
export function parseClusterName(qname: string, zone: string): ClusterName {
  if (qname === zone) return { kind: 'apex' };
  const rel = zone === '.' ? qname.slice(0, -1) : qname.slice(0, qname.length - zone.length - 1);
  const labels = rel.split('.');
  if (labels.length === 1 && labels[0] === 'svc') return { kind: 'svc' };
  if (labels[labels.length - 1] === 'svc') labels.pop();
  switch (labels.length) {
    case 0:
      return { kind: 'apex' };
    case 1:
      return { kind: 'namespace', ns: labels[0]! };
    case 2:
      return { kind: 'service', svc: labels[0]!, ns: labels[1]! };
    case 3: {
      const [first, svc, ns] = labels as [string, string, string];
      if (!first.startsWith('_')) return { kind: 'endpoint', endpoint: first, svc, ns };
      return first.length < 2 ? { kind: 'none' } : { kind: 'proto', proto: first.slice(1), svc, ns };
    }
    case 4: {
      const [port, proto, svc, ns] = labels as [string, string, string, string];
      if (port.length < 2 || proto.length < 2 || !port.startsWith('_') || !proto.startsWith('_')) return { kind: 'none' };
      return { kind: 'port', port: port.slice(1), proto: proto.slice(1), svc, ns };
    }
    default:
      return { kind: 'none' };
  }
}

/** The canonical (Kubernetes-form) name of an endpoint, used as SRV and PTR target. */
export function endpointFqdn(endpoint: string, svc: string, ns: string, zone: string): string {
  return `${endpoint}.${serviceFqdn(svc, ns, zone)}`;
}
