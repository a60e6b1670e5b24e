// The two bounded sets (success and denial) behind one index. A question
// has at most one entry; when a set is full its oldest insert goes. Entries
// for names in registry zones are tracked so a registry change can drop
// exactly those.

import type { Request } from '../../src/dns/request.js';

export type Kind = 'success' | 'denial';

/**
 * What besides the name tells two cached questions apart: type, class, DO and
 * CD, as one number (a small integer for class IN), so a lookup is two map
 * reads and builds no key string per query.
 */
export function cacheVariant(req: Request): number {
  return ((req.qclass * 0x10000 + req.qtype) * 2 + (req.do ? 1 : 0)) * 2 + (req.cd ? 1 : 0);
}

/** One cached response, kept as wire bytes ready to be patched per client. */
export interface Entry {
  /** The question it answers: qname and cacheVariant(). */
  readonly name: string;
  readonly variant: number;
  readonly kind: Kind;
  /** The response with ID 0 and no OPT record (hop-by-hop: added per client). */
  readonly msg: Buffer;
  /** Offsets of every record's TTL field in `msg`. */
  readonly ttlOffsets: readonly number[];
  /** When it was stored (ms) and for how long it is fresh (s). */
  readonly stored: number;
  readonly ttl: number;
  /** Prefetch popularity (CoreDNS freq.Freq): hits with no gap longer than the prefetch duration. */
  hits: number;
  last: number;
  /** A background refresh of this question is under way. */
  refreshing: boolean;
}

export class CacheStore {
  /** qname → variant → entry. */
  private readonly index = new Map<string, Map<number, Entry>>();
  /** Each kind's entries in insertion order, for its cap. */
  private readonly byKind: Record<Kind, Set<Entry>> = { success: new Set(), denial: new Set() };
  private readonly inRegistry = new Set<Entry>();
  /** Bumped on every registry flush, so a refresh begun before it does not store stale data. */
  generation = 0;

  constructor(private readonly caps: Readonly<Record<Kind, number>>) {}

  get(name: string, variant: number): Entry | undefined {
    return this.index.get(name)?.get(variant);
  }

  /** Stores `e`, replacing any entry for its question; true when a full set had to evict one. */
  set(e: Entry, inRegistryZone: boolean): boolean {
    const old = this.get(e.name, e.variant);
    if (old) this.delete(old);
    const kind = this.byKind[e.kind];
    let evicted = false;
    if (kind.size >= this.caps[e.kind]) {
      const oldest = kind.values().next().value;
      if (oldest !== undefined) this.delete(oldest);
      evicted = true;
    }
    let byVariant = this.index.get(e.name);
    if (!byVariant) this.index.set(e.name, (byVariant = new Map()));
    byVariant.set(e.variant, e);
    kind.add(e);
    if (inRegistryZone) this.inRegistry.add(e);
    return evicted;
  }

  delete(e: Entry): void {
    const byVariant = this.index.get(e.name);
    if (byVariant?.get(e.variant) === e) {
      byVariant.delete(e.variant);
      if (byVariant.size === 0) this.index.delete(e.name);
    }
    this.byKind[e.kind].delete(e);
    this.inRegistry.delete(e);
  }

  /** Drops every entry for a name in a registry zone. */
  flushRegistry(): void {
    for (const e of this.inRegistry) this.delete(e);
    this.generation++;
  }

  size(kind: Kind): number {
    return this.byKind[kind].size;
  }

  clear(): void {
    this.index.clear();
    this.byKind.success.clear();
    this.byKind.denial.clear();
    this.inRegistry.clear();
  }
}
