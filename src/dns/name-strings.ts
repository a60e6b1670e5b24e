// The strings of names read lately, handed out again for the same bytes.
// Nearly every query repeats a name, and a string already used as a key has
// its hash computed (V8 keeps it in the string): a map lookup keyed by a
// fresh string costs ~80 ns to hash it, one keyed by a string seen before
// ~15 (the answer memo and the cache look every query's name up). Making
// the string is skipped too. Bounded: emptied when full, so a flood of
// random names cannot grow it past ~1 MB.

import type { Latin1Buffer } from '../util/buffers.js';

const MAX_NAMES = 8192;
/** Longer names (rare: up to ~1000 with escapes) are made afresh, so the bound stays near a megabyte. */
const MAX_KEPT_LENGTH = 128;

/** The caller's hash of a name's bytes → the last string with that hash. */
const byHash = new Map<number, string>();

/**
 * The latin1 string of bytes[0, n): the one handed out before for the same
 * bytes when there is one. `hash` is any hash of those bytes that the same
 * bytes always give (readName's FNV-1a), below 2^30 so V8 keeps it a small
 * integer; two names with the same one are told apart byte by byte.
 */
export function nameString(bytes: Latin1Buffer, n: number, hash: number): string {
  const known = byHash.get(hash);
  if (known !== undefined && known.length === n) {
    let i = 0;
    while (i < n && known.charCodeAt(i) === bytes[i]) i++;
    if (i === n) return known;
  }
  const name = bytes.latin1Slice(0, n);
  if (n > MAX_KEPT_LENGTH) return name;
  if (byHash.size >= MAX_NAMES) byHash.clear();
  byHash.set(hash, name);
  return name;
}
