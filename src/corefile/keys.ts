// Server block keys: `[dns://]ZONE[:PORT]`, where ZONE may be a CIDR that
// stands for its reverse zones (CoreDNS plugin/normalize.go SplitHostPort).

import { CorefileError, type ServerBlock, type ServerKey, type Token } from './types.js';
import { ipBytes } from '../dns/address.js';
import { reverseZones } from './reverse.js';
import { where } from './where.js';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

export function parseServerKey(tok: Token): ServerKey {
  let rest = tok.text;
  const scheme = SCHEME.exec(rest);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'dns') {
      throw CorefileError.at(tok, `scheme ${scheme[1]}:// is not supported (only dns://): ${tok.text}`);
    }
    rest = rest.slice(scheme[0].length);
  }

  // The port follows the last colon, except in a bare IPv6 CIDR, whose colons are the address's.
  let host = rest;
  let port: number | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !isCidr(rest)) {
    const portText = rest.slice(colon + 1);
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw CorefileError.at(tok, `invalid port "${portText}" in key ${tok.text}`);
    }
    port = Number(portText);
    host = rest.slice(0, colon);
  }
  return { token: tok, scheme: 'dns', zones: hostZones(tok, host), port };
}

function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  return slash > 0 && ipBytes(s.slice(0, slash)) !== undefined && /^\d+$/.test(s.slice(slash + 1));
}

function hostZones(tok: Token, host: string): string[] {
  const slash = host.indexOf('/');
  const bytes = slash > 0 ? ipBytes(host.slice(0, slash)) : undefined;
  if (bytes) {
    const prefixText = host.slice(slash + 1);
    const bits = bytes.length * 8;
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      throw CorefileError.at(tok, `invalid CIDR prefix "/${prefixText}" in key ${tok.text} (expected 0-${bits})`);
    }
    return reverseZones(bytes, Number(prefixText));
  }
  return [normalizeZone(tok, host)];
}

/** Lowercased and fully qualified; `.` stays `.`. */
function normalizeZone(tok: Token, host: string): string {
  if (host === '.') return '.';
  const name = host.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name === '' || name.length > 253 || labels.some((l) => l === '' || l.length > 63 || /[\s:{}]/.test(l))) {
    throw CorefileError.at(tok, `invalid zone "${host}" in key ${tok.text}`);
  }
  return `${name}.`;
}

/**
 * Throws if two keys (in one block or across blocks) serve the same zone on
 * the same port; `defaultPort` stands in for keys without one (CLI -dns.port).
 */
export function checkDuplicateKeys(blocks: readonly ServerBlock[], defaultPort: number): void {
  const seen = new Map<string, Token>();
  for (const block of blocks) {
    for (const key of block.keys) {
      for (const zone of key.zones) {
        const id = `${zone}:${key.port ?? defaultPort}`;
        const first = seen.get(id);
        if (first) throw CorefileError.at(key.token, `zone ${id} is defined more than once (first at ${where(first, key.token)})`);
        seen.set(id, key.token);
      }
    }
  }
}
