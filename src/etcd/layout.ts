// Where this node's registry entries live in etcd, and what a value holds.
//
// Healthy endpoints go in the SkyDNS layout CoreDNS's etcd plugin reads:
// `<path>/<zone labels reversed>/<ns>/<svc>/<name>-<owner>` =
// `{"host","port","ttl","podswarm":{"owner","endpoint"}}`, so a stock
// CoreDNS pointed at the same etcd answers `<svc>.<ns>.<zone>` with the
// same addresses (it reads every key below the name's path and ignores
// fields it does not know). The owner is the node that publishes the entry
// (its endpoints may name another node as their host). The key's last label
// carries the owner as our own clash rule names endpoints
// (unique-names.ts): two nodes may register one name, and one key per
// (name, owner) means neither overwrites the other. Unhealthy endpoints are
// not written at all: nothing would serve them.
//
// Service definitions (their named ports; a service may have no endpoint)
// have no SkyDNS form, and a key CoreDNS reads must be a record, so they
// live under a second prefix: `<services>/<ns>/<svc>/<owner>` =
// `{"podswarm":{"owner","service"}}`.

import type { LocalChange, RegistryValue } from '../registry/local-changes.js';
import { nodeLabel, qualify } from '../registry/unique-names.js';
import type { Endpoint, Service } from '../registry/types.js';
import { checkValue, type Rejection } from '../replication/validate.js';

export interface Layout {
  /** `/skydns/local/cluster/`: the SkyDNS tree of the zone, with the trailing slash. */
  endpointsPrefix: string;
  /** `/podswarm-dns/services/`, with the trailing slash. */
  servicesPrefix: string;
  /** The `ttl` CoreDNS answers with (our registry TTL). */
  ttl: number;
}

/** `/skydns` + `cluster.local` → `/skydns/local/cluster/` (as CoreDNS's msg.Path). */
export function skydnsPrefix(path: string, zone: string): string {
  const labels = zone
    .toLowerCase()
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l !== '');
  return `${path.replace(/\/+$/, '')}/${labels
    .reverse()
    .map((l) => `${l}/`)
    .join('')}`;
}

/** One entry as etcd holds it: the key, and the JSON value. */
export interface EtcdEntry {
  key: string;
  value: string;
}

/** A value read back from etcd: which node owns it and what it is in our registry. */
export interface RemoteEntry {
  owner: string;
  value: RegistryValue;
}

function endpointKey(layout: Layout, ns: string, svc: string, name: string, node: string): string {
  return `${layout.endpointsPrefix}${ns}/${svc}/${qualify(name, nodeLabel(node))}`;
}

function serviceKey(layout: Layout, ns: string, name: string, node: string): string {
  return `${layout.servicesPrefix}${ns}/${name}/${nodeLabel(node)}`;
}

/**
 * What this node writes for one of its registry changes: `put` (absent when
 * the entry is gone or an unhealthy endpoint) and the key it is written at
 * (or would be: the one to delete).
 */
export function localEntry(layout: Layout, node: string, change: LocalChange): { key: string; put?: string } {
  const [kind, path] = [change.key.slice(0, 1), change.key.slice(2)];
  const parts = path.split('/');
  const key = kind === 'e' ? endpointKey(layout, parts[0]!, parts[1]!, parts[2]!, node) : serviceKey(layout, parts[0]!, parts[1]!, node);
  const v = change.value;
  if (v === null || (v.kind === 'endpoint' && !v.endpoint.healthy)) return { key };
  if (v.kind === 'service') return { key, put: JSON.stringify({ podswarm: { owner: node, service: v.service } }) };
  const e = v.endpoint;
  const port = e.ports[0]?.port;
  return { key, put: JSON.stringify({ host: e.address, ...(port === undefined ? {} : { port }), ttl: layout.ttl, podswarm: { owner: node, endpoint: e } }) };
}

/**
 * Reads one key and value from etcd back into a registry entry, checked as
 * gossip checks every replicated entry (validate.ts): etcd is shared, and
 * one bad value must cost only itself. The key must be the one its value
 * would be written at, so a value cannot speak for another name.
 */
export function readEntry(layout: Layout, key: string, raw: string): RemoteEntry | Rejection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { reason: 'format', key, detail: 'value is not JSON' };
  }
  const ours = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).podswarm : undefined;
  if (typeof ours !== 'object' || ours === null) return { reason: 'format', key, detail: 'no podswarm field (not written by podswarm-dns)' };
  const { owner, endpoint, service } = ours as Record<string, unknown>;
  if (typeof owner !== 'string') return { reason: 'owner', key, detail: 'no owning node' };
  let value: RegistryValue;
  let entryKey: string;
  if (key.startsWith(layout.endpointsPrefix)) {
    const e = endpoint as Endpoint;
    if (typeof e !== 'object' || e === null) return { reason: 'format', owner, key, detail: 'no endpoint' };
    if (e.healthy !== true) return { reason: 'value', owner, key, detail: 'an endpoint in the SkyDNS tree is not healthy' };
    value = { kind: 'endpoint', endpoint: e };
    entryKey = `e:${e.namespace}/${e.service}/${e.name}`;
  } else {
    const sv = service as Service;
    if (typeof sv !== 'object' || sv === null) return { reason: 'format', owner, key, detail: 'no service' };
    value = { kind: 'service', service: sv };
    entryKey = `s:${sv.namespace}/${sv.name}`;
  }
  const rejected = checkValue(owner, entryKey, value);
  if (rejected) return { ...rejected, key };
  const expected =
    value.kind === 'endpoint'
      ? endpointKey(layout, value.endpoint.namespace, value.endpoint.service, value.endpoint.name, owner)
      : serviceKey(layout, value.service.namespace, value.service.name, owner);
  if (expected !== key) return { reason: 'key', owner, key, detail: `the value belongs at ${expected}` };
  return { owner, value };
}
