// Builds response messages on the wire: header and question copied from the
// request (so the client's letter case comes back), records appended with
// name compression, an OPT record when the client sent one.

import { Class, Flag, Type } from './constants.js';
import { OPT_LEN, writeOpt } from './edns.js';
import type { Request } from './request.js';
import { WireError, splitLabels } from './wire.js';

export type RData =
  | { type: typeof Type.A | typeof Type.AAAA; address: Buffer }
  | { type: typeof Type.CNAME | typeof Type.NS | typeof Type.PTR; target: string }
  | { type: typeof Type.SRV; priority: number; weight: number; port: number; target: string }
  | { type: typeof Type.TXT; strings: string[] }
  | { type: typeof Type.HINFO; cpu: string; os: string }
  | {
      type: typeof Type.SOA;
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    };

export interface RR {
  name: string;
  ttl: number;
  data: RData;
  class?: number;
}

export class MessageBuilder {
  private buf = Buffer.allocUnsafe(512);
  private pos = 0;
  private readonly names = new Map<string, number>();
  private section = 0;
  private readonly counts = [0, 0, 0];

  /**
   * Starts a response to `req`. `qname` in the question keeps the client's
   * case; the lowercased request qname maps to the question's offset so
   * answers for it compress to a single pointer.
   */
  constructor(req: Request, rcode: number, opts: { aa?: boolean } = {}) {
    const w = req.wire;
    const qLen = req.questionEnd - 12;
    this.ensure(12 + Math.max(qLen, 264));
    this.buf[0] = w[0]!;
    this.buf[1] = w[1]!;
    // QR, opcode and RD/CD copied; AA as asked; RA by the server block's rule; rcode low nibble.
    let flags = Flag.QR | (req.flags & (0x7800 | Flag.RD | Flag.CD)) | (rcode & 0xf);
    if (opts.aa) flags |= Flag.AA;
    if (req.recursionAvailable) flags |= Flag.RA;
    this.buf.writeUInt16BE(flags, 2);
    this.buf.writeUInt16BE(1, 4);
    this.buf.fill(0, 6, 12);
    if (req.originalQname === undefined) {
      w.copy(this.buf, 12, 12, req.questionEnd);
      this.pos = 12 + qLen;
      this.names.set(req.qname, 12);
    } else {
      // The question was rewritten: answer with the current name; the rewrite
      // plugin restores the client's question on the way out.
      this.pos = 12;
      this.writeName(req.qname, true);
      this.u16(req.qtype);
      this.u16(req.qclass);
    }
    this.rcode = rcode;
    this.edns = req.edns !== null;
    this.ednsDo = req.do;
    this.udpSize = req.serverUdpSize;
  }

  private readonly rcode: number;
  private readonly edns: boolean;
  private readonly ednsDo: boolean;
  private readonly udpSize: number;

  /** Records go into sections in order: answer (0), authority (1), additional (2). */
  add(section: 0 | 1 | 2, rr: RR): this {
    if (section < this.section) throw new Error('records must be added in section order');
    this.section = section;
    this.ensure(1100);
    this.writeName(rr.name, true);
    this.u16(rr.data.type);
    this.u16(rr.class ?? Class.IN);
    this.u32(rr.ttl >>> 0);
    const lenAt = this.pos;
    this.pos += 2;
    this.writeRData(rr.data);
    this.buf.writeUInt16BE(this.pos - lenAt - 2, lenAt);
    this.counts[section]!++;
    return this;
  }

  answer(rr: RR): this {
    return this.add(0, rr);
  }
  authority(rr: RR): this {
    return this.add(1, rr);
  }
  additional(rr: RR): this {
    return this.add(2, rr);
  }

  /** Finishes the message (adding OPT when the query had EDNS). */
  finish(): Buffer {
    this.ensure(OPT_LEN);
    let ar = this.counts[2]!;
    if (this.edns) {
      this.pos = writeOpt(this.buf, this.pos, this.udpSize, this.rcode, this.ednsDo);
      ar++;
    }
    this.buf.writeUInt16BE(this.counts[0]!, 6);
    this.buf.writeUInt16BE(this.counts[1]!, 8);
    this.buf.writeUInt16BE(ar, 10);
    return this.buf.subarray(0, this.pos);
  }

  private writeRData(d: RData): void {
    switch (d.type) {
      case Type.A:
      case Type.AAAA:
        this.bytes(d.address);
        return;
      case Type.CNAME:
      case Type.NS:
      case Type.PTR:
        this.writeName(d.target, true);
        return;
      case Type.SRV:
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        this.writeName(d.target, false); // RFC 2782: no compression in SRV targets
        return;
      case Type.TXT:
        for (const s of d.strings) this.charString(s);
        return;
      case Type.HINFO:
        this.charString(d.cpu);
        this.charString(d.os);
        return;
      case Type.SOA:
        this.writeName(d.mname, true);
        this.writeName(d.rname, true);
        this.u32(d.serial >>> 0);
        this.u32(d.refresh);
        this.u32(d.retry);
        this.u32(d.expire);
        this.u32(d.minimum);
        return;
    }
  }

  /** Writes a name, pointing at an earlier copy of its longest known suffix. */
  private writeName(name: string, compress: boolean): void {
    const key = name.toLowerCase();
    if (key === '.' || key === '') {
      this.buf[this.pos++] = 0;
      return;
    }
    const labels = splitLabels(name);
    let suffix = key;
    for (let i = 0; i < labels.length; i++) {
      if (compress) {
        const at = this.names.get(suffix);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
      }
      if (this.pos < 0x3fff && !this.names.has(suffix)) this.names.set(suffix, this.pos);
      const label = labels[i]!;
      if (label.length === 0 || label.length > 63) throw new WireError(`bad label in ${name}`);
      this.buf[this.pos++] = label.length;
      for (const b of label) this.buf[this.pos++] = b;
      suffix = nextSuffix(suffix);
    }
    this.buf[this.pos++] = 0;
  }

  private charString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 255) throw new WireError('character-string longer than 255 octets');
    this.ensure(1);
    this.buf[this.pos++] = b.length;
    this.bytes(b);
  }

  /** Grows the buffer so `n` more bytes fit; records reserve room for three names up front. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos + n > 65535) throw new WireError('message too large');
    const next = Buffer.allocUnsafe(Math.min(65535, Math.max(this.buf.length * 2, this.pos + n)));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private u16(v: number): void {
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  private u32(v: number): void {
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
}

/** "a.b.c." → "b.c."; honours escaped dots. */
function nextSuffix(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x2e) return i + 1 >= name.length ? '.' : name.slice(i + 1);
  }
  return '.';
}

/** A header-and-question-only reply with `rcode` (the server's error path). */
export function errorResponse(req: Request, rcode: number): Buffer {
  return new MessageBuilder(req, rcode).finish();
}

/** FORMERR for a query whose question could not be read: header only. */
export function headerOnlyResponse(wire: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  wire.copy(out, 0, 0, 2);
  const flags = Flag.QR | (wire.readUInt16BE(2) & (0x7800 | Flag.RD)) | (rcode & 0xf);
  out.writeUInt16BE(flags, 2);
  return out;
}
