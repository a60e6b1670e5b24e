// Checks replicated registry entries before they touch the registry. Gossip
// input is untrusted: any member (or anyone holding the key) can send any
// bytes, and before this one entry the registry could not take (ports not a
// list, say) stored in a node's state broke every later refresh of that
// owner. Each entry is judged on its own, so a bad one costs only itself;
// what passes is all the replicator ever stores, serves or passes on.
import { canonicalAddress, canonicalHostName, isDnsLabel } from '../registry/names.js';
import { quote } from '../gossip/quote.js';

/** Whole replication payload (a push/pull carries every owner): below memberlist's 20 MB stream limit. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** One entry's JSON: an endpoint with a few ports is about 250 bytes. */
export const MAX_ENTRY_BYTES = 8 * 1024;
/** Entries (tombstones included) one owner may have; a Podman node with this many containers is far past its limits. */
export const MAX_ENTRIES_PER_OWNER = 65_536;
/** Owners one payload may name. */
export const MAX_OWNERS = 4096;
/** Node names: serf's ValidateNodeNames allows 128 bytes. */
export const MAX_OWNER_BYTES = 128;
export const MAX_PORTS = 64;
/**
 * Versions are the owner's wall clock in ms. One further ahead of ours than
 * this would block the owner's real updates until our clock caught up (the
 * newest version wins), so it is taken as forged, not as clock skew.
 */
export const MAX_FUTURE_MS = 60 * 60 * 1000;

export const START_KEY = '@start';
export const SYNCED_KEY = '@synced';

export type RejectReason = 'format' | 'oversized' | 'owner' | 'key' | 'version' | 'name' | 'address' | 'port' | 'value' | 'size' | 'count';

export interface Rejection {
  reason: RejectReason;
  owner?: string;
  key?: string;
  detail: string;
}

/** A checked entry: [version, value or null for a tombstone, synced count (only on @synced)]. */
export type Entry = [number, unknown] | [number, null, number];

export interface CheckedEntry {
  owner: string;
  key: string;
  entry: Entry;
}

export interface CheckedPayload {
  entries: CheckedEntry[];
  rejected: Rejection[];
}

/** First byte of a replication message: what follows. */
export const FORMAT_ENTRIES = 1;
export const FORMAT_DIGEST = 2;
export const FORMAT_SUM = 3;

class Bad extends Error {
  constructor(
    readonly reason: RejectReason,
    detail: string,
  ) {
    super(detail);
  }
}

/** Decodes and checks one replication payload (format byte + JSON); never throws. */
export function checkPayload(buf: Buffer, now = Date.now()): CheckedPayload {
  const entries: CheckedEntry[] = [];
  const rejected: Rejection[] = [];
  if (buf.length > MAX_PAYLOAD_BYTES)
    return { entries, rejected: [{ reason: 'oversized', detail: `payload of ${buf.length} bytes, limit ${MAX_PAYLOAD_BYTES}` }] };
  if (buf[0] !== FORMAT_ENTRIES) return { entries, rejected: [{ reason: 'format', detail: `unknown replication format ${buf[0]}` }] };
  let state: unknown;
  try {
    state = JSON.parse(buf.subarray(1).toString('utf8'));
  } catch (err) {
    return { entries, rejected: [{ reason: 'format', detail: `not JSON: ${(err as Error).message}` }] };
  }
  if (!isObject(state)) return { entries, rejected: [{ reason: 'format', detail: 'payload is not an object' }] };
  let owners = 0;
  for (const [owner, list] of Object.entries(state)) {
    if (++owners > MAX_OWNERS) {
      rejected.push({ reason: 'count', owner, detail: `more than ${MAX_OWNERS} owners in one payload` });
      break;
    }
    if (!isOwnerName(owner)) {
      rejected.push({ reason: 'owner', owner: printable(owner), detail: 'not a node name (1-128 bytes, no control characters)' });
      continue;
    }
    if (!isObject(list)) {
      rejected.push({ reason: 'format', owner, detail: 'entries are not an object' });
      continue;
    }
    let n = 0;
    for (const [key, raw] of Object.entries(list)) {
      if (++n > MAX_ENTRIES_PER_OWNER) {
        rejected.push({ reason: 'count', owner, detail: `more than ${MAX_ENTRIES_PER_OWNER} entries` });
        break;
      }
      try {
        entries.push({ owner, key, entry: checkEntry(key, raw, now) });
      } catch (err) {
        const e = err as Bad;
        rejected.push({ reason: e.reason ?? 'value', owner, key: printable(key), detail: e.message });
      }
    }
  }
  return { entries, rejected };
}

/**
 * One registry value checked on its own, as every replicated entry is, for
 * a backend that keeps entries elsewhere (etcd): undefined when it passes.
 */
export function checkValue(owner: string, key: string, value: unknown, now = Date.now()): Rejection | undefined {
  if (!isOwnerName(owner)) return { reason: 'owner', owner: printable(owner), detail: 'not a node name (1-128 bytes, no control characters)' };
  try {
    checkEntry(key, [1, value], now);
    return undefined;
  } catch (err) {
    const e = err as Bad;
    return { reason: e.reason ?? 'value', owner, key: printable(key), detail: e.message };
  }
}

/**
 * Each entry's JSON, made once: the same entry goes to every peer, and again
 * in every join push/pull, so sending it is a copy, not a serialisation.
 */
const entryJson = new WeakMap<Entry, string>();

/** An entries payload (`{owner: {key: entry}}`), grouped by owner. */
export function encodeEntries(entries: Iterable<CheckedEntry>): Buffer {
  const byOwner = new Map<string, string[]>();
  for (const { owner, key, entry } of entries) {
    let json = entryJson.get(entry);
    if (json === undefined) entryJson.set(entry, (json = JSON.stringify(entry)));
    let list = byOwner.get(owner);
    if (!list) byOwner.set(owner, (list = []));
    list.push(`${JSON.stringify(key)}:${json}`);
  }
  const parts: string[] = [];
  for (const [owner, list] of byOwner) parts.push(`${JSON.stringify(owner)}:{${list.join(',')}}`);
  return Buffer.concat([Buffer.from([FORMAT_ENTRIES]), Buffer.from(`{${parts.join(',')}}`, 'utf8')]);
}

function checkEntry(key: string, raw: unknown, now: number): Entry {
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 3) throw new Bad('format', 'entry is not [version, value]');
  const [version, value] = raw as unknown[];
  if (!Number.isSafeInteger(version) || (version as number) <= 0) throw new Bad('version', `version ${JSON.stringify(version)} is not a positive integer`);
  if ((version as number) > now + MAX_FUTURE_MS) throw new Bad('version', `version ${version} is more than 1h ahead of this node's clock`);
  const v = version as number;
  if (JSON.stringify(raw).length > MAX_ENTRY_BYTES) throw new Bad('size', `entry larger than ${MAX_ENTRY_BYTES} bytes`);
  if (key === START_KEY) {
    if (value !== null || raw.length !== 2) throw new Bad('value', '@start carries no value');
    return [v, null];
  }
  if (key === SYNCED_KEY) {
    const count = raw[2] as unknown;
    if (value !== null || !Number.isSafeInteger(count) || (count as number) < 0 || (count as number) > MAX_ENTRIES_PER_OWNER) {
      throw new Bad('value', '@synced carries [version, null, count]');
    }
    return [v, null, count as number];
  }
  if (raw.length !== 2) throw new Bad('format', 'entry is not [version, value]');
  const m = /^([es]):(.*)$/.exec(key);
  if (!m) throw new Bad('key', 'key is not e:NS/SVC/NAME or s:NS/NAME');
  const parts = m[2]!.split('/');
  if (m[1] === 'e' ? parts.length !== 3 : parts.length !== 2) throw new Bad('key', 'key is not e:NS/SVC/NAME or s:NS/NAME');
  for (const p of parts) if (!isDnsLabel(p)) throw new Bad('name', `"${printable(p)}" in the key is not a DNS label`);
  if (value === null) return [v, null];
  if (!isObject(value)) throw new Bad('value', 'value is not an object');
  if (m[1] === 'e') {
    if (value.kind !== 'endpoint') throw new Bad('value', 'an e: key carries an endpoint');
    checkEndpoint(value.endpoint, parts as [string, string, string]);
  } else {
    if (value.kind !== 'service') throw new Bad('value', 'an s: key carries a service');
    checkService(value.service, parts as [string, string]);
  }
  return [v, value];
}

/**
 * Fields the registry relies on are checked; fields it does not know are
 * kept (bounded by MAX_ENTRY_BYTES), so a newer node's additions still reach
 * the nodes that understand them.
 */
function checkEndpoint(e: unknown, [ns, svc, name]: [string, string, string]): void {
  if (!isObject(e)) throw new Bad('value', 'endpoint is not an object');
  if (e.namespace !== ns || e.service !== svc || e.name !== name) throw new Bad('key', 'endpoint does not match its key');
  if (typeof e.nodeName !== 'string' || !isOwnerName(e.nodeName)) throw new Bad('name', 'nodeName is not a node name');
  if (typeof e.address !== 'string' || canonicalAddress(e.address) !== e.address) {
    throw new Bad('address', `"${printable(String(e.address))}" is not an IP address in canonical form`);
  }
  checkPorts(e.ports);
  if (typeof e.healthy !== 'boolean') throw new Bad('value', 'healthy is not a boolean');
  if (e.weight !== undefined && !(Number.isInteger(e.weight) && (e.weight as number) >= 0 && (e.weight as number) <= 65535))
    throw new Bad('value', 'weight is not 0-65535');
  if (typeof e.updatedAt !== 'number' || !Number.isFinite(e.updatedAt)) throw new Bad('value', 'updatedAt is not a number');
  if (e.healthCheck !== undefined) {
    const h = e.healthCheck;
    if (!isObject(h) || !isPort(h.port)) throw new Bad('port', 'healthCheck.port is not a port (1-65535)');
    if (h.httpPath !== undefined && (typeof h.httpPath !== 'string' || !h.httpPath.startsWith('/')))
      throw new Bad('value', 'healthCheck.httpPath is not a path');
  }
}

function checkService(s: unknown, [ns, name]: [string, string]): void {
  if (!isObject(s)) throw new Bad('value', 'service is not an object');
  if (s.namespace !== ns || s.name !== name) throw new Bad('key', 'service does not match its key');
  checkPorts(s.ports);
  if (s.externalName !== undefined && (typeof s.externalName !== 'string' || canonicalHostName(s.externalName) !== s.externalName)) {
    throw new Bad('name', 'externalName is not a host name in canonical form');
  }
}

function checkPorts(ports: unknown): void {
  if (!Array.isArray(ports)) throw new Bad('port', 'ports is not a list');
  if (ports.length > MAX_PORTS) throw new Bad('count', `more than ${MAX_PORTS} ports`);
  for (const p of ports as unknown[]) {
    if (!isObject(p) || typeof p.name !== 'string' || !isDnsLabel(p.name)) throw new Bad('name', 'a port name is not a DNS label');
    if (!isPort(p.port)) throw new Bad('port', `port ${JSON.stringify(isObject(p) ? p.port : p)} is not in 1-65535`);
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw new Bad('value', 'a port protocol is not tcp or udp');
  }
}

function isPort(p: unknown): boolean {
  return Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

// memberlist takes any string; we refuse what cannot be printed in a log line or is too long to be a host name.
export function isOwnerName(s: string): boolean {
  // control characters are exactly what this refuses
  // eslint-disable-next-line no-control-regex
  return s.length > 0 && Buffer.byteLength(s) <= MAX_OWNER_BYTES && !/[\u0000-\u001f\u007f]/.test(s);
}

/** For log lines: escaped as every peer text is (quote.ts), without the quotes, cut to 64 characters. */
function printable(s: string): string {
  const t = quote(s).slice(1, -1);
  return t.length > 64 ? `${t.slice(0, 64)}...` : t;
}
