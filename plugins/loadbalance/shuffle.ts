// Reorders the answer section of a reply. On the wire when that is safe:
// only address records move, and each has a compressed owner (a pointer,
// usually to the question), so no name elsewhere can point into the bytes
// that move and every other record keeps its offset. Anything else is
// decoded and re-encoded.

import dnsPacket from 'dns-packet';
import { questionsEnd, scanRecords, u16, type RRPos } from '../../src/dns/wire.js';
import { isAddress, shuffledOrder } from './order.js';

/** `msg` with its answers in a fresh load-balanced order; unchanged when there is nothing to reorder. */
export function shuffleAnswers(msg: Buffer): Buffer {
  if (msg.length < 12 || (msg[3]! & 0xf) !== 0) return msg;
  const an = u16(msg, 6);
  if (an < 2) return msg;
  const rrs: RRPos[] = [];
  try {
    scanRecords(msg, questionsEnd(msg), an, rrs);
  } catch {
    return msg;
  }
  const order = shuffledOrder(rrs.map((r) => r.type));
  return onWire(msg, rrs, order) ?? reencode(msg, order);
}

function onWire(msg: Buffer, rrs: RRPos[], order: number[]): Buffer | undefined {
  const out = Buffer.allocUnsafe(msg.length);
  const start = rrs[0]!.start;
  msg.copy(out, 0, 0, start);
  let pos = start;
  for (let k = 0; k < order.length; k++) {
    const r = rrs[order[k]!]!;
    const movable = isAddress(r.type) && (msg[r.start]! & 0xc0) === 0xc0;
    if (!movable && (order[k] !== k || r.start !== pos)) return undefined;
    pos += msg.copy(out, pos, r.start, r.end);
  }
  msg.copy(out, pos, pos);
  return out;
}

function reencode(msg: Buffer, order: number[]): Buffer {
  try {
    const p = dnsPacket.decode(msg);
    const answers = p.answers ?? [];
    if (answers.length !== order.length) return msg;
    return dnsPacket.encode({ ...p, answers: order.map((i) => answers[i]!) });
  } catch {
    return msg;
  }
}
