// /etc/hosts format (hosts(5)): `IP NAME [ALIASES...]`, `#` comments. Names
// are kept only inside the plugin's zones; `*.name` matches one extra label.

import { isIPv4 } from 'node:net';
import { matchZone } from '../../src/chain/plugin.js';
import { canonicalAddress } from '../../src/registry/names.js';
import { plainAddress } from '../../src/dns/address.js';

export interface HostsMap {
  /** Lowercased FQDN → IPv4 / IPv6 addresses, in file order. */
  v4: Map<string, string[]>;
  v6: Map<string, string[]>;
  /** `*.zone.` patterns → addresses. */
  wild4: Map<string, string[]>;
  wild6: Map<string, string[]>;
  /** Canonical address → names, for PTR (empty with no_reverse). */
  byAddress: Map<string, string[]>;
}

export function emptyHosts(): HostsMap {
  return { v4: new Map(), v6: new Map(), wild4: new Map(), wild6: new Map(), byAddress: new Map() };
}

export function parseHosts(text: string, zones: readonly string[], reverse: boolean): HostsMap {
  const m = emptyHosts();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/);
    if (fields.length < 2) continue;
    const ip = canonicalAddress(plainAddress(fields[0]!));
    if (ip === undefined) continue;
    const v4 = isIPv4(ip);
    for (const field of fields.slice(1)) {
      const name = normalize(field);
      if (matchZone(name, zones) === undefined) continue;
      if (name.startsWith('*.')) {
        push(v4 ? m.wild4 : m.wild6, name, ip);
        continue;
      }
      push(v4 ? m.v4 : m.v6, name, ip);
      if (reverse) push(m.byAddress, ip, name);
    }
  }
  return m;
}

/** Addresses of `qname` in one map: an exact entry first, else a one-label wildcard. */
export function lookup(names: Map<string, string[]>, wild: Map<string, string[]>, qname: string): readonly string[] {
  const exact = names.get(qname);
  if (exact) return exact;
  const dot = qname.indexOf('.');
  if (dot < 0 || dot === qname.length - 1) return [];
  return wild.get(`*${qname.slice(dot)}`) ?? [];
}

export function entryCount(m: HostsMap): number {
  let n = 0;
  for (const map of [m.v4, m.v6, m.wild4, m.wild6, m.byAddress]) for (const v of map.values()) n += v.length;
  return n;
}

function normalize(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}
