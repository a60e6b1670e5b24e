// Reorders the answer section of a reply. On the wire when that is safe:
// only address records move, each has a compressed owner (a pointer,
// usually to the question), and no name anywhere in the message points at
// one of them, so every other record keeps its offset and every pointer
// still lands on the name it meant. Anything else is decoded and re-encoded.

import dnsPacket from 'dns-packet';
import { Type } from '../../src/dns/constants.js';
import { questionsEnd, scanRecords, skipName, u16, type RRPos } from '../../src/dns/wire.js';
import { isAddress, shuffledOrder } from './order.js';

/** `msg` with its answers in a fresh load-balanced order; unchanged when there is nothing to reorder. */
export function shuffleAnswers(msg: Buffer): Buffer {
  if (msg.length < 12 || (msg[3]! & 0xf) !== 0) return msg;
  const an = u16(msg, 6);
  if (an < 2) return msg;
  const rrs: RRPos[] = [];
  try {
    scanRecords(msg, questionsEnd(msg), an + u16(msg, 8) + u16(msg, 10), rrs);
  } catch {
    return msg;
  }
  const answers = rrs.slice(0, an);
  const order = shuffledOrder(answers.map((r) => r.type));
  return (safeOnWire(msg, rrs, an) ? onWire(msg, answers, order) : undefined) ?? reencode(msg, order);
}

function movable(msg: Buffer, r: RRPos): boolean {
  return isAddress(r.type) && (msg[r.start]! & 0xc0) === 0xc0;
}

/**
 * No owner name, and no name in the RDATA of a type whose names may be
 * compressed, points at a movable answer (a pointer to a pointer is legal,
 * if rare). RDATA it cannot read makes it say no.
 */
function safeOnWire(msg: Buffer, rrs: RRPos[], an: number): boolean {
  const moving = new Set<number>();
  for (let i = 0; i < an; i++) if (movable(msg, rrs[i]!)) moving.add(rrs[i]!.start);
  const hits = (off: number): boolean => moving.has(pointerIn(msg, off));
  try {
    for (const r of rrs) {
      if (hits(r.start)) return false;
      const d = r.rdataOffset;
      switch (r.type) {
        case Type.CNAME:
        case Type.NS:
        case Type.PTR:
        case Type.DNAME:
          if (hits(d)) return false;
          break;
        case Type.MX:
          if (hits(d + 2)) return false;
          break;
        case Type.SRV:
          if (hits(d + 6)) return false;
          break;
        case Type.SOA:
          if (hits(d) || hits(skipName(msg, d))) return false;
          break;
      }
    }
  } catch {
    return false;
  }
  return true;
}

/** Where the first compression pointer of the name at `off` points; -1 when it has none. */
function pointerIn(msg: Buffer, off: number): number {
  for (let pos = off; ;) {
    if (pos >= msg.length) throw new RangeError('name runs past the end');
    const len = msg[pos]!;
    if (len === 0) return -1;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) throw new RangeError('pointer truncated');
      return ((len & 0x3f) << 8) | msg[pos + 1]!;
    }
    pos += len + 1;
  }
}

function onWire(msg: Buffer, rrs: RRPos[], order: number[]): Buffer | undefined {
  const out = Buffer.allocUnsafe(msg.length);
  const start = rrs[0]!.start;
  msg.copy(out, 0, 0, start);
  let pos = start;
  for (let k = 0; k < order.length; k++) {
    const r = rrs[order[k]!]!;
    if (!movable(msg, r) && (order[k] !== k || r.start !== pos)) return undefined;
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
