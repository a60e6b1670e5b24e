// The `etcd [ZONE] { ... }` directive → settings of the etcd registry
// backend. Option names follow CoreDNS's etcd plugin where they mean the
// same (`endpoint`, `path`); the rest are ours.

import { argCount, parseDuration, parseUint, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { CorefileError, type Directive, type Token } from '../../src/corefile/types.js';
import { CLUSTER_ZONE, REGISTRY_TTL } from '../../src/registry/dns.js';

export interface EtcdSettings {
  /** Client URLs of the etcd members, `http://host:port`. */
  endpoints: string[];
  /** The zone whose SkyDNS tree holds the endpoints (no trailing dot). */
  zone: string;
  /** SkyDNS root, CoreDNS's `path`. */
  path: string;
  /** Where service definitions live (not a SkyDNS tree). */
  servicesPath: string;
  leaseTtlSeconds: number;
  /** The `ttl` written beside each endpoint for CoreDNS. */
  ttl: number;
  dialTimeoutMs: number;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';
export const DEFAULT_LEASE_TTL_S = 10;
/** etcd refuses leases shorter than its minimum TTL (2 s with the default election timeout); a shorter request would be raised silently. */
const MIN_LEASE_TTL_S = 2;
const MAX_LEASE_TTL_S = 3600;
const KEY_PATH = /^\/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$/;

export function parseEtcd(d: Directive): EtcdSettings {
  const [zoneTok] = argCount(d, 0, 1);
  const s: EtcdSettings = {
    endpoints: [],
    zone: zoneTok ? parseZone(zoneTok) : CLUSTER_ZONE.slice(0, -1),
    path: '/skydns',
    servicesPath: '/podswarm-dns/services',
    leaseTtlSeconds: DEFAULT_LEASE_TTL_S,
    ttl: REGISTRY_TTL,
    dialTimeoutMs: 5000,
  };
  for (const sub of subdirectives(d)) {
    const name = `etcd: ${sub.name.text}`;
    switch (sub.name.text) {
      case 'endpoint':
        for (const t of argCount(sub, 1, Infinity)) s.endpoints.push(parseEndpoint(t));
        break;
      case 'path':
        s.path = parsePath(argCount(sub, 1)[0]!, name);
        break;
      case 'services_path':
        s.servicesPath = parsePath(argCount(sub, 1)[0]!, name);
        break;
      case 'lease_ttl': {
        const tok = argCount(sub, 1)[0]!;
        const ms = parseDuration(tok, name);
        if (ms % 1000 !== 0 || ms < MIN_LEASE_TTL_S * 1000 || ms > MAX_LEASE_TTL_S * 1000) {
          throw CorefileError.at(tok, `${name}: expected whole seconds from ${MIN_LEASE_TTL_S}s to ${MAX_LEASE_TTL_S / 60}m, got '${tok.text}'`);
        }
        s.leaseTtlSeconds = ms / 1000;
        break;
      }
      case 'ttl':
        s.ttl = parseUint(argCount(sub, 1)[0]!, name, 0, 3600);
        break;
      case 'dial_timeout': {
        const tok = argCount(sub, 1)[0]!;
        s.dialTimeoutMs = parseDuration(tok, name);
        if (s.dialTimeoutMs <= 0) throw CorefileError.at(tok, `${name}: must be longer than 0`);
        break;
      }
      default:
        throw unknownSubdirective(d, sub);
    }
  }
  if (s.endpoints.length === 0) s.endpoints.push(DEFAULT_ENDPOINT);
  if (isUnder(s.servicesPath, s.path) || isUnder(s.path, s.servicesPath)) {
    throw pluginError('etcd', d.name, `services_path ${s.servicesPath} and path ${s.path} must not contain one another (each is watched as a tree of its own)`);
  }
  return s;
}

function parseZone(t: Token): string {
  const zone = t.text.toLowerCase().replace(/\.$/, '');
  if (zone === '' || !zone.split('.').every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) {
    throw pluginError('etcd', t, `zone '${t.text}' is not a domain name (e.g. cluster.local)`);
  }
  return zone;
}

function parseEndpoint(t: Token): string {
  let url: URL;
  try {
    url = new URL(t.text);
  } catch {
    throw pluginError('etcd', t, `endpoint '${t.text}' is not a URL (expected http://HOST:PORT)`);
  }
  if (url.protocol === 'https:') throw pluginError('etcd', t, `endpoint '${t.text}': TLS is not supported yet, use http://`);
  if (url.protocol !== 'http:' || url.port === '' || url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw pluginError('etcd', t, `endpoint '${t.text}' must be http://HOST:PORT`);
  }
  return `http://${url.host}`;
}

function parsePath(t: Token, name: string): string {
  if (!KEY_PATH.test(t.text) || t.text.includes('//'))
    throw CorefileError.at(t, `${name}: '${t.text}' is not a key path like /skydns (starts with /, no trailing /)`);
  return t.text;
}

function isUnder(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`);
}
