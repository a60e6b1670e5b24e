// The names aardvark-dns serves, built from libpod's inspections: on each
// network a container's name and its aliases (Podman 4 lists the short id
// among them) stand for its address on that network. Lookups are scoped as
// aardvark scopes them: by the networks of the container asking.

import { isIPv4 } from 'node:net';
import { canonicalAddress } from '../../src/registry/names.js';
import type { ContainerInspect } from '../../src/sources/podman/libpod.js';

export interface NameIndex {
  /** Every address of a container → every network that container is on (aardvark's ip_mappings). */
  clients: Map<string, string[]>;
  /** Network → lowercased name → the addresses on that network. */
  names: Map<string, Map<string, string[]>>;
  /** Network → address → the names, as Podman spells them, container name first. */
  reverse: Map<string, Map<string, string[]>>;
}

export function buildIndex(containers: Iterable<ContainerInspect>): NameIndex {
  const idx: NameIndex = { clients: new Map(), names: new Map(), reverse: new Map() };
  for (const c of containers) {
    const nets = Object.entries(c.NetworkSettings.Networks ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const own: string[] = [];
    const memberOf: string[] = [];
    for (const [net, a] of nets) {
      const addrs = [a.IPAddress, a.GlobalIPv6Address].map((raw) => (raw ? canonicalAddress(raw) : undefined)).filter((x): x is string => x !== undefined);
      // host or none networking: no address, so nothing to serve and no one to answer.
      if (addrs.length === 0) continue;
      memberOf.push(net);
      own.push(...addrs);
      const names = unique([c.Name, ...(a.Aliases ?? [])].filter((n) => n !== ''));
      const byName = getOrSet(idx.names, net);
      for (const n of names) getOrSet(byName, n.toLowerCase(), () => []).push(...addrs);
      const byAddr = getOrSet(idx.reverse, net);
      for (const ip of addrs) byAddr.set(ip, names);
    }
    for (const ip of own) idx.clients.set(ip, memberOf);
  }
  return idx;
}

/**
 * The addresses `qname` (lowercased FQDN) has for a client on `nets`: the
 * name as asked, else without the `domain` suffix (aardvark strips its
 * search domain the same way). Only addresses on the client's networks.
 */
export function addressesFor(idx: NameIndex, nets: readonly string[], qname: string, domain: string): string[] {
  const name = qname.slice(0, -1);
  const found = collect(idx, nets, name);
  if (found.length > 0 || !name.endsWith(`.${domain}`)) return found;
  return collect(idx, nets, name.slice(0, -domain.length - 1));
}

/** Names for `ip` on the first of the client's networks that has it (aardvark's reverse_lookup). */
export function namesFor(idx: NameIndex, nets: readonly string[], ip: string): readonly string[] {
  for (const net of nets) {
    const names = idx.reverse.get(net)?.get(ip);
    if (names) return names;
  }
  return [];
}

export const v4 = (ips: readonly string[]): string[] => ips.filter((ip) => isIPv4(ip));
export const v6 = (ips: readonly string[]): string[] => ips.filter((ip) => !isIPv4(ip));

function collect(idx: NameIndex, nets: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (const net of nets) for (const ip of idx.names.get(net)?.get(name) ?? []) if (!out.includes(ip)) out.push(ip);
  return out;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function getOrSet<K, V>(m: Map<K, V>, k: K, make: () => V = () => new Map() as V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}
