// Fits a response into the client's limit: whole answer RRsets, authority
// and additional dropped, OPT kept, TC set. When not even the first RRset
// fits, as many of its records as fit are kept (as CoreDNS does), so clients
// without TCP fallback (musl) still get addresses.

import { Flag, Type } from './constants.js';
import { counts, questionsEnd, readName, scanRecords, skipName, u16, type RRPos } from './wire.js';

/** Returns `msg` unchanged when it fits in `limit`, else a truncated copy with TC set. */
export function truncate(msg: Buffer, limit: number): Buffer {
  if (msg.length <= limit) return msg;
  const c = counts(msg);
  const qEnd = questionsEnd(msg);
  const rrs: RRPos[] = [];
  const answersEnd = scanRecords(msg, qEnd, c.an, rrs);
  scanRecords(msg, answersEnd, c.ns + c.ar, rrs);
  const opt = rrs.slice(c.an).find((r) => r.type === Type.OPT);
  const optLen = opt ? opt.end - opt.start : 0;

  // Keep the longest prefix of the answer section that ends on an RRset boundary.
  let keep = 0;
  let keepEnd = qEnd;
  for (let i = 0; i < c.an; i++) {
    const r = rrs[i]!;
    if (r.end + optLen > limit) break;
    const next = rrs[i + 1];
    if (i + 1 === c.an || !next || !sameRRset(msg, r, next)) {
      keep = i + 1;
      keepEnd = r.end;
    }
  }
  if (keep === 0) {
    while (keep < c.an && rrs[keep]!.end + optLen <= limit) keepEnd = rrs[keep++]!.end;
  }
  const out = Buffer.allocUnsafe(keepEnd + optLen);
  msg.copy(out, 0, 0, keepEnd);
  if (opt) msg.copy(out, keepEnd, opt.start, opt.end);
  out.writeUInt16BE(u16(msg, 2) | Flag.TC, 2);
  out.writeUInt16BE(keep, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  return out;
}

/**
 * Same type and owner. Our answers compress an RRset's owners to identical
 * bytes, so that compare settles it; an upstream's may spell one owner two
 * ways (a pointer here, labels there), so unequal bytes fall back to names.
 */
function sameRRset(msg: Buffer, a: RRPos, b: RRPos): boolean {
  if (a.type !== b.type) return false;
  const aEnd = skipName(msg, a.start);
  const bEnd = skipName(msg, b.start);
  if (aEnd - a.start === bEnd - b.start && msg.compare(msg, b.start, bEnd, a.start, aEnd) === 0) return true;
  return readName(msg, a.start).name === readName(msg, b.start).name;
}
