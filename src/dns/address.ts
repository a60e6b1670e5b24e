// IP text → A/AAAA RDATA, memoised: the registry holds few distinct addresses
// and answers are built from them on every cache miss.

import { ipBytes } from '../corefile/reverse.js';
import { ownCopy } from '../util/buffers.js';

const cache = new Map<string, Buffer>();

export function addressBytes(address: string): Buffer {
  let b = cache.get(address);
  if (!b) {
    const bytes = ipBytes(address);
    if (!bytes) throw new Error(`not an IP address: ${address}`);
    b = ownCopy(Uint8Array.from(bytes));
    if (cache.size > 100_000) cache.clear();
    cache.set(address, b);
  }
  return b;
}
