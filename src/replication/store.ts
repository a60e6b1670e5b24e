// The replicated registry as this node knows it: owner → key → entry, with
// a digest per owner that is kept up to date as entries change, so anti-
// entropy can tell in a few bytes whether two nodes agree about an owner,
// and which entries one of them lacks, without touching every entry.
//
// An owner's digest is its highest version, its entry count and the XOR of
// a 64-bit hash of every (owner, key, version) it holds. Versions of one
// owner only grow, so a node whose highest version is lower lacks at least
// the entries above it; equal highest versions with a different hash mean
// each side lacks something (a lost message), and only then is the whole
// owner exchanged.
import { createHash } from 'node:crypto';
import type { Entry } from './validate.js';

/** [highest version, entry count, hash as 16 hex digits]. */
export type OwnerDigest = [max: number, count: number, hash: string];

const ZERO = '0000000000000000';

interface Owner {
  entries: Map<string, Entry>;
  max: number;
  hi: number;
  lo: number;
}

function entryHash(owner: string, key: string, version: number): [number, number] {
  const h = createHash('md5').update(`${owner}\n${key}\n${version}`).digest();
  return [h.readUInt32BE(0), h.readUInt32BE(4)];
}

const hex = (hi: number, lo: number): string => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');

export class ReplicaStore {
  private readonly owners = new Map<string, Owner>();
  private rootHi = 0;
  private rootLo = 0;
  private total = 0;

  get(owner: string, key: string): Entry | undefined {
    return this.owners.get(owner)?.entries.get(key);
  }

  /** The owner's entries (empty when unknown); do not modify. */
  entries(owner: string): ReadonlyMap<string, Entry> {
    return this.owners.get(owner)?.entries ?? new Map();
  }

  ownerNames(): string[] {
    return [...this.owners.keys()];
  }

  size(owner: string): number {
    return this.owners.get(owner)?.entries.size ?? 0;
  }

  set(owner: string, key: string, entry: Entry): void {
    let o = this.owners.get(owner);
    if (!o) this.owners.set(owner, (o = { entries: new Map(), max: 0, hi: 0, lo: 0 }));
    const old = o.entries.get(key);
    if (old) this.mix(o, owner, key, old[0]);
    else this.total++;
    this.mix(o, owner, key, entry[0]);
    o.entries.set(key, entry);
    if (entry[0] > o.max) o.max = entry[0];
  }

  delete(owner: string, key: string): void {
    const o = this.owners.get(owner);
    const old = o?.entries.get(key);
    if (!o || !old) return;
    this.mix(o, owner, key, old[0]);
    o.entries.delete(key);
    this.total--;
  }

  digest(owner: string): OwnerDigest {
    const o = this.owners.get(owner);
    return o ? [o.max, o.entries.size, hex(o.hi, o.lo)] : [0, 0, ZERO];
  }

  /** Every owner's digest. */
  digests(): Record<string, OwnerDigest> {
    const out: Record<string, OwnerDigest> = Object.create(null);
    for (const name of this.owners.keys()) out[name] = this.digest(name);
    return out;
  }

  /** One hash and count for everything: two nodes that agree on every owner agree on this. */
  root(): { hash: string; count: number } {
    return { hash: hex(this.rootHi, this.rootLo), count: this.total };
  }

  /** The owner's entries newer than `version`, oldest first (0: all of them). */
  newerThan(owner: string, version: number): Array<[string, Entry]> {
    const out: Array<[string, Entry]> = [];
    for (const [key, entry] of this.entries(owner)) if (entry[0] > version) out.push([key, entry]);
    return out.sort((a, b) => a[1][0] - b[1][0]);
  }

  private mix(o: Owner, owner: string, key: string, version: number): void {
    const [hi, lo] = entryHash(owner, key, version);
    o.hi = (o.hi ^ hi) >>> 0;
    o.lo = (o.lo ^ lo) >>> 0;
    this.rootHi = (this.rootHi ^ hi) >>> 0;
    this.rootLo = (this.rootLo ^ lo) >>> 0;
  }
}
