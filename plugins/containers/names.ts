// The names aardvark-dns serves, built from libpod's inspections: on each
// network a container's name and its aliases (Podman 4 lists the short id
// among them) stand for its address on that network. Lookups are scoped as
// aardvark scopes them: by the networks of the container asking.

import { isIPv4 } from 'node:net';
import { isDnsLabel } from '../../src/registry/names.js';
import { attachmentAddresses } from '../../src/sources/podman/endpoints.js';
import { LABEL_NAMESPACE, LABEL_SERVICE } from '../../src/sources/podman/labels.js';
import type { ContainerAddresses, ContainerInspect } from '../../src/sources/podman/libpod.js';

export interface NameIndex {
  /** Every address of a container → every network that container is on (aardvark's ip_mappings). */
  clients: Map<string, string[]>;
  /** Network → lowercased name → the addresses on that network. */
  names: Map<string, Map<string, string[]>>;
  /** Network → address → the names, as Podman spells them, container name first. */
  reverse: Map<string, Map<string, string[]>>;
  /** Address → the registry namespace its container is in (its podswarm labels), for short names. */
  namespaces: Map<string, string>;
}

export function buildIndex(containers: Iterable<ContainerInspect>): NameIndex {
  const idx: NameIndex = { clients: new Map(), names: new Map(), reverse: new Map(), namespaces: new Map() };
  for (const c of containers) {
    for (const [net, a, addrs] of attachments(c.NetworkSettings.Networks)) {
      const names = unique([c.Name, ...(a.Aliases ?? [])].filter((n) => n !== ''));
      const byName = getOrSet(idx.names, net);
      for (const n of names) getOrSet(byName, n.toLowerCase(), () => []).push(...addrs);
      const byAddr = getOrSet(idx.reverse, net);
      for (const ip of addrs) byAddr.set(ip, names);
    }
    addClient(idx, c.Config.Labels, c.NetworkSettings.Networks);
  }
  return idx;
}

/** Who asks: the networks of the container at an address, and its registry namespace if it has one. */
export interface Client {
  nets: readonly string[];
  namespace: string | undefined;
}

export function clientOf(idx: Pick<NameIndex, 'clients' | 'namespaces'>, address: string): Client | undefined {
  const nets = idx.clients.get(address);
  return nets === undefined ? undefined : { nets, namespace: idx.namespaces.get(address) };
}

/** The whole index from one compatible container list: for containers that started a moment ago. */
export function indexOfList(list: readonly ContainerAddresses[]): NameIndex {
  return buildIndex(
    list.map((c) => ({
      Id: c.Id,
      Name: (c.Names[0] ?? '').replace(/^\//, ''),
      State: { Running: true },
      Config: { Labels: c.Labels },
      NetworkSettings: c.NetworkSettings,
    })),
  );
}

type Networks = Record<string, { IPAddress: string; GlobalIPv6Address: string }> | null;

/** Each network with an address, in name order, with its addresses (host or none networking has none: nothing to serve, no one asking). */
function attachments<A extends { IPAddress: string; GlobalIPv6Address: string }>(networks: Record<string, A> | null): Array<[string, A, string[]]> {
  const out: Array<[string, A, string[]]> = [];
  for (const [net, a] of Object.entries(networks ?? {}).sort(([x], [y]) => x.localeCompare(y))) {
    const addrs = attachmentAddresses(a);
    if (addrs.length > 0) out.push([net, a, addrs]);
  }
  return out;
}

/** Every address of the container → all of its networks (aardvark's ip_mappings), and its namespace. */
function addClient(out: Pick<NameIndex, 'clients' | 'namespaces'>, labels: Record<string, string> | null, networks: Networks): void {
  const list = attachments(networks);
  const memberOf = list.map(([net]) => net);
  const ns = namespaceOf(labels);
  for (const [, , addrs] of list) {
    for (const ip of addrs) {
      out.clients.set(ip, memberOf);
      if (ns !== undefined) out.namespaces.set(ip, ns);
    }
  }
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

/**
 * A service's namespace (podswarm.namespace, `default` without it), or the
 * namespace a client that is no service names for itself with podswarm.namespace alone.
 */
function namespaceOf(labels: Record<string, string> | null): string | undefined {
  const ns = labels?.[LABEL_NAMESPACE] ?? (labels?.[LABEL_SERVICE] !== undefined ? 'default' : undefined);
  return ns !== undefined && isDnsLabel(ns) ? ns : undefined;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function getOrSet<K, V>(m: Map<K, V>, k: K, make: () => V = () => new Map() as V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}
