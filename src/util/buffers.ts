// Buffers that are kept for a long time (memoised answers, cached records,
// address bytes) must not be slices of Node's pooled 8 KiB slabs: one small
// slice keeps its whole slab, and everything else allocated in it, alive.

/** A copy of `bytes` in memory of its own. */
export function ownCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * A Buffer with Node's latin1Slice, which toString('latin1') ends in, minus
 * its argument handling: what the hot path uses to make names and addresses.
 */
export type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
