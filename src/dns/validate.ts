// Checks a whole message from a peer we do not trust (an upstream's reply)
// before anything uses, caches or forwards it: every name readable (no
// compression loops, no forward pointers), every record inside the message,
// names inside RDATA inside their record, nothing after the last record, at
// most one OPT and only in the additional section. Throws WireError.

import { Type } from './constants.js';
import { HEADER_LEN, WireError, counts, readName, u16, type RRPos } from './wire.js';

/** Fixed RDATA lengths, and the RDATA that is names (with a fixed prefix before them) we must read to check. */
const FIXED_LENGTH = new Map<number, number>([
  [Type.A, 4],
  [Type.AAAA, 16],
]);
const NAMES_IN_RDATA = new Map<number, { prefix: number; names: number; suffix: number }>([
  [Type.NS, { prefix: 0, names: 1, suffix: 0 }],
  [Type.CNAME, { prefix: 0, names: 1, suffix: 0 }],
  [Type.PTR, { prefix: 0, names: 1, suffix: 0 }],
  [Type.DNAME, { prefix: 0, names: 1, suffix: 0 }],
  [Type.MX, { prefix: 2, names: 1, suffix: 0 }],
  [Type.SRV, { prefix: 6, names: 1, suffix: 0 }],
  [Type.SOA, { prefix: 0, names: 2, suffix: 20 }],
]);

/** What a valid message holds that callers need without parsing it again. */
export interface Validated {
  /** The OPT record, if any (always in the additional section). */
  opt: RRPos | undefined;
}

export function validateMessage(msg: Buffer): Validated {
  if (msg.length < HEADER_LEN) throw new WireError('shorter than a header');
  const c = counts(msg);
  let pos = HEADER_LEN;
  for (let i = 0; i < c.qd; i++) {
    pos = readName(msg, pos).end + 4;
    if (pos > msg.length) throw new WireError('question truncated');
  }
  let opt: RRPos | undefined;
  const total = c.an + c.ns + c.ar;
  for (let i = 0; i < total; i++) {
    const start = pos;
    const owner = readName(msg, pos);
    pos = owner.end;
    const type = u16(msg, pos);
    const rdlen = u16(msg, pos + 8);
    const rdataOffset = pos + 10;
    const end = rdataOffset + rdlen;
    if (end > msg.length) throw new WireError(`record ${i + 1} of ${total} runs past the end of the message`);
    checkRdata(msg, type, rdataOffset, end);
    if (type === Type.OPT) {
      if (i < c.an + c.ns) throw new WireError('OPT record outside the additional section');
      if (opt) throw new WireError('more than one OPT record');
      if (owner.name !== '.') throw new WireError('OPT owner name is not the root');
      opt = { start, type, ttlOffset: pos + 4, rdataOffset, end };
    }
    pos = end;
  }
  if (pos !== msg.length) throw new WireError(`${msg.length - pos} bytes after the last record`);
  return { opt };
}

function checkRdata(msg: Buffer, type: number, start: number, end: number): void {
  const fixed = FIXED_LENGTH.get(type);
  if (fixed !== undefined && end - start !== fixed) throw new WireError(`${end - start}-byte RDATA for type ${type}`);
  const shape = NAMES_IN_RDATA.get(type);
  if (!shape) return;
  let pos = start + shape.prefix;
  for (let n = 0; n < shape.names; n++) {
    if (pos >= end) throw new WireError(`RDATA of type ${type} too short`);
    // Bounded by the message (pointers may lead anywhere before), then the bytes must stay in the record.
    pos = readName(msg, pos).end;
    if (pos > end) throw new WireError(`a name runs out of the RDATA of type ${type}`);
  }
  if (pos + shape.suffix !== end) throw new WireError(`RDATA of type ${type} has the wrong length`);
}
