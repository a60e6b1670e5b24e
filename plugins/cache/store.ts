// The two bounded maps (success and denial) behind one key space. A key
// lives in at most one of them; when a map is full the oldest insert goes.
// Keys of names in registry zones are tracked so a registry change can drop
// exactly those entries.

export type Kind = 'success' | 'denial';

/** One cached response, kept as wire bytes ready to be patched per client. */
export interface Entry {
  readonly key: string;
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
  /** A background refresh of this key is under way. */
  refreshing: boolean;
}

export class CacheStore {
  private readonly maps: Record<Kind, Map<string, Entry>> = { success: new Map(), denial: new Map() };
  private readonly registryKeys = new Set<string>();
  /** Bumped on every registry flush, so a refresh begun before it does not store stale data. */
  generation = 0;

  constructor(private readonly caps: Readonly<Record<Kind, number>>) {}

  get(key: string): Entry | undefined {
    return this.maps.success.get(key) ?? this.maps.denial.get(key);
  }

  /** Stores `e`, replacing any entry for its key; true when a full map had to evict one. */
  set(e: Entry, inRegistryZone: boolean): boolean {
    this.delete(e.key);
    const map = this.maps[e.kind];
    let evicted = false;
    if (map.size >= this.caps[e.kind]) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) this.delete(oldest);
      evicted = true;
    }
    map.set(e.key, e);
    if (inRegistryZone) this.registryKeys.add(e.key);
    return evicted;
  }

  delete(key: string): void {
    this.maps.success.delete(key);
    this.maps.denial.delete(key);
    this.registryKeys.delete(key);
  }

  /** Drops every entry for a name in a registry zone. */
  flushRegistry(): void {
    for (const key of this.registryKeys) {
      this.maps.success.delete(key);
      this.maps.denial.delete(key);
    }
    this.registryKeys.clear();
    this.generation++;
  }

  size(kind: Kind): number {
    return this.maps[kind].size;
  }

  clear(): void {
    this.maps.success.clear();
    this.maps.denial.clear();
    this.registryKeys.clear();
  }
}
