// Messages to and from an upstream: the query we send, the check that a
// reply answers it (anti-spoofing), and the reply as the client gets it.

import { randomFillSync } from 'node:crypto';
import { Class, Flag } from '../../src/dns/constants.js';
import { OPT_LEN, OUR_UDP_SIZE, writeOpt } from '../../src/dns/edns.js';
import type { Request } from '../../src/dns/request.js';
import { HEADER_LEN, nameToWire, type RRPos } from '../../src/dns/wire.js';

// Random IDs come from a buffer refilled in batches: one syscall per 2048 queries.
const ids = new Uint16Array(2048);
let nextId = ids.length;

export function randomId(): number {
  if (nextId === ids.length) {
    randomFillSync(ids);
    nextId = 0;
  }
  return ids[nextId++]!;
}

/** A query with ID 0 (the transport sets a random one); an OPT record when `edns` is given. */
export function buildQuery(name: Buffer, qtype: number, flags: number, edns?: { do: boolean }): Buffer {
  const qEnd = HEADER_LEN + name.length + 4;
  const msg = Buffer.alloc(qEnd + (edns ? OPT_LEN : 0));
  msg.writeUInt16BE(flags & (Flag.RD | Flag.CD), 2);
  msg.writeUInt16BE(1, 4);
  name.copy(msg, HEADER_LEN);
  msg.writeUInt16BE(qtype, qEnd - 4);
  msg.writeUInt16BE(Class.IN, qEnd - 2);
  if (edns) {
    msg.writeUInt16BE(1, 10);
    writeOpt(msg, qEnd, OUR_UDP_SIZE, 0, edns.do);
  }
  return msg;
}

/** The upstream query for a client request: its (possibly rewritten) question, RD/CD, and EDNS if the client used it. */
export function upstreamQuery(req: Request): Buffer {
  return buildQuery(nameToWire(req.qname), req.qtype, req.flags, req.edns ? { do: req.do } : undefined);
}

/** Offset just past the question of a query built by buildQuery. */
export function questionEnd(query: Buffer): number {
  return query.length - (query.readUInt16BE(10) === 1 ? OPT_LEN : 0);
}

/**
 * True when `reply` answers `sent`: same ID, QR set, one question with the
 * same name (any letter case), type and class.
 */
export function answers(sent: Buffer, reply: Buffer): boolean {
  const qEnd = questionEnd(sent);
  if (reply.length < qEnd || reply[0] !== sent[0] || reply[1] !== sent[1]) return false;
  if ((reply.readUInt16BE(2) & Flag.QR) === 0 || reply.readUInt16BE(4) !== 1) return false;
  const nameEnd = qEnd - 4;
  for (let i = HEADER_LEN; i < qEnd; i++) {
    let c = reply[i]!;
    // Our name bytes are lowercase; label length bytes (<64) never fall in A-Z.
    if (i < nameEnd && c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== sent[i]) return false;
  }
  return true;
}

export function isTruncated(reply: Buffer): boolean {
  return (reply.readUInt16BE(2) & Flag.TC) !== 0;
}

export function rcodeOf(reply: Buffer): number {
  return reply[3]! & 0xf;
}

/**
 * The reply as the client gets it: the client's ID; unless a plugin rewrote the
 * question (it restores its own), the client's question bytes, so the name
 * comes back in the client's letter case; and the OPT record of the client's
 * query, not the upstream's (RFC 6891: none for a client without EDNS; ours,
 * with the upstream's extended rcode, for one with); and our RA bit. `reply` must be validated;
 * `opt` is its OPT record. Modifies `reply` or returns a new buffer.
 */
export function clientReply(req: Request, sent: Buffer, reply: Buffer, opt: RRPos | undefined): Buffer {
  const out = opt || req.edns ? withClientOpt(req, reply, opt) : reply;
  out.writeUInt16BE(req.id, 0);
  // RA is ours to claim, by the server block's rule, not the upstream's.
  out[3] = req.recursionAvailable ? out[3]! | Flag.RA : out[3]! & ~Flag.RA;
  if (req.originalQname === undefined && req.questionEnd === questionEnd(sent)) {
    req.wire.copy(out, HEADER_LEN, HEADER_LEN, req.questionEnd);
  }
  return out;
}

/** `reply` without its own OPT, with ours appended when the client used EDNS. */
function withClientOpt(req: Request, reply: Buffer, opt: RRPos | undefined): Buffer {
  const cut = opt ? opt.end - opt.start : 0;
  const add = req.edns ? OPT_LEN : 0;
  const out = Buffer.allocUnsafe(reply.length - cut + add);
  let pos = 0;
  if (opt) {
    pos += reply.copy(out, 0, 0, opt.start);
    pos += reply.copy(out, pos, opt.end);
  } else {
    pos += reply.copy(out, 0);
  }
  const extendedRcode = opt ? reply[opt.ttlOffset]! : 0;
  if (add > 0) writeOpt(out, pos, req.serverUdpSize, (extendedRcode << 4) | rcodeOf(reply), req.do);
  out.writeUInt16BE(reply.readUInt16BE(10) - (opt ? 1 : 0) + (add > 0 ? 1 : 0), 10);
  return out;
}
