// CIDR keys become reverse zones, like CoreDNS plugin/normalize.go and
// plugin/pkg/cidr: a prefix off the label boundary (8 bits for in-addr.arpa,
// 4 for ip6.arpa) is rounded down in size to the next boundary, expanding into
// one zone per sub-network (10.0.0.0/27 → 32 zones).

import { isIPv4, isIPv6 } from 'node:net';

/** The address as bytes (4 or 16), or undefined when it is not an IP literal. */
export function ipBytes(addr: string): number[] | undefined {
  if (isIPv4(addr)) return addr.split('.').map(Number);
  if (!isIPv6(addr) || addr.includes('%')) return undefined;
  let text = addr;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
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

/** Reverse zones covering `bytes/prefix`; `prefix` must be within the address size. */
export function reverseZones(bytes: number[], prefix: number): string[] {
  const v4 = bytes.length === 4;
  const step = v4 ? 8 : 4;
  const units = v4 ? [...bytes] : bytes.flatMap((b) => [b >> 4, b & 0xf]);
  const count = Math.ceil(prefix / step);
  const free = count * step - prefix;
  const suffix = v4 ? 'in-addr.arpa.' : 'ip6.arpa.';
  if (count === 0) return [suffix];

  const base = units.slice(0, count);
  base[count - 1] &= ~((1 << free) - 1);
  const zones: string[] = [];
  for (let k = 0; k < 1 << free; k++) {
    const labels = [...base];
    labels[count - 1] |= k;
    zones.push(`${labels.reverse().map((u) => u.toString(v4 ? 10 : 16)).join('.')}.${suffix}`);
  }
  return zones;
}
