// Node addresses as memberlist carries them (a Go net.IP in alive, ping,
// indirect-ping and push/pull messages: 4 bytes for IPv4, 16 for IPv6) and
// which addresses a socket of one family can reach. `host:port` text as
// memberlist's Join reads it is src/util/hostport.ts's splitHostPort.
import { isIP } from 'node:net';
import { ipBytes } from '../dns/address.js';
import { canonicalAddress } from '../registry/names.js';

function isV4Mapped(b: Uint8Array): boolean {
  return b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** The Addr bytes for an IP literal: IPv4 (also written v4-mapped) as 4 bytes, as memberlist's FinalAdvertiseAddr does (To4). */
export function ipToWire(ip: string): Buffer {
  const bytes = ipBytes(ip);
  if (!bytes) throw new Error(`not an IP address: ${ip}`);
  const b = Buffer.from(bytes);
  return isV4Mapped(b) ? b.subarray(12) : b;
}

/** Addr bytes as text, as Go's net.IP.String() writes them: a v4-mapped IPv6 address reads as IPv4. */
export function ipFromWire(addr: Buffer): string {
  if (addr.length === 4) return addr.join('.');
  if (addr.length !== 16) throw new Error(`an address of ${addr.length} bytes (expected 4 or 16)`);
  if (isV4Mapped(addr)) return addr.subarray(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(addr.readUInt16BE(i).toString(16));
  return canonicalAddress(groups.join(':'))!;
}

/** `0.0.0.0` or `::`. */
export function isUnspecified(ip: string): boolean {
  return ipBytes(ip)?.every((b) => b === 0) ?? false;
}

/**
 * Why a node bound to `bind` cannot exchange packets with `host`, or
 * undefined when it can: the same family, or a bind on `::` (a dual-stack
 * socket). Host names are left to the dialer, which looks up the bind's family.
 */
export function unreachableReason(bind: string, host: string): string | undefined {
  const family = isIP(host);
  const own = isIP(bind);
  if (family === 0 || family === own || (own === 6 && isUnspecified(bind))) return undefined;
  return `it is an IPv${family} address and this node gossips on IPv${own} (${bind})`;
}
