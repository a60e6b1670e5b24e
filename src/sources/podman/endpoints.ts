// A container (as libpod inspects it) → the registry endpoints it provides:
// one per address on each selected network.

import { canonicalAddress, dashedAddress, dnsSafe, isDnsLabel } from '../../registry/names.js';
import { served } from '../../healthcheck/served.js';
import type { Endpoint } from '../../registry/types.js';
import { podmanHealthOf } from './health.js';
import type { ServiceLabels } from './labels.js';
import type { ContainerInspect, NetworkAttachment } from './libpod.js';

/** An attachment's addresses (IPv4, then IPv6), canonical; none for host or none networking. */
export function attachmentAddresses(a: Pick<NetworkAttachment, 'IPAddress' | 'GlobalIPv6Address'>): string[] {
  return [a.IPAddress, a.GlobalIPv6Address].map((raw) => (raw ? canonicalAddress(raw) : undefined)).filter((x): x is string => x !== undefined);
}

/**
 * `networks` empty means every network. A container on one address is named
 * after the container; with several, names must differ, so each is the dashed address.
 */
export function containerEndpoints(c: ContainerInspect, labels: ServiceLabels, networks: readonly string[], nodeName: string): Endpoint[] {
  const addresses: string[] = [];
  for (const [net, settings] of Object.entries(c.NetworkSettings.Networks ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (networks.length > 0 && !networks.includes(net)) continue;
    for (const a of attachmentAddresses(settings)) if (!addresses.includes(a)) addresses.push(a);
  }
  const base = dnsName(c.Name);
  const now = Date.now();
  const podmanHealth = podmanHealthOf(c);
  const declared = { ...(labels.healthCheck && { healthCheck: labels.healthCheck }), ...(podmanHealth && { podmanHealth }) };
  return addresses.map((address) => ({
    namespace: labels.namespace,
    service: labels.service,
    name: addresses.length === 1 && base !== undefined ? base : dashedAddress(address),
    nodeName,
    address,
    ports: labels.ports,
    ...(labels.weight !== undefined && { weight: labels.weight }),
    // A podswarm check's verdict is the checker's to add; until then its rule says not served.
    healthy: served(declared, undefined),
    ...declared,
    updatedAt: now,
  }));
}

/** Podman names allow `_`, `.` and capitals; DNS labels do not. */
function dnsName(name: string): string | undefined {
  const s = dnsSafe(name).slice(0, 63).replace(/-+$/, '');
  return isDnsLabel(s) ? s : undefined;
}
