// Stored replies served again: a copy with the client's ID, RD/CD bits and
// question bytes (its letter case) patched in. Used by the answer memo and
// the cache, so a hit costs one copy and no parsing (on the batch path, the
// copy is into the send slot the reply leaves from).

import { Flag } from './constants.js';
import type { Request } from './request.js';
import { HEADER_LEN } from './wire.js';

const CLIENT_BITS = Flag.RD | Flag.CD;

/**
 * `stored` must answer the same question (same name ignoring case, type,
 * class). Written into `out` when given (ResponseWriter#sendBuffer: exactly
 * `stored.length` bytes), else into a new buffer.
 */
export function restamp(stored: Buffer, req: Request, out: Buffer = Buffer.allocUnsafe(stored.length)): Buffer {
  // TypedArray#set and byte loops: Buffer#copy's argument handling costs more than these ~100 bytes.
  out.set(stored);
  stampClient(out, req);
  return out;
}

/** Writes the client's ID, RD/CD bits and question bytes into a reply to the same question. */
export function stampClient(out: Buffer, req: Request): void {
  const wire = req.wire;
  out[0] = wire[0]!;
  out[1] = wire[1]!;
  const flags = (((out[2]! << 8) | out[3]!) & ~CLIENT_BITS) | (req.flags & CLIENT_BITS);
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  // After a rewrite the stored question is the rewritten one; the rewrite plugin restores the client's.
  if (req.originalQname === undefined) for (let i = HEADER_LEN; i < req.questionEnd; i++) out[i] = wire[i]!;
}
