// The one data set every server serves, and the query files. Everything is
// derived from the service count, so every server gets exactly the same names.

const NAMESPACE = 'bench';
export const ZONE = 'cluster.local';
export const TTL = 30;
export const SRV_PORT = 8080;
const ENDPOINTS = 3;
/** Upstream zone for the forward workloads (served by a knot on loopback). */
export const UPSTREAM_ZONE = 'test';
const CACHED_NAMES = 1000;

export interface Endpoint {
  name: string;
  address: string;
  /** SRV target and its own A record: `<ep>.<svc>.<ns>.svc.<zone>`, as podswarm-dns names it. */
  fqdn: string;
}

export interface ServiceData {
  name: string;
  /** `<svc>.<ns>.<zone>` and `<svc>.<ns>.svc.<zone>`. */
  short: string;
  long: string;
  srv: string;
  endpoints: Endpoint[];
}

/** SRV weight podswarm-dns gives each of n targets; the peers get the same. */
export const srvWeight = (n: number): number => Math.max(1, Math.floor(100 / n));

/** 10.80.0.0 upwards: documentation data only, nothing connects to it. */
function address(svc: number, ep: number): string {
  return `10.${80 + (svc >> 8)}.${svc & 255}.${ep + 1}`;
}

export function services(count: number): ServiceData[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `svc${i}`;
    const long = `${name}.${NAMESPACE}.svc.${ZONE}`;
    return {
      name,
      short: `${name}.${NAMESPACE}.${ZONE}`,
      long,
      srv: `_http._tcp.${name}.${NAMESPACE}.${ZONE}`,
      endpoints: Array.from({ length: ENDPOINTS }, (_, k) => ({ name: `e${k}`, address: address(i, k), fqdn: `e${k}.${long}` })),
    };
  });
}

/** Registry file for podswarm-dns (format of src/sources/file/source.ts). */
export function registryYaml(list: ServiceData[]): string {
  const out = ['node: bench', 'services:'];
  for (const s of list) {
    out.push(`  - name: ${s.name}`, `    namespace: ${NAMESPACE}`, '    ports:', `      - { name: http, port: ${SRV_PORT}, protocol: tcp }`, '    endpoints:');
    for (const e of s.endpoints) out.push(`      - { name: ${e.name}, address: ${e.address} }`);
  }
  return out.join('\n') + '\n';
}

/** Deterministic PRNG (mulberry32), so every run and every server sees the same query order. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The `cluster` mix, as dnsperf lines: 75% A over both name forms, 10% AAAA
 * (NODATA), 10% SRV, 5% A for names that do not exist (NXDOMAIN).
 */
export function clusterQueries(list: ServiceData[], lines = 4000): string {
  const rnd = prng(4);
  const out: string[] = [];
  for (let j = 0; j < lines; j++) {
    const s = list[Math.floor(rnd() * list.length)]!;
    const bucket = j % 20;
    if (bucket < 15) out.push(`${rnd() < 0.5 ? s.short : s.long} A`);
    else if (bucket < 17) out.push(`${s.short} AAAA`);
    else if (bucket < 19) out.push(`${s.srv} SRV`);
    else out.push(`nosuch${j}.${NAMESPACE}.${ZONE} A`);
  }
  return shuffle(out, rnd).join('\n') + '\n';
}

/** A queries over every service name in both forms (registry scale). */
export function serviceAQueries(list: ServiceData[]): string {
  const rnd = prng(7);
  const out = list.flatMap((s) => [`${s.short} A`, `${s.long} A`]);
  return shuffle(out, rnd).join('\n') + '\n';
}

/** `forward-cached`: the upstream's 1000 names, answered from cache after the first miss. */
export function cachedQueries(): string {
  const rnd = prng(11);
  const out = Array.from({ length: CACHED_NAMES }, (_, i) => `h${i}.ext.${UPSTREAM_ZONE} A`);
  return shuffle(out, rnd).join('\n') + '\n';
}

/** `forward-miss`: `count` unique names under the upstream's wildcard, so no cache can answer. */
export function missQueries(prefix: string, count: number): string {
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = `${prefix}${i}.miss.${UPSTREAM_ZONE} A`;
  return out.join('\n') + '\n';
}

/** Upstream zone file (knot): 1000 names under ext.test and a wildcard under miss.test. */
export function upstreamZone(): string {
  const out = [
    `$ORIGIN ${UPSTREAM_ZONE}.`,
    '$TTL 3600',
    `@ SOA ns.${UPSTREAM_ZONE}. hostmaster.${UPSTREAM_ZONE}. 1 3600 600 86400 3600`,
    '@ NS ns',
    'ns A 127.0.0.1',
  ];
  for (let i = 0; i < CACHED_NAMES; i++) out.push(`h${i}.ext A 198.51.100.${(i % 250) + 1}`);
  out.push('*.miss A 203.0.113.1');
  return out.join('\n') + '\n';
}

function shuffle<T>(a: T[], rnd: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
