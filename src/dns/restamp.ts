// Stored replies served again: a copy with the client's ID, RD/CD bits and
// question bytes (its letter case) patched in. Used by the answer memo and
// the cache, so a hit costs one copy and no parsing.

import { Flag } from './constants.js';
import type { Request } from './request.js';
import { HEADER_LEN } from './wire.js';

const CLIENT_BITS = Flag.RD | Flag.CD;

/** `stored` must answer the same question (same name ignoring case, type, class). */
export function restamp(stored: Buffer, req: Request): Buffer {
  const out = Buffer.allocUnsafe(stored.length);
  stored.copy(out);
  out[0] = req.wire[0]!;
  out[1] = req.wire[1]!;
  out.writeUInt16BE((out.readUInt16BE(2) & ~CLIENT_BITS) | (req.flags & CLIENT_BITS), 2);
  // After a rewrite the stored question is the rewritten one; the rewrite plugin restores the client's.
  if (req.originalQname === undefined) req.wire.copy(out, HEADER_LEN, HEADER_LEN, req.questionEnd);
  return out;
}
