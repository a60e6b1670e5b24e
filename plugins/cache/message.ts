// Wire-level work of the cache: deciding whether a response may be cached
// and for how long (CoreDNS response.Typify + dnsutil.MinimalTTL), turning it
// into a stored entry, and rebuilding a client's reply from that entry.

import { stampClient } from '../../src/dns/restamp.js';
import { Flag, Rcode, Type } from '../../src/dns/constants.js';
import { OPT_LEN, writeOpt } from '../../src/dns/edns.js';
import type { Request } from '../../src/dns/request.js';
import { HEADER_LEN, counts, readName, scanRecords, skipName, u16, u32, type RRPos } from '../../src/dns/wire.js';
import type { Kind } from './store.js';

/** The TTL bounds for one kind of entry, in seconds. */
export interface TtlLimits {
  maxTtl: number;
  minTtl: number;
}

export interface Limits {
  success: TtlLimits;
  denial: TtlLimits;
  /** How long SERVFAIL is cached (s); 0 = never. */
  servfailTtl: number;
}

/** What `prepare` found: the entry's parts and the TTL offsets in the original message. */
export interface Prepared {
  kind: Kind;
  ttl: number;
  stored: Buffer;
  storedTtlOffsets: number[];
  originalTtlOffsets: number[];
}

/** Used when a cacheable message has no record to take a TTL from (CoreDNS MinimalDefaultTTL). */
const FALLBACK_TTL = 5;

const scratch: RRPos[] = [];

/**
 * Classifies `msg` (the reply to `req`) and, when it may be cached, returns
 * the entry bytes and its TTL. 'mismatch' means the reply does not answer
 * the question; null means it is not cacheable. Throws WireError on bad bytes.
 */
export function prepare(req: Request, msg: Buffer, limits: Limits): Prepared | 'mismatch' | null {
  const flags = u16(msg, 2);
  if (flags & Flag.TC) return null;
  const c = counts(msg);
  if (c.qd !== 1) return 'mismatch';
  const q = readName(msg, HEADER_LEN);
  const qEnd = q.end + 4;
  if (q.name !== req.qname || u16(msg, q.end) !== req.qtype || u16(msg, q.end + 2) !== req.qclass) return 'mismatch';
  // The client's question is copied over the stored one on a hit, so it must be the same length.
  if (req.originalQname === undefined && qEnd !== req.questionEnd) return 'mismatch';

  scratch.length = 0;
  scanRecords(msg, qEnd, c.an + c.ns + c.ar, scratch);
  let opt: RRPos | undefined;
  let soa: RRPos | undefined;
  let ns = false;
  for (let i = 0; i < scratch.length; i++) {
    const r = scratch[i]!;
    if (i >= c.an + c.ns) {
      if (r.type === Type.OPT) opt = r;
    } else if (i >= c.an) {
      if (r.type === Type.SOA) soa ??= r;
      else if (r.type === Type.NS) ns = true;
    }
  }
  // A non-zero extended rcode (BADVERS etc.) is an error reply.
  if (opt && msg[opt.ttlOffset] !== 0) return null;

  const rcode = flags & 0xf;
  let kind: Kind;
  let ttl: number;
  if (rcode === Rcode.SERVFAIL) {
    kind = 'denial';
    ttl = limits.servfailTtl;
  } else {
    if (rcode === Rcode.NOERROR && (c.an > 0 || (!soa && ns))) kind = 'success';
    else if ((rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN) && soa) kind = 'denial';
    else return null; // other rcodes, NXDOMAIN/NODATA without SOA
    const { minTtl, maxTtl } = limits[kind];
    ttl = Math.min(Math.max(minimalTtl(msg, opt, kind === 'denial' ? soa : undefined), minTtl), maxTtl);
  }
  if (ttl <= 0) return null;
  return { kind, ttl, ...stripOpt(msg, opt) };
}

/** Lowest TTL over all records but OPT; for denial, also the SOA MINIMUM (RFC 2308). */
function minimalTtl(msg: Buffer, opt: RRPos | undefined, soa: RRPos | undefined): number {
  if (scratch.length === (opt ? 1 : 0)) return FALLBACK_TTL;
  // No cap here: the caller clamps to the kind's [MINTTL, TTL], which the Corefile sets.
  let ttl = 0xffffffff;
  for (const r of scratch) if (r !== opt) ttl = Math.min(ttl, u32(msg, r.ttlOffset));
  if (soa) {
    const minimumAt = skipName(msg, skipName(msg, soa.rdataOffset)) + 16;
    if (minimumAt + 4 <= soa.end) ttl = Math.min(ttl, u32(msg, minimumAt));
  }
  return ttl;
}

/** A copy of `msg` without its OPT record and with ID 0, plus the TTL offsets in both. */
function stripOpt(msg: Buffer, opt: RRPos | undefined): Pick<Prepared, 'stored' | 'storedTtlOffsets' | 'originalTtlOffsets'> {
  const optLen = opt ? opt.end - opt.start : 0;
  // Its own memory, not a slice of a pooled slab that the entry would keep alive (src/util/buffers.ts).
  const stored = Buffer.allocUnsafeSlow(msg.length - optLen);
  if (opt) {
    msg.copy(stored, 0, 0, opt.start);
    msg.copy(stored, opt.start, opt.end);
    stored.writeUInt16BE(u16(msg, 10) - 1, 10);
  } else {
    msg.copy(stored);
  }
  stored.writeUInt16BE(0, 0);
  const storedTtlOffsets: number[] = [];
  const originalTtlOffsets: number[] = [];
  for (const r of scratch) {
    if (r === opt) continue;
    originalTtlOffsets.push(r.ttlOffset);
    storedTtlOffsets.push(opt && r.start > opt.start ? r.ttlOffset - optLen : r.ttlOffset);
  }
  return { stored, storedTtlOffsets, originalTtlOffsets };
}

/** Clears AD unless the client asked for DNSSEC data or set AD itself (RFC 6840 5.7-5.8). */
export function adjustAd(flags: number, req: Request): number {
  return req.do || req.flags & Flag.AD ? flags : flags & ~Flag.AD;
}

/** How long render()'s reply to `req` from the stored `msg` is. */
export function renderedLength(msg: Buffer, req: Request): number {
  return msg.length + (req.edns ? OPT_LEN : 0);
}

/**
 * The reply to `req` built from a stored message: client's ID, RD and
 * question bytes (its letter case), every TTL set to `ttl`, and an OPT
 * record when the client sent EDNS. Written into `out` when given
 * (ResponseWriter#sendBuffer: exactly renderedLength() bytes).
 */
export function render(
  msg: Buffer,
  ttlOffsets: readonly number[],
  req: Request,
  ttl: number,
  out: Buffer = Buffer.allocUnsafe(renderedLength(msg, req)),
): Buffer {
  const optLen = req.edns ? OPT_LEN : 0;
  out.set(msg);
  stampClient(out, req);
  out.writeUInt16BE(adjustAd(out.readUInt16BE(2), req), 2);
  for (let i = 0; i < ttlOffsets.length; i++) out.writeUInt32BE(ttl, ttlOffsets[i]);
  if (optLen > 0) {
    writeOpt(out, msg.length, req.serverUdpSize, 0, req.do);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  }
  return out;
}
