// IP addresses: text → bytes (A/AAAA RDATA, memoised: the registry holds few
// distinct addresses and answers are built from them on every miss), and the
// client address as a socket reports it → a plain IP.

import { isIPv4, isIPv6 } from 'node:net';
import { ownCopy } from '../util/buffers.js';

/** The address as bytes (4 or 16), or undefined when it is not an IP literal. */
export function ipBytes(addr: string): number[] | undefined {
  if (isIPv4(addr)) return addr.split('.').map(Number);
  if (!isIPv6(addr) || addr.includes('%')) return undefined;
  let text = addr;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const before = head ? head.split(':') : [];
  const after = tail ? tail.split(':') : [];
  const groups = [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** The client's IP: zone index dropped, IPv4-mapped IPv6 (dual-stack sockets) as plain IPv4. */
export function plainAddress(remote: string): string {
  const zone = remote.indexOf('%');
  const ip = zone >= 0 ? remote.slice(0, zone) : remote;
  return ip.toLowerCase().startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

const cache = new Map<string, Buffer>();

/** A/AAAA RDATA for an IP literal; throws for anything else. */
export function addressBytes(address: string): Buffer {
  let b = cache.get(address);
  if (!b) {
    const bytes = ipBytes(address);
    if (!bytes) throw new Error(`not an IP address: ${address}`);
    b = ownCopy(Uint8Array.from(bytes));
    if (cache.size > 100_000) cache.clear();
    cache.set(address, b);
  }
  return b;
}
