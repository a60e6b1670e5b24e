// A container (as libpod inspects it) → the registry endpoints it provides:
// one per address on each selected network.

import { canonicalAddress, dashedAddress, isDnsLabel } from '../../registry/names.js';
import { served } from '../../health/served.js';
import type { Endpoint } from '../../registry/types.js';
import { podmanHealthOf } from './health.js';
import type { ServiceLabels } from './labels.js';
import type { ContainerInspect } from './libpod.js';

/**
 * `networks` empty means every network. A container on one address is named
 * after the container; with several, names must differ, so each is the dashed address.
 */
export function containerEndpoints(c: ContainerInspect, labels: ServiceLabels, networks: readonly string[], nodeName: string): Endpoint[] {
  const addresses: string[] = [];
  for (const [net, settings] of Object.entries(c.NetworkSettings.Networks ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (networks.length > 0 && !networks.includes(net)) continue;
    for (const raw of [settings.IPAddress, settings.GlobalIPv6Address]) {
      const a = raw ? canonicalAddress(raw) : undefined;
      if (a !== undefined && !addresses.includes(a)) addresses.push(a);
    }
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
    // A podswarm check's verdict is the checker's to add; until then its rule says not served.
    healthy: served(declared, undefined),
    ...declared,
    updatedAt: now,
  }));
}

/** Podman names allow `_`, `.` and capitals; DNS labels do not. */
function dnsName(name: string): string | undefined {
  const s = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return isDnsLabel(s) ? s : undefined;
}
