// PTR names back to addresses: "4.3.2.1.in-addr.arpa." → "1.2.3.4",
// 32 nibbles under ip6.arpa → the canonical IPv6 text.

import { isIPv4 } from 'node:net';
import { canonicalAddress } from '../registry/names.js';
import { addressBytes } from './address.js';

/** The address a complete reverse name stands for, or undefined. */
export function addressFromReverse(qname: string): string | undefined {
  if (qname.endsWith('.in-addr.arpa.')) {
    const parts = qname.slice(0, -'.in-addr.arpa.'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
    return canonicalAddress(parts.reverse().join('.'));
  }
  if (qname.endsWith('.ip6.arpa.')) {
    const nibbles = qname.slice(0, -'.ip6.arpa.'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups = hex.match(/.{4}/g)!;
    return canonicalAddress(groups.join(':'));
  }
  return undefined;
}

export function isReverseZone(zone: string): boolean {
  return zone.endsWith('in-addr.arpa.') || zone.endsWith('ip6.arpa.');
}

/** The complete reverse name of an address: "1.2.3.4" → "4.3.2.1.in-addr.arpa.". */
export function reverseName(address: string): string {
  if (isIPv4(address)) return `${address.split('.').reverse().join('.')}.in-addr.arpa.`;
  const bytes = addressBytes(address);
  const nibbles: string[] = [];
  for (let i = bytes.length - 1; i >= 0; i--) nibbles.push((bytes[i]! & 0xf).toString(16), (bytes[i]! >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa.`;
}
