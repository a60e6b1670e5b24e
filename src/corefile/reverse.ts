// CIDR keys become reverse zones, like CoreDNS plugin/normalize.go and
// plugin/pkg/cidr: a prefix off the label boundary (8 bits for in-addr.arpa,
// 4 for ip6.arpa) is rounded down in size to the next boundary, expanding into
// one zone per sub-network (10.0.0.0/27 → 32 zones).

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
  base[count - 1] = base[count - 1]! & ~((1 << free) - 1);
  const zones: string[] = [];
  for (let k = 0; k < 1 << free; k++) {
    const labels = [...base];
    labels[count - 1] = labels[count - 1]! | k;
    zones.push(
      `${labels
        .reverse()
        .map((u) => u.toString(v4 ? 10 : 16))
        .join('.')}.${suffix}`,
    );
  }
  return zones;
}
